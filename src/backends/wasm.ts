import { CRFInputError, messageOf } from '../errors.js';
import type { Backend, BackendMemory, EntropyResult, KBestResult, Posteriors, Potentials, ViterbiResult } from '../backend.js';
import { WASM_RETAINED_BYTES } from '../limits.js';
import type { Packed } from '../pack.js';
import { countBlock } from './batch-blocks.js';
import { builtinWasmModule } from './wasm-source.js';

/** The kernels' exports (assembly/index.ts). Every pointer is a byte offset into `memory`. */
interface Kernels {
  memory: WebAssembly.Memory;
  OP_LOG_PARTITION: WebAssembly.Global;
  OP_VITERBI: WebAssembly.Global;
  OP_POSTERIORS: WebAssembly.Global;
  OP_KBEST: WebAssembly.Global;
  OP_ENTROPY: WebAssembly.Global;
  heapBase(): number;
  tableBytes(K: number): number;
  workBytes(op: number, T: number, K: number, k: number): number;
  setup(K: number, start: number, end: number, trans: number, tables: number): void;
  logPartition(B: number, T: number, em: number, lens: number, out: number, work: number): void;
  viterbi(B: number, T: number, em: number, lens: number, paths: number, scores: number, work: number): void;
  posteriors(B: number, T: number, em: number, lens: number, logZ: number, unary: number, counts: number, work: number): void;
  entropy(B: number, T: number, em: number, lens: number, logZ: number, ent: number, work: number): void;
  kbest(B: number, T: number, k: number, em: number, lens: number, paths: number, scores: number, work: number): void;
  mathExp(src: number, dst: number, n: number): void;
  mathLog(src: number, dst: number, n: number): void;
  simd(): number;
  logSpaceFallbacks(): number;
}

const PAGE = 65536;
/** wasm32 addresses 4 GiB at most. */
const MAX_BYTES = 65536 * PAGE;

/** Views of a whole linear memory; an offset in bytes is `offset >>> 2` in f32/i32, `offset >>> 3` in f64 (every region is 16-byte aligned). */
interface MemoryViews {
  buf: ArrayBuffer;
  f32: Float32Array;
  i32: Int32Array;
  f64: Float64Array;
}

/** n values from `from` as a plain array: JS-heap memory, which a short call allocates far faster than a typed array's. */
function plain(src: Int32Array, from: number, n: number): number[] {
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = src[from + i];
  return out;
}

/**
 * One instance of the kernels and everything derived from it. Whatever refers to an instance's linear
 * memory (views of it, the record of which potentials its tables hold) lives here and nowhere else:
 * dropping the instance then drops every reference to its memory, which a view kept elsewhere would pin.
 */
interface Live {
  k: Kernels;
  /** Views of the whole linear memory, remade when it grows (growing detaches the old buffer). */
  views: MemoryViews | null;
  /**
   * The potentials the tables were built from. The CRF hands over the same object while its parameters
   * are unchanged (parameters.ts LivePotentials), so a call with them skips `setup`. Held weakly: the
   * CRF keeps its own alive, and a worker thread's arrive as a fresh copy with every call, which must
   * not outlive it.
   */
  tablesFor: Held<Potentials> | null;
}

type Held<T> = { deref(): T | undefined };

/** A WeakRef where the engine has one; workerd has none, and no worker threads either: a plain reference there. */
const weakly: <T extends object>(x: T) => Held<T> = typeof WeakRef === 'function' ? (x) => new WeakRef(x) : (x) => ({ deref: () => x });

function viewsOf(live: Live): MemoryViews {
  const buf = live.k.memory.buffer;
  if (live.views?.buf !== buf) live.views = { buf, f32: new Float32Array(buf), i32: new Int32Array(buf), f64: new Float64Array(buf) };
  return live.views;
}

const align = (n: number) => Math.ceil(n / 16) * 16;
const STAGGER = 64 * 3;

/**
 * The WebAssembly backend: AssemblyScript kernels (assembly/) on one linear memory whose layout this
 * class owns. Each call places, from the module's heap base: the raw potentials, the kernels' tables,
 * the emissions (f32), the lengths, the outputs and the op's work area. Memory grows for the largest
 * call seen and is reused by every smaller one, up to WASM_RETAINED_BYTES: a call that needed more is
 * followed by a fresh instance (a wasm memory cannot shrink), so a one-off call's memory is not kept.
 */
