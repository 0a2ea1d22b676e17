import type { EmissionsInput, TagsInput } from '../call/inputs.js';
import type { DecodeOptions, ForwardBackwardResult, PartialAnnotation, PosteriorOptions, ReductionOptions, ScoredPath } from './types.js';

/**
 * The CRF's ops run synchronously: the same names, arguments, checks, errors and results as the
 * {@link CRF}'s async methods, returned at once instead of as promises. For callers that cannot await,
 * such as an autograd tape (`webcrf/tfjs` runs its ops through it).
 *
 * They run on the calling thread's CPU kernels: the wasm kernels on a `'wasm'` instance, unsplit on the
 * calling thread's own kernels with `threads` (the workers are not used); the float64 reference on
 * `'js'`; the CPU backend (wasm, or js where wasm cannot load) of a `'webgpu'` instance or of `'auto'`
 * with a GPU, whose results there are those of that backend. Get it as {@link CRF.sync}.
 */
export interface SyncCRF {
  /** {@link CRF.forward}, now: the reduced log-likelihood. */
  forward(
    emissions: EmissionsInput,
    tags: TagsInput | PartialAnnotation,
    options?: ReductionOptions & { reduction?: 'sum' | 'mean' | 'token_mean' | undefined },
  ): number;
  /** {@link CRF.forward} with `reduction: 'none'`, now: `Float32Array(B)`. */
  forward(emissions: EmissionsInput, tags: TagsInput | PartialAnnotation, options: ReductionOptions & { reduction: 'none' }): Float32Array;
  /** {@link CRF.forward} with a reduction known at run time, now. */
  forward(emissions: EmissionsInput, tags: TagsInput | PartialAnnotation, options?: ReductionOptions): number | Float32Array;
  /** {@link CRF.forwardBackward}, now. */
  forwardBackward(
    emissions: EmissionsInput,
    tags: TagsInput | PartialAnnotation,
    options?: ReductionOptions & { reduction?: 'sum' | 'mean' | 'token_mean' | undefined },
  ): ForwardBackwardResult<number>;
  /** {@link CRF.forwardBackward} with `reduction: 'none'`, now. */
  forwardBackward(
    emissions: EmissionsInput,
    tags: TagsInput | PartialAnnotation,
    options: ReductionOptions & { reduction: 'none' },
  ): ForwardBackwardResult<Float32Array>;
  /** {@link CRF.forwardBackward} with a reduction known at run time, now. */
  forwardBackward(emissions: EmissionsInput, tags: TagsInput | PartialAnnotation, options?: ReductionOptions): ForwardBackwardResult<number | Float32Array>;
  /** {@link CRF.decode}, now: the best path per sequence. */
  decode(emissions: EmissionsInput, options?: DecodeOptions & { topK?: undefined }): number[][];
  /** {@link CRF.decode} with `topK`, now. */
  decode(emissions: EmissionsInput, options: DecodeOptions & { topK: number }): ScoredPath[][];
  /** {@link CRF.decode} with options known at run time, now. */
  decode(emissions: EmissionsInput, options?: DecodeOptions): number[][] | ScoredPath[][];
  /** {@link CRF.logPartition}, now. */
  logPartition(emissions: EmissionsInput, options?: PosteriorOptions): Float64Array;
  /** {@link CRF.marginals}, now. */
  marginals(emissions: EmissionsInput, options?: PosteriorOptions): Float32Array;
  /** {@link CRF.entropy}, now. */
  entropy(emissions: EmissionsInput, options?: PosteriorOptions): Float32Array;
  /** {@link CRF.sample}, now. */
  sample(emissions: EmissionsInput, options?: PosteriorOptions & { numSamples?: number | undefined; seed?: number | undefined }): number[][][];
}
