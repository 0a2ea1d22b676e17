import type { Backend, BackendName, EntropyResult, KBestResult, MemoryUsage, Posteriors, Potentials, ViterbiResult } from '../backend.js';
import type { Packed } from '../pack.js';
import { SHADERS, type ShaderName } from './webgpu-shaders.generated.js';

// GPUBufferUsage / GPUMapMode values, spelled out so the backend also runs where the caller handed in
// a device without installing the WebGPU globals (Node's `webgpu` package leaves that to the caller).
const USAGE = { MAP_READ: 1, COPY_SRC: 4, COPY_DST: 8, UNIFORM: 64, STORAGE: 128, QUERY_RESOLVE: 512 } as const;
const MAP_READ = 1;

/**
 * Forbidden scores on the GPU (WGSL has no usable -Infinity); must match shaders/common.wgsl. Inputs
 * are within ±1e20 (MAX_MAGNITUDE, checked by the shared layer) and the kernels normalise every step,
 * so real scores stay ten orders of magnitude above THRESH.
 */
const NEG = -1e30;
const THRESH = -1e29;
const WG = 256;
/**
 * Workgroup memory of the chain kernels per K tile: rows of running scores (two, double-buffered, per
 * row the semiring keeps) and the size of its per-lane accumulator in the final reduction.
 */
const CHAIN_MEMORY = {
  'chain.partition': { rows: 1, accBytes: 8 },
  'chain.fb': { rows: 1, accBytes: 8 },
  'chain.viterbi': { rows: 1, accBytes: 8 },
  'chain.entropy': { rows: 2, accBytes: 12 },
} as const;
/** Target size (floats) of the pairs kernel's per-group partial counts. */
const PARTIAL_FLOATS = 1 << 20;

/**
 * Where `auto` hands a call to a (hardware) GPU: B·T·K², the pair operations of one forward pass, at or
 * above this. Chosen as the size at which the wasm kernels' time reaches a GPU call's fixed cost:
 * bench/webgpu.js measured wasm logPartition at 0.75 ms for 2^22 and 0.87 ms for 2^23 pair operations
 * (posteriors about 3x that), and a WebGPU submit + mapAsync round trip costs about 1 ms in Chrome (the
 * SwiftShader lines show 1.8 ms of wall time beyond the kernel; a hardware GPU's round trip was not
 * measurable here, there is none). Override per instance with the `webgpuMinWork` option.
 */
export const AUTO_MIN_WORK = 1 << 23;

export interface WebGpuBackendOptions {
  device: GPUDevice;
  /** The CPU backend that runs k-best, the calls below `minWork`, and everything after a device loss. */
  cpu: Backend;
  /** Calls whose B·T·K² is below this run on `cpu` (0: everything on the GPU). */
  minWork?: number;
  /** Upper bound on any one buffer, below the device's limits (tests force chunking with it). */
  maxChunkBytes?: number;
  /** Timestamp queries around each pass, summed into `lastKernelMs` (needs 'timestamp-query'). */
  profile?: boolean;
}

/** A validation error from the GPU: a bug in this backend, reported loudly instead of falling back. */
export class WebGpuValidationError extends Error {}
class WebGpuOutOfMemory extends Error {}

/** One compute kernel launch: what to run, how it is cached, how big, on which buffers. */
interface Program {
  name: string;
  shader: ShaderName;
  /** Pipeline-overridable constants (the workgroup layout). */
  constants: Record<string, number>;
  /** Pipeline cache key: shader variant + constants. */
  key: string;
  dispatch: [number, number];
  bindings: GPUBuffer[];
}

/** Lanes per sequence, tags per lane, sequences per workgroup (see shaders/chain.wgsl). */
function layoutFor(K: number) {
  let tps = 1;
  while (tps < K && tps < WG) tps *= 2;
  return { TPS: tps, TILE: Math.ceil(K / tps), SEQ: WG / tps };
}

/**
 * What is wrong with a would-be GPUDevice for this backend (null: nothing): every member it uses must
 * be there, so that a fake or foreign object is refused when the CRF is created rather than failing with
 * a TypeError in the middle of a call.
 */
