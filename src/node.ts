/// <reference types="node" />
// Entry for the `node` export condition (Node, Deno and Bun resolve it): the kernels are read from the
// .wasm files beside this module (Node's fetch has no file: URLs), else taken from the inline copy
// (Deno without --allow-read, a bundle that left the files behind).
import { readFile } from 'node:fs/promises';
import { nodeThreads } from './backends/node-spawn.js';
import { setThreadRuntime } from './backends/spawn.js';
import { inlineRoute, setWasmRoutes, wasmUrl } from './backends/wasm-source.js';
import { messageOf } from './errors.js';

setWasmRoutes([
  {
    name: 'file',
    async load(kind) {
      const url = wasmUrl(kind);
      let bytes: Uint8Array<ArrayBuffer>;
      try {
        bytes = await readFile(url);
      } catch (e) {
        throw new Error(`could not read ${url.pathname} (${messageOf(e)})`, { cause: e });
      }
      return WebAssembly.compile(bytes);
    },
  },
  inlineRoute,
]);

// Deno and Bun resolve this entry too, and have Web Workers; Node has worker_threads.
if (typeof (globalThis as { Worker?: unknown }).Worker !== 'function') {
  setThreadRuntime(nodeThreads(new URL('./backends/node-worker.js', import.meta.url)));
}

export * from './index.js';
