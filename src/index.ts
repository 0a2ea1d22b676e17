export { CRF } from './api/crf.js';
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
} from './api/crf.js';
export { WasmLoadError } from './backends/wasm/source.js';
export type { BackendName, MemoryUsage } from './backends/backend.js';
export type { StateDict, StateDictInput } from './model/state-dict.js';
export { CRFInputError } from './errors.js';
export { allowedTransitions } from './model/constraints.js';
export type { ConstraintsInput, TaggingScheme, TransitionConstraints } from './model/constraints.js';
export { allowedFromTags, maskFromTags } from './call/inputs.js';
export type { AllowedInput, EmissionsInput, MaskInput, TagsInput } from './call/inputs.js';
export { Adam, AutomaticWeightedLoss, clipGradNorm, crossEntropy } from './train/train.js';
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
} from './train/train.js';
export { parseSafetensors, tensorValues, writeSafetensors } from './interop/safetensors.js';
export type { SafetensorsFile, SafetensorsFloatDtype, SafetensorsTensor, TensorToWrite } from './interop/safetensors.js';
export type { FromSafetensorsOptions, ToSafetensorsOptions } from './interop/weights.js';
