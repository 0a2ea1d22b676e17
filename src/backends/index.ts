import type { Backend, BackendName } from '../backend.js';
import { JsBackend } from './js.js';

export interface BackendOptions {
  /** A GPUDevice to run on instead of requesting one. */
  device?: unknown;
  /** A compiled WebAssembly.Module of the kernels, for runtimes that refuse to compile bytes. */
  wasmModule?: unknown;
}

export async function createBackend(name: BackendName | 'auto', _numTags: number, _opts: BackendOptions): Promise<Backend> {
  switch (name) {
    case 'js':
    case 'auto':
      return new JsBackend();
    default:
      throw new Error(`backend ${name} is not built yet`);
  }
}
