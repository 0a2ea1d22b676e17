import type { Precision } from './inputs.js';
import type { Packed } from './pack.js';

/** Every backend's name, once: the type below and the `backend` option's check are derived from it. */
export const BACKEND_NAMES = ['webgpu', 'wasm', 'js'] as const;

/**
 * A backend that runs the dynamic programs: `'webgpu'` (WGSL compute shaders), `'wasm'` (WebAssembly
 * SIMD) or `'js'` (plain TypeScript in float64, the reference the others are tested against).
 * @useDeclaredType
 */
export type BackendName = (typeof BACKEND_NAMES)[number];

/** Parameters with constraints folded in: a forbidden start, end or transition is -Infinity. */
export interface Potentials {
  K: number;
  start: Float64Array;
  end: Float64Array;
  /** Row-major `[from * K + to]`. */
  trans: Float64Array;
}

/** What forward–backward gives the shared gradient code; everything else is derived from it. */
export interface Posteriors {
  /** log Z per sequence (-Infinity where no path is allowed). */
  logZ: Float64Array;
  /** p(y_s = j), packed `[B, T, K]`; 0 past each length. */
  unary: Float32Array | Float64Array;
  /** Σ_b Σ_s p(y_{s-1} = i, y_s = j), `[K * K]`. */
  transCounts: Float64Array;
}

export interface EntropyResult {
  /** log Z per sequence (-Infinity where no path is allowed). */
  logZ: Float64Array;
  /** H(y | x) per sequence, from the entropy semiring's own recursion. */
  entropy: Float64Array;
}

export interface ViterbiResult {
  /**
   * Best packed path per sequence, `[B, T]`. The WASM backend hands a plain array: a typed array's
   * off-heap allocation costs a short call about as much as its kernel.
   */
  paths: Int32Array | number[];
  /** Its score (-Infinity where no path is allowed). */
  scores: Float64Array;
}

export interface KBestResult {
  /** `[B, k, T]` packed paths. */
  paths: Int32Array | number[];
  /** `[B, k]` scores, best first; -Infinity marks a missing path. */
  scores: Float64Array;
  k: number;
}

/**
 * Bytes a CRF holds between calls outside the JavaScript heap: what stays allocated, once its calls
 * have settled and garbage has been collected, because the instance or its worker threads keep it.
 * The parameters themselves and the results handed to the caller are not counted.
 */
export interface MemoryUsage {
  /** WebAssembly linear memory: the calling thread's and, with `threads`, every worker's (0 where none is used). */
  wasmBytes: number;
  /** Total size of the GPU buffers held, pooled ones included (0 where none are). */
  gpuBytes: number;
  /** Typed arrays kept from call to call to be reused: the arrays of the input copies, and the potentials computed from the parameters. */
  cacheBytes: number;
}

/** What a backend reports of it; the CRF adds its own arrays. */
export type BackendMemory = Pick<MemoryUsage, 'wasmBytes' | 'gpuBytes'>;

/** The dynamic programs one backend runs; all inputs are packed (right-padded by lengths). */
export interface Backend {
  readonly name: BackendName;
  /** What the kernels compute in; a call's inputs are rounded to it before anyone reads them. */
  readonly precision: Precision;
  logPartition(p: Packed, w: Potentials): Promise<Float64Array>;
  posteriors(p: Packed, w: Potentials): Promise<Posteriors>;
  entropy(p: Packed, w: Potentials): Promise<EntropyResult>;
  viterbi(p: Packed, w: Potentials): Promise<ViterbiResult>;
  kBest(p: Packed, w: Potentials, k: number): Promise<KBestResult>;
  /** Bytes the backend holds outside the JS heap (WASM linear memory, GPU buffers). */
  memoryUsage?(): BackendMemory;
  dispose(): void;
}
