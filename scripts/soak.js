// npm run soak [-- --calls 100000 --backends wasm,webgpu]: mixed calls on one instance per backend against the float64
// reference; prints the process's heap and external memory and the instances' memoryUsage() totals at
// the start and the end.
import * as lib from 'webcrf'; // the package's own exports: Node's condition loads the .wasm from disk
import { soak } from '../test/suites/soak.js';
import { nodeBackends } from './node-backends.js';

const i = process.argv.indexOf('--calls');
const calls = i >= 0 ? Number(process.argv[i + 1]) : 100_000;
const j = process.argv.indexOf('--backends');
const only = j >= 0 ? process.argv[j + 1].split(',') : null;
const heap = () => {
  globalThis.gc?.();
  const m = process.memoryUsage();
  return { heapBytes: m.heapUsed, externalBytes: m.external };
};
let failed = false;
for (const b of (await nodeBackends(lib)).filter((x) => !only || only.includes(x.name))) {
  const t0 = Date.now();
  const r = await soak({ lib, backend: b.name, options: b.options, calls, memory: heap });
  failed ||= r.disagreements.length > 0;
  console.log(
    JSON.stringify({
      backend: b.name,
      calls,
      seconds: (Date.now() - t0) / 1000,
      disagreements: r.disagreements.length,
      first: r.disagreements.slice(0, 3),
      start: r.start,
      end: r.end,
    }),
  );
}
process.exit(failed ? 1 : 0);
