// The public API's option and result types (the CRF class is crf.ts).
import type { AllowedInput, MaskInput } from '../call/inputs.js';
import type { ConstraintsInput } from '../model/constraints.js';
// eslint-disable-next-line @typescript-eslint/no-unused-vars -- read by TypeDoc's {@link CRF...} references
import type { CRF } from './crf.js';

/**
 * A backend that runs the dynamic programs: `'webgpu'` (WGSL compute shaders), `'wasm'` (WebAssembly
 * SIMD) or `'js'` (plain TypeScript in float64, the reference the others are tested against).
 * @useDeclaredType
 */
export type BackendName = 'webgpu' | 'wasm' | 'js';

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

/**
 * How {@link CRF.forward} and {@link CRF.forwardBackward} reduce the per-sequence log-likelihoods, as
 * pytorch-crf: `'sum'` (the default) adds them; `'mean'` divides the sum by the batch size B;
 * `'token_mean'` divides it by the number of positions whose mask is on; `'none'` returns them all as a
 * `Float32Array(B)`.
 */
export type Reduction = 'none' | 'sum' | 'mean' | 'token_mean';

/**
 * Options of {@link CRF.create}.
 */
export interface CRFOptions {
  /**
   * A `GPUDevice` for the `webgpu` backend to use instead of requesting its own (typed loosely, as is
   * `wasmModule`: the declarations need no WebGPU or WebAssembly types).
   */
  device?: unknown;
  /** A compiled `WebAssembly.Module` of the kernels, for runtimes that refuse to compile WebAssembly bytes (Cloudflare Workers). */
  wasmModule?: unknown;
  /**
   * With `backend: 'auto'` and a GPU: calls whose batch × length × numTags² is below this run on the
   * CPU kernels (default 2^23, where the wasm kernels take about as long as a GPU round trip).
   */
  webgpuMinWork?: number | undefined;
  /** `[batch, seq, tags]` when true (the default), `[seq, batch, tags]` when false. */
  batchFirst?: boolean | undefined;
  /**
   * `'auto'` (default), `'webgpu'`, `'wasm'` or `'js'`. `'auto'` takes WebGPU when a device is available
   * and the work is large enough to pay for the dispatch, else WebAssembly, else JS; {@link CRF.backend}
   * tells which one it took.
   */
  backend?: BackendName | 'auto' | undefined;
  /**
   * Makes the uniform(-0.1, 0.1) initialisation of the parameters (pytorch-crf's) deterministic: an
   * integer in [0, 2^32) (`Date.now() >>> 0` for a fresh one); without it `Math.random` is used.
   */
  seed?: number | undefined;
  /**
   * Allowed transitions, e.g. `allowedTransitions('BIO', labels)` or a `K × K` boolean matrix. They apply
   * to every op: log Z, the log-likelihood and its gradients, marginals, entropy and decoding range over
   * allowed paths only.
   */
  constraints?: ConstraintsInput | undefined;
  /**
   * Threads for the WebAssembly kernels (backend `'wasm'`, and the CPU side of `'auto'` and `'webgpu'`):
   * an integer in [1, 256], or `'auto'` for the cores the runtime reports (`navigator.hardwareConcurrency`,
   * `os.availableParallelism()`); never more threads run than those cores (then
   * {@link CRF.backendReason} says so). Default 1: everything on the calling thread. With n > 1, each
   * call's batch is split across the calling thread and n − 1 worker threads (Web Workers;
   * worker_threads in Node) running the same kernels; results are bit-identical to one thread's. Which
   * calls split is first a table of the ops and sizes where a split was measured to pay (entropy and
   * top-k from B·T·K² = 2^22, logPartition and forwardBackward from 2^23, forward from 2^24, marginals
   * from 2^26, decode from K = 32 and 2^24; see the performance guide's Threads section), then, from
   * 2^21, the way the CRF's own calls of each op and size measure clearly faster; the others, and a
   * batch too small to cut, stay on the calling thread. Where no worker
   * can start (Cloudflare Workers, a bundle that left the worker file behind) the CRF runs on one
   * thread and {@link CRF.backendReason} says why. `dispose()` ends the workers, and so does the CRF
   * being garbage-collected; idle ones never keep a Node process alive. Backend `'js'` (the float64
   * reference) runs on the calling thread only, and refuses a number above 1.
   */
  threads?: number | 'auto' | undefined;
}

