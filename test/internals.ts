// The backends' classes for the pages of the repository's own tests and benches (test/webgpu/,
// bench/webgpu-page.js), which check them one by one: bundled by scripts/build-bundle.js into
// build/internals.js, beside the package but not in it.
export { JsBackend } from '../src/backends/js/backend.js';
export { WasmBackend } from '../src/backends/wasm/backend.js';
export { WebGpuBackend } from '../src/backends/webgpu/index.js';
