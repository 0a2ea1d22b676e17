import type { Backend, BackendName } from '../backend.js';
import { JsBackend } from './js.js';
import { WasmBackend } from './wasm.js';

export interface BackendOptions {
  /** A GPUDevice to run on instead of requesting one. */
  device?: unknown;
  /** A compiled WebAssembly.Module of the kernels, for runtimes that refuse to compile bytes. */
  wasmModule?: unknown;
}

export async function createBackend(name: BackendName | 'auto', _numTags: number, opts: BackendOptions): Promise<Backend> {
  switch (name) {
    case 'wasm':
      return WasmBackend.create(opts);
    case 'auto':
      // WASM wherever it loads; the float64 reference otherwise (e.g. a bundle that dropped the .wasm).
      try {
        return await WasmBackend.create(opts);
      } catch (err) {
        if (opts.wasmModule !== undefined) throw err;
        return new JsBackend();
      }
    case 'js':
      return new JsBackend();
    default:
      throw new Error(`backend ${name} is not built yet`);
  }
}
