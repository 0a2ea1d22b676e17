/// <reference types="node" />
// Entry for the `node` export condition (Node, Deno and Bun resolve it): the kernels are read from the
// .wasm files beside this module (Node's fetch has no file: URLs), else taken from the inline copy
// (Deno without --allow-read, a bundle that left the files behind). Node's modules are looked up with
// process.getBuiltinModule where there is one (Node ≥ 20.16, Deno ≥ 2.1, Bun), imported where not: an
// import with the package cost a fresh process 0.7 ms of its cold start, the lookup 0.05 ms.
import { nodeThreads } from './backends/wasm/threads/node-spawn.js';
import { setThreadRuntime } from './backends/wasm/threads/runtime.js';
import { inlineRoute } from './backends/wasm/inline.js';
import { setWasmRoutes, wasmUrl } from './backends/wasm/source.js';
import { messageOf } from './errors.js';

const builtins = process as { getBuiltinModule?: typeof process.getBuiltinModule };

setWasmRoutes([
  {
    name: 'file',
    async load(kind) {
      const url = wasmUrl(kind);
      let bytes: Uint8Array<ArrayBuffer>;
      try {
        const fs = builtins.getBuiltinModule?.('node:fs/promises') ?? (await import('node:fs/promises'));
        bytes = await fs.readFile(url);
      } catch (e) {
        throw new Error(`could not read ${url.pathname} (${messageOf(e)})`, { cause: e });
      }
      return WebAssembly.compile(bytes);
    },
  },
  inlineRoute,
]);

// Node has worker_threads, unref'd while idle so that a script that forgets dispose() still exits. Deno
// has them too, and its Web Workers would keep the process alive; Bun's Web Workers unref (spawn.ts).
const g = globalThis as { Worker?: unknown; Deno?: unknown };
if (typeof g.Worker !== 'function' || g.Deno !== undefined) {
  setThreadRuntime(nodeThreads(() => new URL('./node-worker.js', import.meta.url)));
}

export * from './index.js';
