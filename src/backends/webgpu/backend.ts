// The WebGPU backend's policy: which calls go to the GPU, the plan and the one chunk loop every op
// runs through, and the CPU fallback (device loss, out of memory, sizes the kernels cannot hold).
import type { Potentials } from '../../model/parameters.js';
import { type OpArgs, type OpName, type ResultOf, specOf } from '../../ops/index.js';
import type { Backend, BackendMemory } from '../backend.js';
import type { BackendName } from '../../api/types.js';
import { messageOf } from '../../errors.js';
import type { Packed } from '../../call/pack.js';
import { SHADERS, WGSL } from '../../generated/shaders.js';
import { BufferPool } from './buffers.js';
import { GpuContext } from './context.js';
import { WebGpuOutOfMemory, execute } from './execute.js';
import { type GpuOp, type Plan, layoutFor } from './op.js';
import { WebGpuValidationError } from './pipelines.js';
import { CRFInputError } from '../../errors.js';
import { type Gathered, checkFault, checkSource, readSource } from './gather.js';

export interface WebGpuBackendOptions {
  device: GPUDevice;
  /** The CPU backend that runs k-best, the calls below `minWork`, and everything after a device loss. */
  cpu: Backend;
  /** Calls whose B·T·K² is below this run on `cpu` (0: everything on the GPU; emissions on the GPU always stay there). */
  minWork?: number;
  /** Upper bound on any one buffer, below the device's limits (tests force chunking with it). */
  maxChunkBytes?: number;
  /** Timestamp queries around each pass, summed into `lastKernelMs` (needs 'timestamp-query'). */
  profile?: boolean;
}

const warned = new WeakSet<object>();
function warnOnce(key: object, msg: string): void {
  if (warned.has(key)) return;
  warned.add(key);
  console.warn(msg);
}