export function deviceProblem(d: unknown): string | null {
  try {
    if (d === null || typeof d !== 'object') return 'not an object';
    const dev = d as Record<string, unknown>;
    for (const f of ['createBuffer', 'createShaderModule', 'createComputePipeline', 'createBindGroup', 'createCommandEncoder', 'pushErrorScope', 'popErrorScope']) {
      if (typeof dev[f] !== 'function') return `no method ${f}`;
    }
    const q = dev.queue as Record<string, unknown> | null | undefined;
    if (!q || typeof q.writeBuffer !== 'function' || typeof q.submit !== 'function') return 'no queue with writeBuffer and submit';
    const lim = dev.limits as Record<string, unknown> | null | undefined;
    for (const l of ['maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupsPerDimension', 'maxComputeWorkgroupStorageSize']) {
      if (!lim || typeof lim[l] !== 'number' || !((lim[l] as number) > 0)) return `no limits.${l}`;
    }
    const features = dev.features as { has?: unknown } | null | undefined;
    if (!features || typeof features.has !== 'function') return 'no features set';
    const lost = dev.lost as { then?: unknown } | null | undefined;
    if (!lost || typeof lost.then !== 'function') return 'no lost promise';
    return null;
  } catch {
    return 'members that cannot be read';
  }
}

