export { CRF } from './crf.js';
export type { CRFOptions, DecodeOptions, Gradients, MaskOption, Reduction, ReductionOptions, ScoredPath, StateDict } from './crf.js';
export type { BackendName } from './backend.js';
export { CRFInputError } from './errors.js';
export { allowedTransitions } from './constraints.js';
export type { ConstraintsInput, TaggingScheme, TransitionConstraints } from './constraints.js';
export { maskFromTags } from './inputs.js';
export type { EmissionsInput, MaskInput, TagsInput } from './inputs.js';
