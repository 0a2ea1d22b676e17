// WebGPU's types for the GPU backend's sources only: a declaration file is not emitted, and the public
// declarations keep devices as `unknown`, so users need no @webgpu/types.
/// <reference types="@webgpu/types" />
