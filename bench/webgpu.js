// WebGPU bench in headless Chromium, a browser's own WebGPU with its timestamp queries: one
// JSON line per (backend, op, B, T, K) from bench/webgpu.html, the webgpu lines with kernel time from
// timestamp queries and wall time with readback, the wasm backend beside them on the same page.
// Without a GPU the adapter is SwiftShader and the webgpu lines say so: they are not GPU figures.
//   node bench/webgpu.js [--shapes=1x8x5,32x128x9] [--ops=logPartition,viterbi,posteriors] [--min-ms=300]
// (npm run bench:webgpu builds first; npm run bench runs it after bench/run.js, whose Node lines give
// webgpu's wall time through the public API.)
import { pageResult, serveToChromium } from '../scripts/chromium.js';

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
const query = new URLSearchParams();
if (args.shapes) query.set('shapes', args.shapes);
if (args.ops) query.set('ops', args.ops);
if (args['min-ms']) query.set('minMs', args['min-ms']);

const chrome = await serveToChromium();
try {
  const { result: got } = await pageResult(chrome, `/bench/webgpu.html?${query}`, '__bench', { timeout: 600_000, polling: 500 });
  if (got.fatal) throw new Error(got.fatal);
  if (got.skipped) console.log(JSON.stringify({ skipped: got.skipped }));
  else for (const l of got.lines) console.log(JSON.stringify(l));
} finally {
  await chrome.close();
}
