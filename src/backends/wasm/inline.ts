import { messageOf } from '../../errors.js';
import type { WasmRoute } from './source.js';

// A file of its own: the modules a worker thread runs (handed its compiled module) never import it, so
// no bundler emits the inline copies beside the worker.

function decodeBase64(s: string): Uint8Array<ArrayBuffer> {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** The kernels inlined in a JS module: imported (a separate chunk for bundlers) only when needed. */
export const inlineRoute: WasmRoute = {
  name: 'inline',
  async load(kind) {
    const src = kind === 'simd' ? await import('../../generated/kernels-simd.js') : await import('../../generated/kernels-scalar.js');
    try {
      return await WebAssembly.compile(decodeBase64(src.default));
    } catch (e) {
      throw new Error(`this runtime refused to compile WebAssembly from bytes (${messageOf(e)})`, { cause: e });
    }
  },
};
