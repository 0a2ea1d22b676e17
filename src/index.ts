export { CRF } from './api/crf.js';
export type { SyncCRF } from './api/sync.js';
// The option and result types of the CRF's methods: every one the API names.
export type * from './api/types.js';
export type { StateDict, StateDictInput } from './model/state-dict.js';
export { CRFInputError, WasmLoadError } from './errors.js';
export { allowedTransitions } from './model/constraints.js';
export type { ConstraintsInput, TaggingScheme, TransitionConstraints } from './model/constraints.js';
export { allowedFromTags, maskFromTags } from './call/inputs.js';
export type { AllowedInput, EmissionsInput, MaskInput, TagsInput, TensorLike } from './call/inputs.js';
export type { GpuEmissionsInput, GpuTensorInput } from './call/gpu-inputs.js';
// Training helpers that mirror PyTorch's.
export { Adam, type AdamOptions, type GradRecord, type ParamRecord } from './train/adam.js';
export { type ClipOptions, clipGradNorm } from './train/clip.js';
export { type CrossEntropyOptions, type CrossEntropyResult, type LabelsInput, type LogitsInput, crossEntropy } from './train/cross-entropy.js';
export type { MutableNumbers } from './train/numbers.js';
export { AutomaticWeightedLoss, type WeightedLossResult } from './train/weighted-loss.js';
export { parseSafetensors, tensorValues } from './interop/safetensors-reader.js';
export type { SafetensorsFile, SafetensorsFloatDtype, SafetensorsTensor } from './interop/safetensors-reader.js';
export { type TensorToWrite, writeSafetensors } from './interop/safetensors-writer.js';
export type { FromSafetensorsOptions } from './interop/weights-reader.js';
export type { ToSafetensorsOptions } from './interop/weights-writer.js';
