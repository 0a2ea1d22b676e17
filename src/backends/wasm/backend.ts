import { CRFInputError, indexPath, messageOf, rangeError } from '../../errors.js';
import type { Packed } from '../../call/pack.js';
import { firstOutOfRange, MAX_MAGNITUDE_BITS, WASM_RETAINED_BYTES } from '../../limits.js';
import type { Potentials } from '../../model/parameters.js';
import { OPS, type OpArgs, type OpName, type PartOf, type ResultOf, specOf } from '../../ops/index.js';
import type { KernelCall, KernelFn } from '../../ops/op.js';
import type { Backend, BackendMemory } from '../backend.js';
import { type Kernels, type MemoryViews, exportOf, kernelsOf } from './kernels.js';
import { builtinWasmModule } from './source.js';

const PAGE = 65536;
/** wasm32 addresses 4 GiB at most. */
const MAX_BYTES = 65536 * PAGE;

const align = (n: number) => Math.ceil(n / 16) * 16;
/**
 * Bytes between regions: an odd number of cache lines, so that regions a power of two apart (the K²
 * tables at K = 128 are 64 KiB) do not map the rows a step reads to the same cache sets.
 */
const STAGGER = 64 * 3;

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
   * are unchanged (model/parameters.ts LivePotentials), so a call with them skips `setup`. Held weakly:
   * the CRF keeps its own alive, and a worker thread's arrive as a fresh copy with every call, which
   * must not outlive it.
   */
  tablesFor: Held<Potentials> | null;
  /** Each op's kernel and work-area size exports, looked up once per instance rather than by name per call, and its last call's layout. */
  ops: OpExports;
  /** Where the call's layout starts: the module's heap base, aligned. */
  heap: number;
  /**
   * The values the range check last copied where a call's emissions go, while that copy is the last
   * thing written there (any call clears it): a call whose emissions are those same values, checked
   * for it (Packed.placed), finds them in place and is not copied again: the whole checked array, or
   * a prefix of it (the calling thread's range of a split call). The array's buffer is held weakly:
   * a call refused after its check must not keep a one-off batch's copy alive.
   */
  checked: { buffer: Held<ArrayBufferLike>; byteOffset: number; length: number; at: number } | null;
}

type OpExports = Record<OpName, { kernel: KernelFn; workBytes: KernelFn; last: Layout | null }>;

/**
 * Where one call's regions lie: kept per op and reused by the next call of the same sizes, which then
 * reaches its kernel with no size query across the JS ↔ WASM boundary and nothing allocated for its
 * layout (a short call's time is mostly such per-call work). Memory never shrinks under an instance,
 * so a layout reserved once stays in bounds.
 */
interface Layout {
  B: number;
  T: number;
  K: number;
  /** The work area's n (WasmBinding.workArg). */
  n: number;
  outputs: number[];
  start: number;
  end: number;
  trans: number;
  tables: number;
  /** The call as the op's `run` receives it (its `mem` refreshed per call). */
  call: KernelCall;
}

