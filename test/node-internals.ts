// The package's node entry with the split decision's inputs beside it, for bench/threads.js (which
// times one thread against a forced split): bundled by scripts/build-bundle.js into
// build/node-internals.js, not shipped. The kernels and the worker entry are dist/'s.
import { readFile } from 'node:fs/promises';
import { setWasmRoutes } from '../src/backends/wasm/source.js';
import { nodeThreads } from '../src/backends/wasm/threads/node-spawn.js';
import { setThreadRuntime } from '../src/backends/wasm/threads/runtime.js';

export * from '../src/node.js';
export { threadsTuning, threadsWork } from '../src/backends/wasm/threads/backend.js';
export { choiceTuning } from '../src/backends/wasm/threads/choice.js';

const dist = new URL('../dist/', import.meta.url);
setWasmRoutes([{ name: 'dist', load: async (kind) => WebAssembly.compile(await readFile(new URL(`webcrf.${kind}.wasm`, dist))) }]);
setThreadRuntime(nodeThreads(() => new URL('node-worker.js', dist)));
