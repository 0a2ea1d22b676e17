// Tests import src/, where the kernels' relative URL would point into src/; the built kernels are in
// dist/ (`npm run build:wasm`, run by `npm test`), so Node tests read them from there.
import { readFile } from 'node:fs/promises';
import { nodeThreads } from '../src/backends/wasm/threads/node-spawn.js';
import { setThreadRuntime } from '../src/backends/wasm/threads/runtime.js';
import { setWasmRoutes } from '../src/backends/wasm/source.js';

export const distWasm = (kind: 'simd' | 'scalar') => new URL(`../dist/webcrf.${kind}.wasm`, import.meta.url);

setWasmRoutes([{ name: 'dist', load: async (kind) => WebAssembly.compile(await readFile(distWasm(kind))) }]);
// Likewise the worker threads of `threads: n`: src/ holds TypeScript, so they start from dist/.
setThreadRuntime(nodeThreads(() => new URL('../dist/node-worker.js', import.meta.url)));
