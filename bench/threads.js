// What `threads` buys, measured on a busy machine: one CRF per thread count, their calls interleaved
// (1, 2, 1, 2, …) so that other load on the machine hits every count alike; the median per call, and
// each count's ratio to one thread. One JSON line per (op, B, T, K), and first a `ceiling` line: what
// the machine gives right now, the same busy loop on 1 thread vs split over n (a shared or
// overcommitted machine gives far less than n). Run `npm run build` first.
//   node bench/threads.js [--threads=1,2] [--ops=forward,decode,forwardBackward]
//                         [--shapes=64x128x9,256x128x9,64x128x32,256x128x32] [--calls=40]
import { Worker } from 'node:worker_threads';
import * as lib from 'webcrf';
import { rng } from '../test/suites/oracle.js';

/** @type {Record<string, string>} */
const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
const THREADS = (args.threads ?? '1,2').split(',').map((t) => (t === 'auto' ? t : Number(t)));
const OPS = (args.ops ?? 'forward,decode,forwardBackward').split(',');
const SHAPES = (args.shapes ?? '64x128x9,256x128x9,64x128x32,256x128x32').split(',').map((s) => s.split('x').map(Number));
const CALLS = Number(args.calls ?? 40);

/** @type {Record<string, (crf: lib.CRF, em: lib.EmissionsInput, tags: lib.TagsInput) => Promise<unknown>>} */
const RUN = {
  forward: (crf, em, tags) => crf.forward(em, tags),
  decode: (crf, em) => crf.decode(em),
  forwardBackward: (crf, em, tags) => crf.forwardBackward(em, tags),
  marginals: (crf, em) => crf.marginals(em),
};

const median = (/** @type {number[]} */ a) => a.slice().sort((x, y) => x - y)[a.length >> 1];

/** The speed-up a plain busy loop gets from n threads here and now. */
async function ceiling(/** @type {number} */ n) {
  const code = `require('node:worker_threads').parentPort.on('message', (m) => { let x = 0; for (let i = 0; i < m; i++) x += Math.sqrt(i); require('node:worker_threads').parentPort.postMessage(x); });`;
  const ws = Array.from({ length: n }, () => new Worker(code, { eval: true }));
  const run = (/** @type {Worker} */ w, /** @type {number} */ m) => new Promise((resolve) => (w.once('message', resolve), w.postMessage(m)));
  const N = 1e8;
  await Promise.all(ws.map((w) => run(w, 1e6)));
  let t0 = performance.now();
  await run(ws[0], N);
  const one = performance.now() - t0;
  t0 = performance.now();
  await Promise.all(ws.map((w) => run(w, N / n)));
  const split = performance.now() - t0;
  await Promise.all(ws.map((w) => w.terminate()));
  return Number((one / split).toFixed(2));
}
const counts = THREADS.flatMap((t) => (typeof t === 'number' && t > 1 ? [t] : []));
console.log(JSON.stringify({ ceiling: Object.fromEntries(await Promise.all(counts.map(async (n) => [n, await ceiling(n)]))) }));

for (const [B, T, K] of SHAPES) {
  const r = rng(B * 1_000_003 + T * 1009 + K).next;
  const em = { data: new Float32Array(B * T * K).map(() => (r() * 2 - 1) * 4), shape: [B, T, K] };
  const tags = { data: Int32Array.from({ length: B * T }, () => Math.floor(r() * K)), shape: [B, T] };
  const crfs = await Promise.all(THREADS.map((threads) => lib.CRF.create(K, { backend: 'wasm', seed: 7, threads })));
  for (const op of OPS) {
    /** @type {number[][]} */
    const ms = crfs.map(() => []);
    for (const crf of crfs) for (let i = 0; i < 3; i++) await RUN[op](crf, em, tags); // warm-up
    for (let i = 0; i < CALLS; i++) {
      for (const [j, crf] of crfs.entries()) {
        const t0 = performance.now();
        await RUN[op](crf, em, tags);
        ms[j].push(performance.now() - t0);
      }
    }
    const med = ms.map(median);
    console.log(
      JSON.stringify({
        op,
        B,
        T,
        K,
        threads: THREADS,
        msPerCall: med.map((m) => Number(m.toFixed(3))),
        vsOneThread: med.map((m) => Number((med[0] / m).toFixed(2))),
      }),
    );
  }
  for (const crf of crfs) crf.dispose();
}
