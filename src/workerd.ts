// Entry for the `workerd` export condition (Cloudflare Workers, miniflare, wrangler): workerd refuses to
// compile WebAssembly from bytes at runtime, so the kernels are imported as modules, which the runtime
// (or wrangler's bundler) compiles at upload.
import simd from './webcrf.simd.wasm';
import scalar from './webcrf.scalar.wasm';
import { setWasmRoutes } from './backends/wasm/source.js';

setWasmRoutes([{ name: 'module import', load: (kind) => Promise.resolve(kind === 'simd' ? simd : scalar) }]);

export * from './index.js';
