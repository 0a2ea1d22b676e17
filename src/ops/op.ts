// An op is one dynamic program over a packed call, described once, as data: what it returns, where its
// float64 reference is, how the WebAssembly kernels run it, its GPU program (or that the WebGPU backend
// hands it to its CPU backend), and how a batch is cut across threads and the parts joined. Backends,
// the thread layer and the worker threads run every op through this description (ops/index.ts lists
// them); none of them names an op.
import type { Packed } from '../call/pack.js';
import type { Potentials } from '../model/parameters.js';
import type { GpuOp } from '../backends/webgpu/op.js';
import type { MemoryViews } from '../backends/wasm/kernels.js';

/** One op: its arguments beyond the call (`A`), its result (`R`), and a range's result (`P`). */
export interface OpSpec<A, R, P = R> {
  /** The name messages and workers use: the op's key in the registry. */
  readonly name: string;
  /**
   * The float64 reference (src/backends/js/ops/): what the js backend runs and every other backend is
   * tested against. Loaded with the js backend only: a page on the kernels never downloads it.
   */
  readonly reference: () => Promise<Reference<A, R>>;
  readonly wasm: WasmBinding<A, P>;
  /** Its GPU program, loaded with the WebGPU backend's first call of it; or 'cpu' to run on that backend's CPU backend. */
  readonly gpu: (() => Promise<GpuOp<R, A>>) | 'cpu';
  readonly threads: ThreadSplit<A, R, P>;
}

/** An op's float64 program: the whole call, now. */
export type Reference<A, R> = (p: Packed, w: Potentials, args: A) => R;

/** A kernel export: it takes numbers (sizes and byte offsets into the linear memory) and returns nothing. */
export type KernelFn = (...args: number[]) => void;

/** One call laid out in the linear memory (backends/wasm/backend.ts owns the layout). */
export interface KernelCall {
  /** The op's kernel. */
  kernel: KernelFn;
  /** Byte offsets: the emissions `[B, T, K]` (f32), the lengths `[B]` (i32), each output region, the work area. */
  em: number;
  lens: number;
  out: number[];
  work: number;
  /** Views of the whole memory, for reading the outputs out. */
  mem: MemoryViews;
}

/**
 * How the WebAssembly kernels run an op. The kernel is the export `kernel`; its work area's size is the
 * export `<kernel>WorkBytes(T, K, n)`, in bytes (as f64, so that the call's size is checked before a
 * 32-bit offset could wrap).
 */
export interface WasmBinding<A, P> {
  readonly kernel: string;
  /** The n of the work area's size (a list's or a sample's count); 0 when absent. */
  readonly workArg?: ((args: A) => number) | undefined;
  /** Bytes of each output region the kernel writes, in the order `run` finds them in `call.out`. */
  readonly outputs: (p: Packed, args: A) => number[];
  /** Runs the kernel over the call and copies its results out (the next call reuses the memory). */
  readonly run: (call: KernelCall, p: Packed, args: A) => P;
}

/** How a batch is cut across threads, and how the ranges' results become the call's. */
export interface ThreadSplit<A, R, P> {
  /**
   * From which K and which work B·T·max(K, 16)² a call is cut across threads: measured (`node
   * bench/threads.js --table`), `Infinity` where no split paid (backends/wasm/threads/backend.ts).
   */
  readonly split: Readonly<{ minK: number; minWork: number }>;
  /** Sequences per block: a batch is cut only at multiples of it (1 when absent). */
  readonly block?: ((T: number, K: number) => number) | undefined;
  /**
   * The args of sequences [b0, b1) (the call's own when absent); typed arrays in them as views, which
   * the thread layer copies for a worker.
   */
  readonly slice?: ((args: A, b0: number, b1: number) => A) | undefined;
  /**
   * The call's result from its ranges' results, in batch order. One thread runs one range, so this is
   * also how a single thread's result is made: one range must give exactly what the ranges give.
   */
  readonly join: (parts: P[], p: Packed, args: A) => R;
}

type Joinable = Float64Array | Float32Array | Int32Array | number[];

/** Per-sequence outputs of consecutive ranges, end to end, as the first range's kind (one range: itself). */
export function concat<T extends Joinable>(arrays: T[]): T {
  if (arrays.length === 1) return arrays[0];
  const n = arrays.reduce((m, a) => m + a.length, 0);
  const first = arrays[0];
  if (Array.isArray(first)) {
    const out = new Array<number>(n);
    let at = 0;
    for (const a of arrays) for (let i = 0; i < a.length; i++) out[at++] = a[i];
    return out as T;
  }
  const out = new (first.constructor as new (n: number) => Exclude<T, number[]>)(n);
  let at = 0;
  for (const a of arrays) {
    out.set(a, at);
    at += a.length;
  }
  return out;
}

/** The `key` field of each range's result, end to end. */
export function joinField<P, K extends keyof P>(parts: P[], key: K): P[K] & Joinable {
  return concat(parts.map((r) => r[key] as P[K] & Joinable));
}

/**
 * n values from `from` as a plain array: JS-heap memory, which a short call allocates far faster than
 * a typed array's (per-sequence paths are handed out as plain arrays anyway).
 */
export function plainInts(src: Int32Array, from: number, n: number): number[] {
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = src[from + i];
  return out;
}

/** n float64 values from `from` as a plain array (as {@link plainInts}). */
export function plainFloats(src: Float64Array, from: number, n: number): number[] {
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = src[from + i];
  return out;
}

/**
 * An op's spec as the registry keeps it: frozen, with every member own, those an op leaves out
 * (`workArg`, `block`, `slice`) as own `undefined`, so that no read of them reaches Object.prototype
 * whatever it has been given. (Plain objects rather than prototype-less ones: V8 keeps those in
 * dictionary mode, and every call reads these members.)
 */
export function defineOp<A, R, P = R>(spec: OpSpec<A, R, P>): OpSpec<A, R, P> {
  const { wasm, threads } = spec;
  return Object.freeze({
    name: spec.name,
    reference: spec.reference,
    gpu: spec.gpu,
    wasm: Object.freeze({ kernel: wasm.kernel, workArg: wasm.workArg, outputs: wasm.outputs, run: wasm.run }),
    threads: Object.freeze({
      split: Object.freeze({ minK: threads.split.minK, minWork: threads.split.minWork }),
      block: threads.block,
      slice: threads.slice,
      join: threads.join,
    }),
  });
}
