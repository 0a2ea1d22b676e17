// What an op needs from the device to build its programs: buffers from the pool (uploaded, scratch or
// the uniform dims), the emissions as the kernels read them, and the dispatch grid's limits.
import type { Packed } from '../../call/pack.js';
import { WGSL } from '../../generated/shaders.js';
import { type BufferPool, USAGE } from './buffers.js';
import { type Gathered, gatherChunk } from './gather.js';

export class GpuContext {
  /** The gather the current chunk's emissions come from, when they are the caller's GPU buffer. */
  gathered: Gathered | null = null;

  constructor(
    readonly device: GPUDevice,
    readonly pool: BufferPool,
    /** Workgroups per grid dimension (the 2-D grids of long 1-D dispatches wrap at this). */
    readonly rowsX: number,
  ) {}

  /** The uniform block every kernel reads (shaders/common.wgsl's Dims). */
  dims(B: number, T: number, K: number, extra: { G?: number; GB?: number; accumulate?: number } = {}): GPUBuffer {
    const buf = this.pool.acquire(32, USAGE.UNIFORM | USAGE.COPY_DST, 'webcrf dims');
    this.device.queue.writeBuffer(buf, 0, new Uint32Array([B, T, K, extra.G ?? 0, extra.GB ?? 0, extra.accumulate ?? 0, this.rowsX, 0]));
    return buf;
  }

  upload(data: Float32Array | Int32Array | Uint32Array, label: string, usage = 0): GPUBuffer {
    const buf = this.pool.acquire(Math.max(4, data.byteLength), USAGE.STORAGE | USAGE.COPY_DST | usage, label);
    if (data.length) this.device.queue.writeBuffer(buf, 0, data);
    return buf;
  }

  /** A storage buffer the kernels write (COPY_SRC where it is read back). */
  scratch(bytes: number, label: string, usage = 0): GPUBuffer {
    return this.pool.acquire(Math.max(4, bytes), USAGE.STORAGE | usage, label);
  }

  /**
   * Emissions of sequences [b0, b1), uploaded as float32, the −∞ of a partial annotation as NEG: WGSL
   * implementations may assume no infinity ever occurs. Emissions already on the GPU are gathered there
   * instead (`gathered`: the backend runs the gather before the op's programs).
   */
  emissions(p: Packed, b0: number, b1: number): GPUBuffer {
    if (p.gpu) {
      this.gathered = gatherChunk(this, p, b0, b1);
      return this.gathered.packed;
    }
    const n = p.T * p.K;
    const src = p.emissions.subarray(b0 * n, b1 * n);
    let data: Float32Array;
    if (!p.forbidden) data = src instanceof Float32Array ? src : Float32Array.from(src);
    else {
      data = Float32Array.from(src);
      for (let i = 0; i < data.length; i++) if (data[i] === -Infinity) data[i] = WGSL.NEG;
    }
    return this.upload(data, 'webcrf emissions');
  }

  /** A 2-D grid of at least n workgroups (x ≤ the per-dimension limit; kernels flatten it). */
  grid(n: number): [number, number] {
    return n <= this.rowsX ? [Math.max(1, n), 1] : [this.rowsX, Math.ceil(n / this.rowsX)];
  }
}
