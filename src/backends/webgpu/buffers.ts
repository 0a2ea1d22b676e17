// GPU buffers, pooled by size class so that a steady mix of calls allocates nothing.

/**
 * GPUBufferUsage / GPUMapMode values, spelled out so the backend also runs where the caller handed in
 * a device without installing the WebGPU globals (Node's `webgpu` package leaves that to the caller).
 */
export const USAGE = { MAP_READ: 1, COPY_SRC: 4, COPY_DST: 8, UNIFORM: 64, STORAGE: 128, QUERY_RESOLVE: 512 } as const;
export const MAP_READ = 1;

/**
 * GPU buffers keyed by (rounded size, usage). A buffer goes back to the pool once the commands that
 * use it are submitted: later users write to it through the same queue, so they are ordered after.
 * Mapped (staging) buffers go back after they are unmapped.
 */
export class BufferPool {
  #free = new Map<string, GPUBuffer[]>();
  #disposed = false;
  /** Bytes of every buffer created and not yet destroyed, pooled or in use. */
  liveBytes = 0;
  constructor(
    private readonly device: GPUDevice,
    private readonly maxBytes: number,
  ) {}

  /**
   * Power-of-two size classes: few enough that a varied call mix soon finds every class it needs in
   * the pool (memory then stays flat), at the cost of at most 2× the bytes a call needs.
   */
  #bucket(size: number): number {
    let pow = 256;
    while (pow < size) pow *= 2;
    return Math.min(pow, Math.max(this.maxBytes, Math.ceil(size / 4) * 4));
  }

  acquire(size: number, usage: number, label: string): GPUBuffer {
    const bytes = this.#bucket(size);
    const list = this.#free.get(`${bytes}|${usage}`);
    let buf = list?.pop();
    if (!buf) {
      buf = this.device.createBuffer({ size: bytes, usage, label });
      this.liveBytes += bytes;
    }
    buf.label = label;
    return buf;
  }

  #destroy(buf: GPUBuffer): void {
    this.liveBytes -= buf.size;
    buf.destroy();
  }

  release(buf: GPUBuffer): void {
    if (this.#disposed) {
      this.#destroy(buf);
      return;
    }
    const key = `${buf.size}|${buf.usage}`;
    const list = this.#free.get(key) ?? [];
    if (list.length >= 4) {
      this.#destroy(buf);
      return;
    }
    list.push(buf);
    this.#free.set(key, list);
  }

  dispose(): void {
    this.#disposed = true;
    for (const list of this.#free.values()) for (const b of list) this.#destroy(b);
    this.#free.clear();
  }
}