/** Options of the ops that take only a mask: {@link CRF.logPartition}, {@link CRF.marginals}, {@link CRF.entropy}. */
export interface MaskOption {
  /**
   * `[batch, seq]` (or `[seq, batch]` when `batchFirst` is false) booleans or 0/1; all on when absent.
   * Any pattern works, gaps and a masked first step included: the positions that are off are skipped and
   * the chain links the ones that are on, in order.
   */
  mask?: MaskInput | null | undefined;
}
/** Options of the ops that range over the paths a partial annotation permits. */
export interface AnnotationOption {
  /**
   * Per position, the tags an annotation permits (`[batch, seq, tags]` in the input layout, booleans or
   * 0/1, or `{ data: Uint8Array, shape }`; see {@link allowedFromTags}): the op ranges over the paths
   * with every y_t allowed. Positions the mask turns off ignore it.
   */
  allowed?: AllowedInput | null | undefined;
}
/** Options of {@link CRF.logPartition}, {@link CRF.marginals} and {@link CRF.entropy}. */
export interface PosteriorOptions extends MaskOption, AnnotationOption {}
/**
 * A partial annotation in place of gold tags for {@link CRF.forward} and {@link CRF.forwardBackward}:
 * the log-likelihood is log Σ_{y : y_t ∈ allowed_t} exp score(y) − log Z.
 */
export interface PartialAnnotation {
  /** `[batch, seq, tags]` (input layout): which tags each position permits. */
  allowed: AllowedInput;
}
/** Options of {@link CRF.forward} and {@link CRF.forwardBackward}. */
export interface ReductionOptions extends MaskOption {
  /** `'sum'` (default), `'mean'`, `'token_mean'` or `'none'`; see {@link Reduction}. */
  reduction?: Reduction | undefined;
}
/** Options of {@link CRF.decode}. */
export interface DecodeOptions extends MaskOption, AnnotationOption {
  /**
   * Return the k best paths with their scores instead of the best path: an integer ≥ 1. A sequence with
   * fewer than k (allowed) paths gets them all.
   */
  topK?: number | undefined;
  /** Extra constraints for this call only (on top of the instance's). */
  constraints?: ConstraintsInput | undefined;
}

/** What {@link CRF.forwardBackward} returns: the log-likelihood and its gradients. */
export interface ForwardBackwardResult<L extends number | Float32Array> {
  /** The reduced log-likelihood: a number, or `Float32Array(B)` for `reduction: 'none'`. */
  logLikelihood: L;
  /** Gradients of the reduced log-likelihood (of the sum for `'none'`). */
  grads: Gradients;
}

/** One of the k best paths of a sequence. */
export interface ScoredPath {
  /** The tags of the sequence's on positions, in order (its length is the number of on positions). */
  path: number[];
  /**
   * Unnormalised score(y) of the path: start, emissions, transitions and end added up. For its
   * probability use `logProb`: `score − log Z` from a separate {@link CRF.logPartition} call is right only
   * to the two results' rounding, and can put exp(score − log Z) slightly above 1.
   */
  score: number;
  /**
   * log p(y | x), the path's log-probability under the CRF (over the paths its constraints allow, as
   * {@link CRF.logPartition}'s log Z), computed in the same call: `Math.exp(logProb)` is at most 1, and
   * the list's probabilities sum to at most 1, on every backend. With `allowed` or per-call
   * `constraints` it is still p(y | x), not p(y | x, the restriction).
   */
  logProb: number;
}

/**
 * Gradients of the reduced log-likelihood (not of the loss: negate for a loss, or use an optimizer with
 * `maximize: true`). Keys match {@link CRF.parameters}, plus `emissions` for the tagger underneath.
 */
export interface Gradients {
  /**
   * ∂llh/∂emissions, flat in the input layout (`[B, T, K]` or `[T, B, K]`); 0 at positions that are off.
   * No parameter: `clipGradNorm(grads)` and `Adam.step(grads)` leave it out.
   */
  emissions: Float32Array;
  /** Length K. */
  startTransitions: Float32Array;
  /** Length K. */
  endTransitions: Float32Array;
  /** `K × K`, row-major `[from * K + to]`. */
  transitions: Float32Array;
}