function sameSizes(a: number[], b: number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function liveOf(k: Kernels): Live {
  const ops = {} as OpExports;
  for (const op of Object.keys(OPS) as OpName[]) {
    const { kernel } = specOf(op).wasm;
    ops[op] = { kernel: exportOf(k, kernel), workBytes: exportOf(k, `${kernel}WorkBytes`), last: null };
  }
  return { k, views: null, tablesFor: null, ops, heap: align(k.heapBase()), checked: null };
}

type Held<T> = { deref(): T | undefined };

/** A WeakRef where the engine has one; workerd has none, and no worker threads either: a plain reference there. */
const weakly: <T extends object>(x: T) => Held<T> = typeof WeakRef === 'function' ? (x) => new WeakRef(x) : (x) => ({ deref: () => x });

function viewsOf(live: Live): MemoryViews {
  const buf = live.k.memory.buffer;
  if (live.views?.buf !== buf) live.views = { buf, f32: new Float32Array(buf), i32: new Int32Array(buf), f64: new Float64Array(buf) };
  return live.views;
}

/** Whether the `n` values of `emissions` are where `checked` says the range check left them, at byte `at`. */
function inPlace(checked: Live['checked'], emissions: Float32Array | Float64Array, n: number, at: number): boolean {
  return (
    checked !== null &&
    checked.at === at &&
    emissions instanceof Float32Array &&
    checked.buffer.deref() === emissions.buffer &&
    checked.byteOffset === emissions.byteOffset &&
    n <= checked.length
  );
}

/** From how many values the kernels check emissions' range: below, the copy and crossing cost more than the check in JavaScript. */
const CHECK_IN_KERNELS_FROM = 2048;

/** The refusal of value `v` at index `i` of an unchecked call's emissions, named by its index in the caller's batch (Packed.first). */
function uncheckedError(p: Packed, v: number, i: number): CRFInputError {
  const first = p.first ?? 0;
  return rangeError('emissions', v, indexPath(first * p.T * p.K + i, [first + p.B, p.T, p.K]));
}

/**
 * A call that runs later (after a fresh instance is made): unchecked emissions, the caller's array,
 * copied now, as the caller handed them; any other call as it is.
 */
function takenNow(p: Packed): Packed {
  return p.unchecked ? { ...p, emissions: p.emissions.slice(0, p.B * p.T * p.K) } : p;
}

/** Offsets of regions of the given byte sizes from `base` (16-byte aligned, staggered), and where they end. */
function placed(base: number, sizes: number[]): { out: number[]; at: number } {
  const out: number[] = [];
  let at = base;
  for (const s of sizes) {
    out.push(at);
    at = align(at + s) + STAGGER;
  }
  return { out, at };
}

/**
 * The regions every call's layout begins with: raw start, end and transitions, the kernels' tables,
 * then the n emissions (with 16 bytes of slack: a lane load of the last row's tail reads past K).
 */
function leadingRegions(k: Kernels, K: number, n: number): number[] {
  return [K * 4, K * 4, K * K * 4, k.tableBytes(K), n * 4 + 16];
}

/**
 * The WebAssembly backend: AssemblyScript kernels (assembly/) on one linear memory whose layout this
 * class owns. Each call places, from the module's heap base: the raw potentials, the kernels' tables,
 * the emissions (f32), the lengths, the op's outputs and its work area. Memory grows for the largest
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
  /** How many times a large call's instance was handed back (a worker thread reports it: threads/protocol.ts ThreadState). */
  releases = 0;
  /** Linear memory beyond which a call's instance is handed back afterwards. */
  retainedBytes = WASM_RETAINED_BYTES;
  /**
   * Set by the first synchronous call. From then on a handed-back instance is replaced in the
   * background at once, and kept (`#retired`) until its replacement is ready: a synchronous call that
   * finds no live instance where the engine refuses to instantiate synchronously (Chrome's main
   * thread, for modules above its size limit) then runs on it rather than failing.
   */
  #syncCallers = false;
  #retired: Live | null = null;
  private constructor(module: WebAssembly.Module, k: Kernels) {
    this.#module = module;
    this.#live = liveOf(k);
    this.#simd = k.simd() === 1;
  }

  static async #instantiate(mod: WebAssembly.Module): Promise<Kernels> {
    return kernelsOf(await WebAssembly.instantiate(mod, {}));
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

  /** Current size of the linear memory in bytes, a handed-back instance kept for synchronous calls included: what this backend holds (0 once disposed). */
  get memoryBytes(): number {
    return (this.#live ? this.#live.k.memory.buffer.byteLength : 0) + (this.#retired ? this.#retired.k.memory.buffer.byteLength : 0);
  }

  /** The instance for the next call: the live one, or a fresh one after a large call gave its memory back. */
  async #ready(): Promise<void> {
    if (this.#disposed) throw new Error('wasm backend: disposed');
    if (!this.#live) {
      const k = await WasmBackend.#instantiate(this.#module);
      // Another call may have instantiated meanwhile; keep one.
      if (!this.#live && !this.#disposed) this.#live = liveOf(k);
    }
    if (this.#disposed) throw new Error('wasm backend: disposed');
  }

  /** After a call: memory beyond what is kept between calls goes back to the engine with the instance. */
  #afterCall(live: Live): void {
    if (this.#live === live && live.k.memory.buffer.byteLength > this.retainedBytes) {
      this.#fallbacks += live.k.logSpaceFallbacks();
      this.#live = null;
      this.releases++;
      if (this.#syncCallers) this.#replaceInBackground(live);
    }
  }

  /** Keeps `old` for synchronous calls until a fresh instance, made asynchronously, takes its place. */
  #replaceInBackground(old: Live): void {
    this.#retired = old;
    WasmBackend.#instantiate(this.#module).then(
      (k) => {
        if (!this.#live && !this.#disposed) this.#live = liveOf(k);
        if (this.#retired === old) this.#retired = null;
      },
      () => {
        // Kept: the next synchronous call may still need it; an async call's #ready reports the failure.
      },
    );
  }

  /**
   * The instance for a synchronous call: the live one; else one instantiated now where the engine
   * allows it; else the handed-back one, kept until its replacement is ready.
   */
  #liveNow(): Live {
    if (this.#disposed) throw new Error('wasm backend: disposed');
    this.#syncCallers = true;
    if (this.#live) return this.#live;
    try {
      return (this.#live = liveOf(kernelsOf(new WebAssembly.Instance(this.#module, {}))));
    } catch (e) {
      if (this.#retired) return this.#retired;
      throw e;
    }
  }

  /**
   * Offsets for regions of the given byte sizes (16-byte aligned), growing memory if they do not fit.
   * Sizes are float64 numbers: the whole call is checked against the 4 GiB a wasm32 memory can address
   * before anything is written.
   */
  #reserve(live: Live, sizes: number[]): number[] {
    const { k } = live;
    const { out, at } = placed(live.heap, sizes);
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
    }
    return out;
  }

  /**
   * Lays one call out — potentials, tables, emissions and lengths, then the op's outputs and work
   * area — runs `setup` unless the tables are those of the same potentials, then the op's kernel, and
   * reads its results out.
   */
  #runIn<N extends OpName>(live: Live, op: N, p: Packed, w: Potentials, args: OpArgs<N>): PartOf<N> {
    const { wasm } = specOf(op);
    const { k } = live;
    const a = args[0] as never;
    const { B, T, K } = p;
    const n = B * T * K;
    const src = p.emissions.length === n ? p.emissions : p.emissions.subarray(0, n);
    const outputs = wasm.outputs(p, a);
    const fns = live.ops[op];
    const workN = wasm.workArg?.(a) ?? 0;
    let lay = fns.last;
    // Packed.unchecked: checked on the kernels once copied where the call reads them, or before the
    // memory grows for the call, so that a refused call leaves the instance as it was.
    let unchecked = p.unchecked === true;
    if (!lay || lay.B !== B || lay.T !== T || lay.K !== K || lay.n !== workN || !sameSizes(lay.outputs, outputs)) {
      fns.last = null;
      const work = fns.workBytes(T, K, workN) as unknown as number;
      const sizes = [...leadingRegions(k, K, n), B * 4, ...outputs, work];
      if (unchecked && placed(live.heap, sizes).at > k.memory.buffer.byteLength) {
        const data = src as Float32Array;
        const bad = this.#firstBad(live, data, K, Math.min(n, 256)) ?? firstOutOfRange(data);
        if (bad >= 0) throw uncheckedError(p, data[bad], bad);
        unchecked = false;
      }
      const [start, end, trans, tables, em, lens, ...rest] = this.#reserve(live, sizes);
      const call: KernelCall = { kernel: fns.kernel, em, lens, out: rest.slice(0, outputs.length), work: rest[outputs.length], mem: viewsOf(live) };
      lay = fns.last = { B, T, K, n: workN, outputs, start, end, trans, tables, call };
    }
    const mem = viewsOf(live);
    if (live.tablesFor?.deref() !== w) {
      live.tablesFor = null;
      mem.f32.set(w.start, lay.start >>> 2);
      mem.f32.set(w.end, lay.end >>> 2);
      mem.f32.set(w.trans, lay.trans >>> 2);
      k.setup(K, lay.start, lay.end, lay.trans, lay.tables);
      live.tablesFor = weakly(w);
    }
    const { call } = lay;
    const em = call.em >>> 2;
    if (!((p.placed === true || p.unchecked === true) && inPlace(live.checked, p.emissions, n, call.em))) mem.f32.set(src, em);
    live.checked = null;
    if (unchecked) {
      const bad = k.firstOutOfRange(call.em, n, MAX_MAGNITUDE_BITS);
      if (bad >= 0) throw uncheckedError(p, mem.f32[em + bad], bad);
    }
    // The kernels read whole lane vectors past the last row: four zeros there (stores, not a fill call,
    // which costs a short call more than the stores).
    const end = em + n;
    mem.f32[end] = mem.f32[end + 1] = mem.f32[end + 2] = mem.f32[end + 3] = 0;
    mem.i32.set(p.lengths, call.lens >>> 2);
    call.mem = mem;
    return wasm.run(call, p, a);
  }

  /**
   * The first of `data`'s values beyond ±MAX_MAGNITUDE, or −1, checked by the kernels where a call's
   * emissions go (after the potentials and tables, which stay as they are); undefined without a live
   * instance, or for fewer values than {@link CHECK_IN_KERNELS_FROM}. The check never grows the memory:
   * where the values do not fit (a thread's instance sized for its part of a split call), they are
   * checked in pieces that do, and not here where fewer than CHECK_IN_KERNELS_FROM fit.
   */
  firstOutOfRange(data: Float32Array, K: number): number | undefined {
    const live = this.#disposed ? null : this.#live;
    if (!live || data.length < CHECK_IN_KERNELS_FROM) return undefined;
    return this.#firstBad(live, data, K, CHECK_IN_KERNELS_FROM);
  }

  /** {@link WasmBackend.firstOutOfRange} on `live`, in pieces of at least `least` values (else undefined). */
  #firstBad(live: Live, data: Float32Array, K: number, least: number): number | undefined {
    const { out } = placed(live.heap, leadingRegions(live.k, K, 0));
    const mem = viewsOf(live);
    const room = Math.min(data.length, Math.floor((mem.buf.byteLength - out[4]) / 4));
    if (room < least) return undefined;
    live.checked = null;
    for (let at = 0; at < data.length; at += room) {
      const piece = data.subarray(at, at + room);
      mem.f32.set(piece, out[4] >>> 2);
      const bad = live.k.firstOutOfRange(out[4], piece.length, MAX_MAGNITUDE_BITS);
      if (bad >= 0) return at + bad;
    }
    if (room === data.length) live.checked = { buffer: weakly(data.buffer), byteOffset: data.byteOffset, length: data.length, at: out[4] };
    return -1;
  }

  /** Every call with a sequence: #runIn copies the emissions into the kernels' memory and checks them there (Backend.borrows). */
  borrows(B: number): boolean {
    return B > 0;
  }

  /**
   * `op` over the call as one range: what a thread contributes to a call cut across threads (the
   * thread layer joins the ranges).
   */
  part<N extends OpName>(op: N, p: Packed, w: Potentials, ...args: OpArgs<N>): Promise<PartOf<N>> {
    const later = this.#live ? p : takenNow(p);
    return this.#now(
      (live) => this.#runIn(live, op, p, w, args),
      () => this.part(op, later, w, ...args),
    );
  }

  run<N extends OpName>(op: N, p: Packed, w: Potentials, ...args: OpArgs<N>): Promise<ResultOf<N>> {
    try {
      const r = this.runReady(op, p, w, ...args);
      if (r !== undefined) return Promise.resolve(r);
      const later = takenNow(p);
      return this.#ready().then(() => this.run(op, later, w, ...args));
    } catch (e) {
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the rejection is whatever the layout or kernel threw, as an async function would reject
      return Promise.reject(e);
    }
  }

  /** {@link WasmBackend.run} now, on the live instance; undefined when there is none (a fresh one is made asynchronously). */
  runReady<N extends OpName>(op: N, p: Packed, w: Potentials, ...args: OpArgs<N>): ResultOf<N> | undefined {
    const spec = specOf(op);
    const a = args[0] as never;
    const live = this.#disposed ? null : this.#live;
    if (!live) return undefined;
    try {
      return spec.threads.join([this.#runIn(live, op, p, w, args)], p, a);
    } finally {
      this.#afterCall(live);
    }
  }

  /** `op` over the call on the calling thread, now: the same kernels and results as {@link WasmBackend.run}. */
  runSync<N extends OpName>(op: N, p: Packed, w: Potentials, ...args: OpArgs<N>): ResultOf<N> {
    const spec = specOf(op);
    const a = args[0] as never;
    const live = this.#liveNow();
    try {
      return spec.threads.join([this.#runIn(live, op, p, w, args)], p, a);
    } finally {
      this.#afterCall(live);
    }
  }

  /**
   * Runs `f` on the live instance at once, with no await before the kernel (a short call's time is
   * mostly the JavaScript around the kernel, and every await is another turn of the microtask queue);
   * without one, `again` once a fresh instance is ready.
   */
  #now<R>(f: (live: Live) => R, again: () => Promise<R>): Promise<R> {
    const live = this.#disposed ? null : this.#live;
    if (!live) return this.#ready().then(again);
    try {
      return Promise.resolve(f(live));
    } catch (e) {
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the rejection is whatever the layout or kernel threw, as an async function would reject
      return Promise.reject(e);
    } finally {
      this.#afterCall(live);
    }
  }

  memoryUsage(): BackendMemory {
    return { wasmBytes: this.memoryBytes, gpuBytes: 0 };
  }

  /** Drops the instance, and with it every reference to its linear memory (the engine frees it at its next collection). */
  dispose(): void {
    this.#disposed = true;
    this.#live = null;
    this.#retired = null;
  }
}
