// The WebGPU backend: WGSL kernels (shaders/) run through one chunk loop (backend.ts), one file per op
// (ops/), on a device from navigator.gpu or the caller (device.ts).
export { WebGpuBackend, type WebGpuBackendOptions } from './backend.js';
export { deviceProblem, isSoftwareAdapter, navigatorDevice } from './device.js';
export { WebGpuValidationError } from './pipelines.js';
