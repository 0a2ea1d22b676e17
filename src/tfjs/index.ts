// webcrf/tfjs: the CRF for TensorFlow.js, and the seed's training helpers over tf tensors. Imports only
// @tensorflow/tfjs-core (an optional peer dependency of this subpath) besides the core.
export { CRF } from './crf.js';
export type {
  CRFVariables,
  Tensorish,
  TensorDecodeOptions,
  TensorMaskOption,
  TensorPartialAnnotation,
  TensorPosteriorOptions,
  TensorReductionOptions,
} from './crf.js';
export { AutomaticWeightedLoss, clipByGlobalNorm } from './train.js';