/** A software adapter: the CPU kernels beat it, so `auto` never picks it. */
export function isSoftwareAdapter(device: GPUDevice): boolean {
  const info = (device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  return info?.architecture === 'swiftshader' || /swiftshader|llvmpipe|lavapipe|warp/i.test(`${info?.description ?? ''} ${info?.device ?? ''}`);
}

function program(name: string, shader: ShaderName, constants: Record<string, number>, dispatch: [number, number], bindings: GPUBuffer[]): Program {
  const key = `${shader}|${Object.entries(constants).map(([k, v]) => `${k}=${v}`).join(',')}`;
  return { name, shader, constants, key, dispatch, bindings };
}

/** Shader modules and pipelines per device, shared by every backend instance on that device. */
const pipelineCaches = new WeakMap<GPUDevice, Map<string, Promise<GPUComputePipeline>>>();

function pipelineFor(device: GPUDevice, p: Program): Promise<GPUComputePipeline> {
  let cache = pipelineCaches.get(device);
  if (!cache) pipelineCaches.set(device, (cache = new Map()));
  const modKey = `module|${p.shader}`;
  let mod = cache.get(modKey) as unknown as Promise<GPUShaderModule> | undefined;
  if (!mod) {
    mod = (async () => {
      const m = device.createShaderModule({ label: `webcrf ${p.shader}`, code: SHADERS[p.shader] });
      // Waiting for the compilation before building pipelines from it also sidesteps a race in Dawn's
      // Node binding (a pipeline made while the module is still compiling can crash the process).
      const info = await m.getCompilationInfo();
      const errors = info.messages.filter((x) => x.type === 'error');
      if (errors.length) throw new WebGpuValidationError(`webcrf ${p.shader}: ${errors.map((x) => `${x.lineNum}:${x.linePos} ${x.message}`).join('; ')}`);
      return m;
    })();
    cache.set(modKey, mod as unknown as Promise<GPUComputePipeline>);
    mod.catch(() => cache.delete(modKey));
  }
  let pipe = cache.get(p.key);
  if (!pipe) {
    // createComputePipelineAsync never settles in Dawn's Node binding (0.6); the synchronous call after
    // the module compiled costs the same once and the result is cached.
    pipe = mod.then((module) => device.createComputePipeline({
      label: `webcrf ${p.key}`, layout: 'auto', compute: { module, entryPoint: 'main', constants: p.constants },
    }));
    cache.set(p.key, pipe);
    pipe.catch(() => cache.delete(p.key));
  }
  return pipe;
}

/**
 * GPU buffers keyed by (rounded size, usage). A buffer goes back to the pool once the commands that
 * use it are submitted: later users write to it through the same queue, so they are ordered after.
 * Mapped (staging) buffers go back after they are unmapped.
 */
class BufferPool {
  #free = new Map<string, GPUBuffer[]>();
  #disposed = false;
  /** Bytes of every buffer created and not yet destroyed, pooled or in use. */
  liveBytes = 0;
  constructor(private readonly device: GPUDevice, private readonly maxBytes: number) {}

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

/** Copies of GPU buffers into one mappable buffer, read back with a single mapAsync. */
class Readback {
  regions: { src: GPUBuffer; at: number; bytes: number }[] = [];
  size = 0;
  add(src: GPUBuffer, bytes: number): number {
    const at = this.size;
    this.regions.push({ src, at, bytes });
    this.size += Math.ceil(bytes / 4) * 4;
    return at;
  }
}

let defaultDevice: Promise<GPUDevice | null> | null = null;

/**
 * One device per page/process from `navigator.gpu`, shared by every instance (pipelines are cached per
 * device); requested again if it is lost. Null where there is no adapter.
 */
export function navigatorDevice(): Promise<GPUDevice | null> {
  const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (!gpu) return Promise.resolve(null);
  if (!defaultDevice) {
    defaultDevice = (async () => {
      const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
      if (!adapter) return null;
      const features: GPUFeatureName[] = adapter.features.has('timestamp-query') ? ['timestamp-query'] : [];
      const device = await adapter.requestDevice({
        label: 'webcrf',
        requiredFeatures: features,
        requiredLimits: {
          maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
          maxBufferSize: adapter.limits.maxBufferSize,
          // More workgroup memory lets the chain kernels hold more tags on the GPU (K up to ~3.5k at 32 KiB).
          maxComputeWorkgroupStorageSize: adapter.limits.maxComputeWorkgroupStorageSize,
        },
      });
      void device.lost.then(() => {
        defaultDevice = null;
      });
      return device;
    })().catch(() => null);
    const mine = defaultDevice;
    void mine.then((d) => {
      if (!d && defaultDevice === mine) defaultDevice = null;
    });
  }
  return defaultDevice;
}

const warned = new WeakSet<object>();
function warnOnce(key: object, msg: string): void {
  if (warned.has(key)) return;
  warned.add(key);
  console.warn(msg);
}

/**
 * The WGSL kernels. Every op is one submit and one readback per chunk (a chunk is the whole batch
 * unless it exceeds the device's buffer limits). After a device loss every call, the one in flight
 * included, runs on the CPU backend and `name` reports that backend.
 */
export class WebGpuBackend implements Backend {
  readonly precision = 'float32' as const;
  readonly #device: GPUDevice;
  readonly #cpu: Backend;
  readonly #minWork: number;
  readonly #limit: number;
  readonly #rowsX: number;
  readonly #pool: BufferPool;
  readonly #querySet: GPUQuerySet | null;
  #lost = false;
  #disposed = false;
  /** GPU time of the last call's passes, in ms (only with `profile` on an adapter with timestamps). */
  lastKernelMs: number | null = null;
  /** Chunks (submits) the last GPU call was split into. */
  lastChunks = 0;

  constructor(opts: WebGpuBackendOptions) {
    const d = opts.device;
    this.#device = d;
    this.#cpu = opts.cpu;
    this.#minWork = opts.minWork ?? 0;
    this.#limit = Math.min(d.limits.maxStorageBufferBindingSize, d.limits.maxBufferSize, opts.maxChunkBytes ?? Infinity);
    this.#rowsX = d.limits.maxComputeWorkgroupsPerDimension;
    this.#pool = new BufferPool(d, this.#limit);
    this.#querySet = opts.profile && d.features.has('timestamp-query')
      ? d.createQuerySet({ label: 'webcrf timestamps', type: 'timestamp', count: 2 })
      : null;
    void d.lost.then((info) => {
      if (this.#disposed) return;
      this.#markLost(`${info.reason}: ${info.message}`);
    });
  }

  get name(): BackendName {
    return this.#lost ? this.#cpu.name : 'webgpu';
  }

  #markLost(why: string): void {
    if (this.#lost) return;
    this.#lost = true;
    console.warn(`webcrf: WebGPU device lost (${why}); running on ${this.#cpu.name} from now on`);
  }

  /** GPU unless lost, disposed, empty or too small for `auto`. */
  #useGpu(p: Packed): boolean {
    if (this.#lost || this.#disposed) return false;
    if (p.B === 0) return false;
    if (p.B * p.T * p.K * p.K < this.#minWork) return false;
    return true;
  }

  async #run<R>(p: Packed, gpu: () => Promise<R | null>, cpu: () => Promise<R>): Promise<R> {
    if (!this.#useGpu(p)) return cpu();
    try {
      const r = await gpu();
      return r === null ? cpu() : r;
    } catch (e) {
      if (e instanceof WebGpuValidationError) throw e;
      if (e instanceof WebGpuOutOfMemory) {
        warnOnce(this, `webcrf: WebGPU out of memory (${e.message}); this call runs on ${this.#cpu.name}`);
        return cpu();
      }
      // Device lost under the call (mapAsync aborted, scopes rejected): never return its numbers.
      this.#markLost(e instanceof Error ? e.message : String(e));
      return cpu();
    }
  }

  logPartition(p: Packed, w: Potentials): Promise<Float64Array> {
    return this.#run(p, () => this.#logPartition(p, w), () => this.#cpu.logPartition(p, w));
  }

  posteriors(p: Packed, w: Potentials): Promise<Posteriors> {
    return this.#run(p, () => this.#posteriors(p, w), () => this.#cpu.posteriors(p, w));
  }

  viterbi(p: Packed, w: Potentials): Promise<ViterbiResult> {
    return this.#run(p, () => this.#viterbi(p, w), () => this.#cpu.viterbi(p, w));
  }

  entropy(p: Packed, w: Potentials): Promise<EntropyResult> {
    return this.#run(p, () => this.#entropy(p, w), () => this.#cpu.entropy(p, w));
  }

  /** k-best lists run on the CPU backend (wasm where it loads). */
  kBest(p: Packed, w: Potentials, k: number): Promise<KBestResult> {
    return this.#cpu.kBest(p, w, k);
  }

  memoryUsage(): MemoryUsage {
    return { wasmBytes: this.#cpu.memoryUsage?.().wasmBytes ?? 0, gpuBytes: this.#pool.liveBytes };
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#pool.dispose();
    this.#querySet?.destroy();
    this.#cpu.dispose();
  }

  // ---- helpers -------------------------------------------------------------------------------------

  /** start | end | trans as float32 with forbidden = NEG. */
  #potentials(w: Potentials): Float32Array {
    const K = w.K;
    const out = new Float32Array(2 * K + K * K);
    const put = (src: Float64Array, at: number) => {
      for (let i = 0; i < src.length; i++) out[at + i] = src[i] === -Infinity ? NEG : src[i];
    };
    put(w.start, 0);
    put(w.end, K);
    put(w.trans, 2 * K);
    return out;
  }

  /**
   * Emissions of sequences [b0, b1) as float32 (a view when they are float32 already), the −∞ of a
   * partial annotation as NEG: WGSL implementations may assume no infinity ever occurs.
   */
  #emissions(p: Packed, b0: number, b1: number): Float32Array {
    const n = p.T * p.K;
    const src = p.emissions.subarray(b0 * n, b1 * n);
    if (!p.forbidden) return src instanceof Float32Array ? src : Float32Array.from(src);
    const out = Float32Array.from(src);
    for (let i = 0; i < out.length; i++) if (out[i] === -Infinity) out[i] = NEG;
    return out;
  }

  /** Sequences per chunk: every buffer (and the readback) stays within the device's limits. */
  #chunk(p: Packed, perSeqFloats: number, fixedFloats: number, seqPerGroup: number): number {
    const room = Math.floor((this.#limit - 4 * fixedFloats - 256) / (4 * perSeqFloats));
    return Math.max(0, Math.min(p.B, room, this.#rowsX * seqPerGroup));
  }

  #dims(B: number, T: number, K: number, extra: { G?: number; GB?: number; accumulate?: number } = {}): GPUBuffer {
    const buf = this.#pool.acquire(32, USAGE.UNIFORM | USAGE.COPY_DST, 'webcrf dims');
    this.#device.queue.writeBuffer(buf, 0, new Uint32Array([B, T, K, extra.G ?? 0, extra.GB ?? 0, extra.accumulate ?? 0, this.#rowsX, 0]));
    return buf;
  }

  #upload(data: Float32Array | Int32Array | Uint32Array, label: string, usage = 0): GPUBuffer {
    const buf = this.#pool.acquire(Math.max(4, data.byteLength), USAGE.STORAGE | USAGE.COPY_DST | usage, label);
    if (data.length) this.#device.queue.writeBuffer(buf, 0, data);
    return buf;
  }

  #scratch(bytes: number, label: string, usage = 0): GPUBuffer {
    return this.#pool.acquire(Math.max(4, bytes), USAGE.STORAGE | usage, label);
  }

  /**
   * What every op sets up first: the float32 potentials, the kernel layout for K, and the sequences per
   * chunk (`perSeqFloats` per sequence, at least the floats each sequence adds to the largest of the
   * op's buffers and to its readback; the potentials and `fixedFloats` once). Null, so the call runs
   * on the CPU, where the chain kernel's workgroup memory would exceed the device's limit or not one
   * sequence fits; otherwise the call's lastKernelMs and lastChunks are reset.
   */
  #plan(p: Packed, w: Potentials, chain: keyof typeof CHAIN_MEMORY, perSeqFloats: number, fixedFloats = 0) {
    const lay = layoutFor(p.K);
    // The running scores (2·WG·TILE floats per row kept) and the per-lane accumulators: past the limit
    // (K > 1792 for the log and max semirings, K > 768 for entropy, at the default 16 KiB) the
    // pipeline would be invalid.
    const mem = CHAIN_MEMORY[chain];
    if (4 * 2 * WG * lay.TILE * mem.rows + WG * mem.accBytes > this.#device.limits.maxComputeWorkgroupStorageSize) return null;
    const pot = this.#potentials(w);
    const Bc = this.#chunk(p, perSeqFloats, pot.length + fixedFloats, lay.SEQ);
    if (Bc < 1) return null;
    this.lastKernelMs = null;
    this.lastChunks = Math.ceil(p.B / Bc);
    return { pot, lay, consts: { TPS: lay.TPS, TILE: lay.TILE }, Bc };
  }

  /**
   * What every chain kernel binds first for sequences [b0, b1): dims, emissions, lengths, potentials,
   * the scores it writes and the per-row shifts (E, c) it took out of them.
   */
  #chainInputs(p: Packed, b0: number, b1: number, pot: Float32Array) {
    const B = b1 - b0;
    return {
      dims: this.#dims(B, p.T, p.K),
      em: this.#upload(this.#emissions(p, b0, b1), 'webcrf emissions'),
      len: this.#upload(p.lengths.subarray(b0, b1), 'webcrf lengths'),
      pot: this.#upload(pot, 'webcrf potentials'),
      scores: this.#scratch(4 * B, 'webcrf scores', USAGE.COPY_SRC),
      norms: this.#scratch(4 * B * p.T * 2, 'webcrf row shifts', USAGE.COPY_SRC),
    };
  }

  /**
   * Sequence scores from a chain kernel: its relative float32 result plus every forward row's shifts,
   * summed in float64 (a float32 sum of T shifts of 1e4 would be off by tenths); -Infinity below THRESH.
   */
  #addShifts(out: Float64Array, b0: number, z: Float32Array, norms: Float32Array, p: Packed): void {
    for (let b = 0; b < z.length; b++) {
      if (z[b] < THRESH) {
        out[b0 + b] = -Infinity;
        continue;
      }
      let s: number = z[b];
      const len = p.lengths[b0 + b];
      for (let t = 0; t < len; t++) s += norms[(b * p.T + t) * 2] + norms[(b * p.T + t) * 2 + 1];
      out[b0 + b] = s;
    }
  }

  /** A 2-D grid of at least n workgroups (x ≤ the per-dimension limit; kernels flatten it). */
  #grid(n: number): [number, number] {
    return n <= this.#rowsX ? [Math.max(1, n), 1] : [this.#rowsX, Math.ceil(n / this.#rowsX)];
  }

  /**
   * Encodes the programs in one compute pass, copies the readback regions into one staging buffer,
   * submits, hands the other buffers back to the pool, and maps the staging buffer once. Everything
   * up to the submit is synchronous, so concurrent calls cannot interleave their error scopes.
   */
  async #execute(label: string, programs: Program[], rb: Readback, owned: GPUBuffer[]): Promise<ArrayBuffer> {
    const device = this.#device;
    const pipelines = await Promise.all(programs.map((p) => pipelineFor(device, p)));
    device.pushErrorScope('out-of-memory');
    device.pushErrorScope('validation');
    const ts = this.#querySet;
    const stamp = ts ? 16 : 0;
    const staging = this.#pool.acquire(stamp + rb.size, USAGE.MAP_READ | USAGE.COPY_DST, `webcrf ${label} readback`);
    let resolve: GPUBuffer | null = null;
    const enc = device.createCommandEncoder({ label: `webcrf ${label}` });
    const pass = enc.beginComputePass({
      label: `webcrf ${label}`,
      ...(ts ? { timestampWrites: { querySet: ts, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } } : {}),
    });
    programs.forEach((p, i) => {
      const layout = pipelines[i].getBindGroupLayout(0);
      const group = device.createBindGroup({
        label: `webcrf ${p.name}`,
        layout,
        entries: p.bindings.map((buffer, binding) => ({ binding, resource: { buffer } })),
      });
      pass.setPipeline(pipelines[i]);
      pass.setBindGroup(0, group);
      pass.dispatchWorkgroups(p.dispatch[0], p.dispatch[1]);
    });
    pass.end();
    if (ts) {
      resolve = this.#pool.acquire(16, USAGE.QUERY_RESOLVE | USAGE.COPY_SRC, 'webcrf timestamps');
      enc.resolveQuerySet(ts, 0, 2, resolve, 0);
      enc.copyBufferToBuffer(resolve, 0, staging, 0, 16);
    }
    for (const r of rb.regions) if (r.bytes > 0) enc.copyBufferToBuffer(r.src, 0, staging, stamp + r.at, Math.ceil(r.bytes / 4) * 4);
    device.queue.submit([enc.finish()]);
    const validation = device.popErrorScope();
    const oom = device.popErrorScope();
    for (const b of owned) this.#pool.release(b);
    if (resolve) this.#pool.release(resolve);
    try {
      const [v, o] = await Promise.all([validation, oom, staging.mapAsync(MAP_READ)]);
      if (v) throw new WebGpuValidationError(`webcrf ${label}: ${v.message}`);
      if (o) throw new WebGpuOutOfMemory(`webcrf ${label}: ${o.message}`);
      const out = staging.getMappedRange().slice(0);
      staging.unmap();
      if (ts) {
        const t = new BigUint64Array(out, 0, 2);
        this.lastKernelMs = (this.lastKernelMs ?? 0) + Number(t[1] - t[0]) / 1e6;
      }
      this.#pool.release(staging);
      return stamp ? out.slice(stamp) : out;
    } catch (e) {
      // A staging buffer that may still be pending or mapped is not handed back.
      staging.destroy();
      throw e;
    }
  }

  // ---- ops -----------------------------------------------------------------------------------------

  async #logPartition(p: Packed, w: Potentials): Promise<Float64Array | null> {
    const { T, K } = p;
    const plan = this.#plan(p, w, 'chain.partition', T * K + 2 * T + 2);
    if (!plan) return null;
    const { pot, lay, consts, Bc } = plan;
    const out = new Float64Array(p.B);
    for (let b0 = 0; b0 < p.B; b0 += Bc) {
      const b1 = Math.min(p.B, b0 + Bc), B = b1 - b0;
      const bufs = this.#chainInputs(p, b0, b1, pot);
      const rb = new Readback();
      const atZ = rb.add(bufs.scores, 4 * B);
      const atN = rb.add(bufs.norms, 4 * B * T * 2);
      const progs = [program('logPartition', 'chain.partition', consts, [Math.ceil(B / lay.SEQ), 1],
        [bufs.dims, bufs.em, bufs.len, bufs.pot, bufs.scores, bufs.norms])];
      const data = await this.#execute('logPartition', progs, rb, Object.values(bufs));
      this.#addShifts(out, b0, new Float32Array(data, atZ, B), new Float32Array(data, atN, B * T * 2), p);
    }
    return out;
  }

  async #entropy(p: Packed, w: Potentials): Promise<EntropyResult | null> {
    const { T, K } = p;
    const plan = this.#plan(p, w, 'chain.entropy', T * K + 2 * T + 3);
    if (!plan) return null;
    const { pot, lay, consts, Bc } = plan;
    const logZ = new Float64Array(p.B);
    const entropy = new Float64Array(p.B);
    for (let b0 = 0; b0 < p.B; b0 += Bc) {
      const b1 = Math.min(p.B, b0 + Bc), B = b1 - b0;
      const bufs = { ...this.#chainInputs(p, b0, b1, pot), h: this.#scratch(4 * B, 'webcrf entropy', USAGE.COPY_SRC) };
      const rb = new Readback();
      const atZ = rb.add(bufs.scores, 4 * B);
      const atN = rb.add(bufs.norms, 4 * B * T * 2);
      const atH = rb.add(bufs.h, 4 * B);
      const progs = [program('entropy', 'chain.entropy', consts, [Math.ceil(B / lay.SEQ), 1],
        [bufs.dims, bufs.em, bufs.len, bufs.pot, bufs.scores, bufs.norms, bufs.h])];
      const data = await this.#execute('entropy', progs, rb, Object.values(bufs));
      this.#addShifts(logZ, b0, new Float32Array(data, atZ, B), new Float32Array(data, atN, B * T * 2), p);
      entropy.set(new Float32Array(data, atH, B), b0);
    }
    return { logZ, entropy };
  }

  async #viterbi(p: Packed, w: Potentials): Promise<ViterbiResult | null> {
    const { T, K } = p;
    const plan = this.#plan(p, w, 'chain.viterbi', T * K + 3 * T + 2);
    if (!plan) return null;
    const { pot, lay, consts, Bc } = plan;
    const paths = new Int32Array(p.B * T);
    const scores = new Float64Array(p.B);
    for (let b0 = 0; b0 < p.B; b0 += Bc) {
      const b1 = Math.min(p.B, b0 + Bc), B = b1 - b0;
      const bufs = {
        ...this.#chainInputs(p, b0, b1, pot),
        back: this.#scratch(4 * B * T * K, 'webcrf backpointers'),
        path: this.#scratch(4 * B * T, 'webcrf paths', USAGE.COPY_SRC),
      };
      const rb = new Readback();
      const atPath = rb.add(bufs.path, 4 * B * T);
      const atZ = rb.add(bufs.scores, 4 * B);
      const atN = rb.add(bufs.norms, 4 * B * T * 2);
      const progs = [program('viterbi', 'chain.viterbi', consts, [Math.ceil(B / lay.SEQ), 1],
        [bufs.dims, bufs.em, bufs.len, bufs.pot, bufs.scores, bufs.norms, bufs.back, bufs.path])];
      const data = await this.#execute('viterbi', progs, rb, Object.values(bufs));
      const got = new Int32Array(data, atPath, B * T);
      // Positions past a length were never written by the kernel: keep the zeros of `paths`.
      for (let b = 0; b < B; b++) paths.set(got.subarray(b * T, b * T + p.lengths[b0 + b]), (b0 + b) * T);
      this.#addShifts(scores, b0, new Float32Array(data, atZ, B), new Float32Array(data, atN, B * T * 2), p);
    }
    return { paths, scores };
  }

  async #posteriors(p: Packed, w: Potentials): Promise<Posteriors | null> {
    const { T, K } = p;
    const KK = K * K;
    const groupFloats = Math.max(1, Math.floor(PARTIAL_FLOATS / KK));
    const plan = this.#plan(p, w, 'chain.fb', T * K + 4 * T + 2, KK * 2);
    if (!plan) return null;
    const { pot, lay, consts, Bc } = plan;
    const logZ = new Float64Array(p.B);
    const unary = new Float32Array(p.B * T * K);
    const transCounts = new Float64Array(KK);
    const pots = this.#upload(pot, 'webcrf potentials');
    const counts = this.#scratch(4 * KK, 'webcrf transition counts', USAGE.COPY_SRC);
    try {
      for (let b0 = 0; b0 < p.B; b0 += Bc) {
        const b1 = Math.min(p.B, b0 + Bc), B = b1 - b0;
        const last = b1 === p.B;
        let G = Math.min(B, groupFloats, this.#rowsX);
        const GB = Math.ceil(B / G);
        G = Math.ceil(B / GB);
        const bufs = {
          dims: this.#dims(B, T, K, { G, GB, accumulate: b0 > 0 ? 1 : 0 }),
          em: this.#upload(this.#emissions(p, b0, b1), 'webcrf emissions'),
          len: this.#upload(p.lengths.subarray(b0, b1), 'webcrf lengths'),
          scores: this.#scratch(4 * B, 'webcrf scores', USAGE.COPY_SRC),
          norms: this.#scratch(4 * 2 * B * T * 2, 'webcrf row shifts', USAGE.COPY_SRC),
          alpha: this.#scratch(4 * B * T * K, 'webcrf alpha → marginals', USAGE.COPY_SRC),
          beta: this.#scratch(4 * B * T * K, 'webcrf beta'),
          partialCounts: this.#scratch(4 * G * KK, 'webcrf partial counts'),
        };
        const rb = new Readback();
        const atU = rb.add(bufs.alpha, 4 * B * T * K);
        const atZ = rb.add(bufs.scores, 4 * B);
        const atN = rb.add(bufs.norms, 4 * B * T * 2);
        const atC = last ? rb.add(counts, 4 * KK) : -1;
        // In order: a, L = b - e and the row shifts of both directions; the marginals (in place over a);
        // pair counts (from the marginals, L, e and the backward shifts); the batch reduction.
        const progs = [
          program('forward-backward', 'chain.fb', consts, [Math.ceil(B / lay.SEQ), 2],
            [bufs.dims, bufs.em, bufs.len, pots, bufs.scores, bufs.norms, bufs.alpha, bufs.beta]),
          program('marginals', 'unary', consts, this.#grid(Math.ceil((B * T) / lay.SEQ)),
            [bufs.dims, bufs.len, bufs.alpha, bufs.beta]),
          program('pairs', 'pairs', {}, [Math.ceil(KK / WG), G],
            [bufs.dims, bufs.len, pots, bufs.alpha, bufs.beta, bufs.em, bufs.norms, bufs.partialCounts]),
          program('reduce', 'reduce', {}, this.#grid(Math.ceil(KK / WG)),
            [bufs.dims, bufs.partialCounts, counts]),
        ];
        const data = await this.#execute('posteriors', progs, rb, Object.values(bufs));
        unary.set(new Float32Array(data, atU, B * T * K), b0 * T * K);
        this.#addShifts(logZ, b0, new Float32Array(data, atZ, B), new Float32Array(data, atN, B * T * 2), p);
        if (last) transCounts.set(new Float32Array(data, atC, KK));
      }
    } finally {
      this.#pool.release(pots);
      this.#pool.release(counts);
    }
    return { logZ, unary, transCounts };
  }
}