export class WasmBackend implements Backend {
  readonly name = 'wasm' as const;
  readonly precision = 'float32' as const;
  readonly #module: WebAssembly.Module;
  #live: Live | null;
  #disposed = false;
  readonly #simd: boolean;
  /** Log-space fallbacks counted by instances already handed back. */
  #fallbacks = 0;
  /** How many times memory grew (tests check that repeated calls do not). */
  grows = 0;
  /** How many times the kernels were instantiated afresh to hand a large call's memory back. */
  releases = 0;

  private constructor(module: WebAssembly.Module, k: Kernels) {
    this.#module = module;
    this.#live = { k, views: null, tablesFor: null };
    this.#simd = k.simd() === 1;
  }

  static async #instantiate(mod: WebAssembly.Module): Promise<Kernels> {
    const inst = await WebAssembly.instantiate(mod, {});
    const k = inst.exports as unknown as Kernels;
    if (typeof k.entropy !== 'function' || !(k.memory instanceof WebAssembly.Memory)) {
      throw new TypeError('wasmModule: not a webcrf kernels module (exports missing)');
    }
    return k;
  }

  /**
   * @param wasmModule a compiled module of the kernels; default: this runtime's built-in one.
   * @throws WasmLoadError when no route gives the built-in kernels (its message lists each route's
   *   failure and the remedy); TypeError for a wasmModule that is not these kernels.
   */
  static async create(opts: { wasmModule?: unknown } = {}): Promise<WasmBackend> {
    const loaded = opts.wasmModule === undefined ? await builtinWasmModule() : null;
    const mod = loaded ? loaded.module : opts.wasmModule;
    if (!(mod instanceof WebAssembly.Module)) {
      throw new TypeError(`wasmModule: expected a compiled WebAssembly.Module, got ${Object.prototype.toString.call(mod)}`);
    }
    const be = new WasmBackend(mod, await WasmBackend.#instantiate(mod));
    be.source = loaded ? loaded.from : 'the wasmModule option';
    return be;
  }

  /** How the kernels were obtained: 'fetch', 'file', 'inline', 'module import' or 'the wasmModule option'. */
  source = '';

  /** The compiled kernels, which worker threads instantiate too. */
  get module(): WebAssembly.Module {
    return this.#module;
  }

  /** Whether the instantiated kernels are the SIMD build. */
  get simd(): boolean {
    return this.#simd;
  }

  /** Sequences so far whose scaled linear-space pass could lose precision and ran in log space instead. */
  get logSpaceFallbacks(): number {
    return this.#fallbacks + (this.#live ? this.#live.k.logSpaceFallbacks() : 0);
  }

  /** Current size of the linear memory in bytes: what this backend holds (0 once handed back or disposed). */
  get memoryBytes(): number {
    return this.#live ? this.#live.k.memory.buffer.byteLength : 0;
  }

  /** Runs the vectorised exp or log over `x` (length a multiple of 4): for the accuracy tests. */
  math(fn: 'exp' | 'log', x: Float32Array): Float32Array {
    if (this.#disposed || !this.#live) throw new Error('wasm backend: disposed');
    const live = this.#live;
    const { k } = live;
    const [src, dst] = this.#reserve(k, [x.length * 4, x.length * 4]);
    // The two regions overlay the potentials and tables.
    live.tablesFor = null;
    new Float32Array(k.memory.buffer, src, x.length).set(x);
    if (fn === 'exp') k.mathExp(src, dst, x.length);
    else k.mathLog(src, dst, x.length);
    return new Float32Array(k.memory.buffer, dst, x.length).slice();
  }

  /** The instance for the next call: the live one, or a fresh one after a large call gave its memory back. */
  async #ready(): Promise<void> {
    if (this.#disposed) throw new Error('wasm backend: disposed');
    if (!this.#live) {
      const k = await WasmBackend.#instantiate(this.#module);
      // Another call may have instantiated meanwhile; keep one.
      if (!this.#live && !this.#disposed) this.#live = { k, views: null, tablesFor: null };
    }
    if (this.#disposed) throw new Error('wasm backend: disposed');
  }

  /** After a call: memory beyond what is kept between calls goes back to the engine with the instance. */
  #afterCall(live: Live): void {
    if (this.#live === live && live.k.memory.buffer.byteLength > WASM_RETAINED_BYTES) {
      this.#fallbacks += live.k.logSpaceFallbacks();
      this.#live = null;
      this.releases++;
    }
  }

  /**
   * Offsets for regions of the given byte sizes (16-byte aligned), growing memory if they do not fit.
   * Sizes are float64 numbers: the whole call is checked against the 4 GiB a wasm32 memory can address
   * before anything is written.
   */
  #reserve(k: Kernels, sizes: number[]): number[] {
    const out: number[] = [];
    let at = align(k.heapBase());
    for (const s of sizes) {
      out.push(at);
      // Regions a power of two apart (K² tables at K = 128 are 64 KiB) map the rows a step reads to the
      // same cache sets; an odd number of cache lines between regions keeps them apart (6–9 % at K=128).
      at = align(at + s) + STAGGER;
    }
    const have = k.memory.buffer.byteLength;
    if (at > have) {
      const tooBig = (why: string) =>
        new CRFInputError('emissions', `a call whose WebAssembly work area fits in memory (${why}); split the batch`, `one that needs ${at} bytes`);
      if (at > MAX_BYTES) throw tooBig('a wasm32 module addresses at most 4 GiB');
      try {
        k.memory.grow(Math.ceil((at - have) / PAGE));
      } catch (e) {
        throw tooBig(`the engine refused to grow it: ${messageOf(e)}`);
      }
      this.grows++;
    }
    return out;
  }

  /**
   * Lays out one call: potentials, tables, emissions and lengths, then `outputs` and the work area of
   * `op`. Returns the offsets of the outputs and of the work area, after running `setup`.
   */
  #prepare(live: Live, p: Packed, w: Potentials, outputs: number[], op: WebAssembly.Global, topK = 0) {
    const { k } = live;
    const { B, T, K } = p;
    const n = B * T * K;
    // 16 bytes of slack after the emissions: a lane load of the last row's tail reads past K.
    const [start, end, trans, tables, em, lens, ...rest] = this.#reserve(k, [
      K * 4,
      K * 4,
      K * K * 4,
      k.tableBytes(K),
      n * 4 + 16,
      B * 4,
      ...outputs,
      k.workBytes(op.value as number, T, K, topK),
    ]);
    const { f32, i32 } = viewsOf(live);
    if (live.tablesFor?.deref() !== w) {
      live.tablesFor = null;
      f32.set(w.start, start >>> 2);
      f32.set(w.end, end >>> 2);
      f32.set(w.trans, trans >>> 2);
      k.setup(K, start, end, trans, tables);
      live.tablesFor = weakly(w);
    }
    f32.set(p.emissions.length === n ? p.emissions : p.emissions.subarray(0, n), em >>> 2);
    f32.fill(0, (em >>> 2) + n, (em >>> 2) + n + 4);
    i32.set(p.lengths, lens >>> 2);
    return { em, lens, out: rest.slice(0, outputs.length), work: rest[outputs.length] };
  }

  /**
   * One kernel call: lay the call out, run `op`'s kernel, copy its outputs out of the linear memory,
   * and hand memory beyond what is kept back.
   */
  #call<R>(
    p: Packed,
    w: Potentials,
    op: 'OP_LOG_PARTITION' | 'OP_VITERBI' | 'OP_POSTERIORS' | 'OP_KBEST' | 'OP_ENTROPY',
    outputs: number[],
    run: (k: Kernels, l: { em: number; lens: number; out: number[]; work: number }) => void,
    read: (v: MemoryViews, out: number[]) => R,
    topK = 0,
  ): Promise<R> {
    // The live instance runs the call at once, with no await before the kernel: a short call's time is
    // mostly the JavaScript around the kernel, and every await is another turn of the microtask queue.
    const live = this.#disposed ? null : this.#live;
    if (!live) return this.#ready().then(() => this.#call(p, w, op, outputs, run, read, topK));
    try {
      const layout = this.#prepare(live, p, w, outputs, live.k[op], topK);
      run(live.k, layout);
      return Promise.resolve(read(viewsOf(live), layout.out));
    } catch (e) {
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the rejection is whatever the layout or kernel threw, as an async function would reject
      return Promise.reject(e);
    } finally {
      this.#afterCall(live);
    }
  }

  logPartition(p: Packed, w: Potentials): Promise<Float64Array> {
    const { B, T } = p;
    if (B === 0) return Promise.resolve(new Float64Array(0));
    return this.#call(
      p,
      w,
      'OP_LOG_PARTITION',
      [B * 8],
      (k, l) => k.logPartition(B, T, l.em, l.lens, l.out[0], l.work),
      (v, [z]) => v.f64.slice(z >>> 3, (z >>> 3) + B),
    );
  }

  async posteriors(p: Packed, w: Potentials): Promise<Posteriors> {
    const { logZ, unary, transCounts } = await this.#posteriors(p, w, false);
    return { logZ, unary, transCounts };
  }

  /**
   * Posteriors with the transition counts of each block of {@link countBlock} sequences kept apart
   * (`[blocks, K·K]`, in block order), for a thread that runs a slice of a larger batch: the caller
   * adds them into the batch's sum in the order one thread would have.
   */
  async posteriorParts(p: Packed, w: Potentials): Promise<Posteriors & { parts: Float64Array }> {
    const r = await this.#posteriors(p, w, true);
    return { ...r, parts: r.parts! };
  }

  async #posteriors(p: Packed, w: Potentials, keepParts: boolean): Promise<Posteriors & { parts: Float64Array | null }> {
    const { B, T, K } = p;
    const block = countBlock(T, K);
    const nBlocks = Math.ceil(B / block);
    const transCounts = new Float64Array(K * K);
    const parts = keepParts ? new Float64Array(nBlocks * K * K) : null;
    if (B === 0) return Promise.resolve({ logZ: new Float64Array(0), unary: new Float32Array(0), transCounts, parts });
    const Kp = (K + 3) & ~3;
    const seq = T * K * 4;
    return this.#call(
      p,
      w,
      'OP_POSTERIORS',
      [B * 8, B * T * K * 4, Kp * Kp * 8],
      (k, l) => {
        // One kernel call per block: the kernel sums its batch's counts from zero (see batch-blocks.ts).
        for (let i = 0; i < nBlocks; i++) {
          const b0 = i * block,
            n = Math.min(block, B - b0);
          k.posteriors(n, T, l.em + b0 * seq, l.lens + b0 * 4, l.out[0] + b0 * 8, l.out[1] + b0 * seq, l.out[2], l.work);
          const padded = new Float64Array(k.memory.buffer, l.out[2], Kp * Kp);
          for (let a = 0; a < K; a++) {
            for (let c = 0; c < K; c++) {
              const v = padded[a * Kp + c];
              transCounts[a * K + c] += v;
              if (parts) parts[(i * K + a) * K + c] = v;
            }
          }
        }
      },
      (v, [z, unary]) => ({
        logZ: v.f64.slice(z >>> 3, (z >>> 3) + B),
        unary: v.f32.slice(unary >>> 2, (unary >>> 2) + B * T * K),
        transCounts,
        parts,
      }),
    );
  }

  entropy(p: Packed, w: Potentials): Promise<EntropyResult> {
    const { B, T } = p;
    if (B === 0) return Promise.resolve({ logZ: new Float64Array(0), entropy: new Float64Array(0) });
    return this.#call(
      p,
      w,
      'OP_ENTROPY',
      [B * 8, B * 8],
      (k, l) => k.entropy(B, T, l.em, l.lens, l.out[0], l.out[1], l.work),
      (v, [z, h]) => ({ logZ: v.f64.slice(z >>> 3, (z >>> 3) + B), entropy: v.f64.slice(h >>> 3, (h >>> 3) + B) }),
    );
  }

  viterbi(p: Packed, w: Potentials): Promise<ViterbiResult> {
    const { B, T } = p;
    if (B === 0) return Promise.resolve({ paths: new Int32Array(0), scores: new Float64Array(0) });
    return this.#call(
      p,
      w,
      'OP_VITERBI',
      [B * T * 4, B * 8],
      (k, l) => k.viterbi(B, T, l.em, l.lens, l.out[0], l.out[1], l.work),
      (v, [paths, scores]) => ({ paths: plain(v.i32, paths >>> 2, B * T), scores: v.f64.slice(scores >>> 3, (scores >>> 3) + B) }),
    );
  }

  kBest(p: Packed, w: Potentials, topK: number): Promise<KBestResult> {
    const { B, T } = p;
    if (B === 0) return Promise.resolve({ paths: new Int32Array(0), scores: new Float64Array(0), k: topK });
    return this.#call(
      p,
      w,
      'OP_KBEST',
      [B * topK * T * 4, B * topK * 8],
      (k, l) => k.kbest(B, T, topK, l.em, l.lens, l.out[0], l.out[1], l.work),
      (v, [paths, scores]) => ({
        paths: v.i32.slice(paths >>> 2, (paths >>> 2) + B * topK * T),
        scores: v.f64.slice(scores >>> 3, (scores >>> 3) + B * topK),
        k: topK,
      }),
      topK,
    );
  }

  memoryUsage(): BackendMemory {
    return { wasmBytes: this.memoryBytes, gpuBytes: 0 };
  }

  /** Drops the instance, and with it every reference to its linear memory (the engine frees it at its next collection). */
  dispose(): void {
    this.#disposed = true;
    this.#live = null;
  }
}
