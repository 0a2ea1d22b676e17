export { CRF } from './crf.js';
export type {
  AnnotationOption,
  CRFOptions,
  DecodeOptions,
  ForwardBackwardResult,
  Gradients,
  MaskOption,
  PartialAnnotation,
  PosteriorOptions,
  Reduction,
  ReductionOptions,
  ScoredPath,
} from './crf.js';
export { WasmLoadError } from './backends/wasm-source.js';
export type { BackendName, MemoryUsage } from './backend.js';
export type { StateDict, StateDictInput } from './state-dict.js';
export { CRFInputError } from './errors.js';
export { allowedTransitions } from './constraints.js';
export type { ConstraintsInput, TaggingScheme, TransitionConstraints } from './constraints.js';
export { allowedFromTags, maskFromTags } from './inputs.js';
export type { AllowedInput, EmissionsInput, MaskInput, TagsInput } from './inputs.js';
export { Adam, AutomaticWeightedLoss, clipGradNorm, crossEntropy } from './train.js';
export type {
  AdamOptions,
  ClipOptions,
  CrossEntropyOptions,
  CrossEntropyResult,
  GradRecord,
  LabelsInput,
  LogitsInput,
  MutableNumbers,
  ParamRecord,
  WeightedLossResult,
} from './train.js';
export { parseSafetensors, tensorValues, writeSafetensors } from './safetensors.js';
export type { SafetensorsFile, SafetensorsFloatDtype, SafetensorsTensor, TensorToWrite } from './safetensors.js';
export type { FromSafetensorsOptions, ToSafetensorsOptions } from './weights.js';
