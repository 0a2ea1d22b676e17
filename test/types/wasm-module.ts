// The kernels imported as a module, as on Cloudflare Workers or with a bundler that imports .wasm
// files: the subpath's declaration types the default export as a WebAssembly.Module, which a project
// with the DOM's (or a worker's) types has.
import { CRF } from 'webcrf';
import kernels from 'webcrf/webcrf.simd.wasm';

const fromModule: CRF = await CRF.create(5, { wasmModule: kernels });
console.log(fromModule.backend);
fromModule.dispose();
