// Types of the `webcrf/webcrf.simd.wasm` and `webcrf/webcrf.scalar.wasm` subpaths: the kernels as a
// compiled module, the way wrangler (Cloudflare Workers) and bundlers with a WebAssembly-module plugin
// import a .wasm file. Hand it to `CRF.create(K, { wasmModule })`.
declare const kernels: WebAssembly.Module;
export default kernels;
