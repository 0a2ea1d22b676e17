// What webcrf/tfjs's WebGPU route takes from the core's internals: the posteriors recorded into
// tfjs's own command encoder, and the core's readers of tags and masks (the same checks and
// CRFInputErrors as every op). Built as an entry of the core's build (dist/tfjs-internals.js), so
// that it shares the core's chunks (one CRFInputError class); webcrf/tfjs imports it by a relative
// path, only when a CRF is made on tfjs's webgpu backend. Not part of the package's API.
export { posteriorsEncoder, type PosteriorsEncoder } from '../backends/webgpu/posteriors-encoder.js';
export { readMask, readTags } from '../call/inputs.js';