/** start | end | trans as float32 with forbidden = NEG. */
function potentialsOf(w: Potentials): Float32Array {
  const K = w.K;
  const out = new Float32Array(2 * K + K * K);
  const put = (src: Float64Array, at: number) => {
    for (let i = 0; i < src.length; i++) out[at + i] = src[i] === -Infinity ? WGSL.NEG : src[i];
  };
  put(w.start, 0);
  put(w.end, K);
  put(w.trans, 2 * K);
  return out;
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
  readonly #pool: BufferPool;
  readonly #ctx: GpuContext;
  readonly #querySet: GPUQuerySet | null;
  /** Each op's GPU program, loaded on its first GPU call. */
  readonly #programs = new Map<OpName, Promise<GpuOp<unknown, never>>>();
  #lost = false;
  #disposed = false;
  /** GPU time of the last call's passes, in ms (only with `profile` on an adapter with timestamps). */
  lastKernelMs: number | null = null;

  constructor(opts: WebGpuBackendOptions) {
    const d = opts.device;
    this.#device = d;
    this.#cpu = opts.cpu;
    this.#minWork = opts.minWork ?? 0;
    this.#limit = Math.min(d.limits.maxStorageBufferBindingSize, d.limits.maxBufferSize, opts.maxChunkBytes ?? Infinity);
    this.#pool = new BufferPool(d, this.#limit);
    this.#ctx = new GpuContext(d, this.#pool, d.limits.maxComputeWorkgroupsPerDimension);
    this.#querySet = opts.profile && d.features.has('timestamp-query') ? d.createQuerySet({ label: 'webcrf timestamps', type: 'timestamp', count: 2 }) : null;
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

  /** GPU unless lost, disposed, empty or too small for `auto` (emissions already there stay there). */
  #useGpu(p: Packed): boolean {
    if (this.#lost || this.#disposed) return false;
    if (p.B === 0) return false;
    if (!p.gpu && p.B * p.T * p.K * p.K < this.#minWork) return false;
    return true;
  }

  /**
   * `op` on the GPU where its spec has a GPU program and the call is worth it; on the CPU backend
   * otherwise (k-best, small calls under `auto`, after a device loss or out of memory).
   */
  run<N extends OpName>(op: N, p: Packed, w: Potentials, ...args: OpArgs<N>): Promise<ResultOf<N>> {
    const { gpu } = specOf(op);
    if (gpu === 'cpu' || !this.#useGpu(p)) return this.#onCpu(op, p, w, args);
    return this.#onGpu(op, gpu, p, w, args);
  }

  /** What {@link WebGpuBackend.run} hands the CPU backend with emissions already there, now (see {@link Backend.runReady}). */
  runReady<N extends OpName>(op: N, p: Packed, w: Potentials, ...args: OpArgs<N>): ResultOf<N> | undefined {
    if (p.gpu || (specOf(op).gpu !== 'cpu' && this.#useGpu(p))) return undefined;
    return this.#cpu.runReady?.(op, p, w, ...args);
  }

  /** On the CPU backend: a GPU result is only ever read back asynchronously. */
  runSync<N extends OpName>(op: N, p: Packed, w: Potentials, ...args: OpArgs<N>): ResultOf<N> {
    return this.#cpu.runSync(op, p, w, ...args);
  }

  /** The CPU backend's run; emissions still on the GPU are read back for it first (once). */
  async #onCpu<N extends OpName>(op: N, p: Packed, w: Potentials, args: OpArgs<N>): Promise<ResultOf<N>> {
    return this.#cpu.run(op, p.gpu ? await this.hostPacked(p) : p, w, ...args);
  }

  /**
   * A call whose emissions are on the GPU, with them read back once into packed order (the same T,
   * lengths and positions), every value checked as the CPU path checks them.
   */
  async hostPacked(p: Packed): Promise<Packed> {
    const src = p.gpu!;
    if (this.#lost || this.#disposed)
      throw new Error(`webcrf: the emissions are on a GPU device that is ${this.#lost ? 'lost' : 'disposed of'}; nothing can read them`);
    await checkSource(this.#device, src);
    let values: Float32Array;
    try {
      values = await readSource(this.#ctx, src, p.K);
    } catch (e) {
      if (e instanceof WebGpuValidationError) await checkSource(this.#device, src, true);
      throw e;
    }
    const emissions = new Float32Array(p.B * p.T * p.K);
    for (let b = 0; b < p.B; b++) {
      for (let s = 0; s < p.lengths[b]; s++) {
        const t = p.positions[b * p.T + s];
        const from = (src.batchFirst ? b * src.denseT + t : t * p.B + b) * p.K;
        emissions.set(values.subarray(from, from + p.K), (b * p.T + s) * p.K);
      }
    }
    return { B: p.B, T: p.T, K: p.K, lengths: p.lengths, positions: p.positions, emissions };
  }

  /** The largest emissions buffer a call may bind (a GPU input beyond it is refused), or null once the device is gone. */
  gpuBindingLimit(): number | null {
    return this.#lost || this.#disposed ? null : this.#device.limits.maxStorageBufferBindingSize;
  }

  async #onGpu<N extends OpName>(op: N, load: () => Promise<GpuOp<ResultOf<N>, never>>, p: Packed, w: Potentials, args: OpArgs<N>): Promise<ResultOf<N>> {
    let program = this.#programs.get(op) as Promise<GpuOp<ResultOf<N>, never>> | undefined;
    if (!program) this.#programs.set(op, (program = load()));
    try {
      const r = await this.#gpu(await program, p, w, args[0] as never);
      return r === null ? await this.#onCpu(op, p, w, args) : r;
    } catch (e) {
      if (e instanceof WebGpuValidationError || e instanceof CRFInputError) throw e;
      if (e instanceof WebGpuOutOfMemory) {
        warnOnce(this, `webcrf: WebGPU out of memory (${e.message}); this call runs on ${this.#cpu.name}`);
        return this.#onCpu(op, p, w, args);
      }
      // Device lost under the call (mapAsync aborted, scopes rejected): never return its numbers.
      this.#markLost(messageOf(e));
      return this.#onCpu(op, p, w, args);
    }
  }

  memoryUsage(): BackendMemory {
    const cpu = this.#cpu.memoryUsage();
    return { wasmBytes: cpu.wasmBytes, gpuBytes: this.#pool.liveBytes, cacheBytes: cpu.cacheBytes };
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#pool.dispose();
    this.#querySet?.destroy();
    this.#cpu.dispose();
  }

  /**
   * The float32 potentials, the kernel layout for K, and the sequences per chunk, so that every buffer
   * and the readback stay within the device's limits. Null, so the call runs on the CPU, where the
   * chain kernel's workgroup memory would exceed the device's limit (K > 1792 for the log and max
   * semirings, K > 768 for entropy, at the default 16 KiB), the chains are longer than the op runs on
   * the GPU (`maxT`: entropy's) or not one sequence fits.
   */
  #plan<R, A>(op: GpuOp<R, A>, p: Packed, w: Potentials): Plan | null {
    if (p.T > op.maxT) return null;
    const layout = layoutFor(p.K);
    const mem = SHADERS[op.chain].memory;
    if (mem.perTile * layout.TILE + mem.fixed > this.#device.limits.maxComputeWorkgroupStorageSize) return null;
    const potentials = potentialsOf(w);
    const fixedFloats = potentials.length + op.fixed(p.K);
    const room = Math.floor((this.#limit - 4 * fixedFloats - 256) / (4 * op.perSequence(p.T, p.K, p.gpu !== undefined)));
    const chunk = Math.max(0, Math.min(p.B, room, this.#ctx.rowsX * layout.SEQ));
    if (chunk < 1) return null;
    return { potentials, w, layout, constants: { TPS: layout.TPS, TILE: layout.TILE }, chunk };
  }

  /** The op on the GPU, chunk by chunk: one submit and one readback each (null: it cannot run there). */
  async #gpu<R, A>(op: GpuOp<R, A>, p: Packed, w: Potentials, args: A): Promise<R | null> {
    const plan = this.#plan(op, p, w);
    if (!plan) return null;
    if (p.gpu) await checkSource(this.#device, p.gpu);
    this.lastKernelMs = null;
    const run = op.begin(this.#ctx, p, plan, args);
    try {
      for (let b0 = 0; b0 < p.B; b0 += plan.chunk) {
        this.#ctx.gathered = null;
        const work = run.chunk(b0, Math.min(p.B, b0 + plan.chunk));
        // Emissions on the GPU: gathered (and checked) first, in the same pass; the check read back with the results.
        const g = this.#ctx.gathered as Gathered | null;
        this.#ctx.gathered = null;
        const programs = g ? [...g.programs, ...work.programs] : work.programs;
        const atFault = g ? work.readback.add(g.fault, 8) : -1;
        const owned = g ? [...work.owned, ...g.owned] : work.owned;
        const { data, kernelMs } = await execute(this.#device, this.#pool, this.#querySet, op.name, programs, work.readback, owned);
        if (kernelMs !== null) this.lastKernelMs = (this.lastKernelMs ?? 0) + kernelMs;
        if (g) checkFault(data, atFault, p.gpu!);
        work.read(data);
      }
      return run.result();
    } catch (e) {
      // A buffer destroyed by its owner fails only at the submit: say so rather than blame webcrf.
      if (p.gpu && e instanceof WebGpuValidationError) await checkSource(this.#device, p.gpu, true);
      throw e;
    } finally {
      run.release();
    }
  }
}
