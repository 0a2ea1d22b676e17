// What `threads` buys, measured on a busy machine. Run `npm run build` first. Every line is JSON, and the
// first is a `ceiling` line: what the machine gives right now, the same busy loop on 1 thread vs split
// over n (a shared or overcommitted machine gives far less than n; figures taken below about 1.9 for
// two threads say little about free cores).
//
//   node bench/threads.js [--threads=1,2] [--ops=forward,decode,forwardBackward]
//                         [--shapes=64x128x9,256x128x9,64x128x32,256x128x32] [--calls=40]
// One CRF per thread count, their calls interleaved (1, 2, 1, 2, …) so that other load on the machine
// hits every count alike; the median per call, and each count's ratio to one thread, per (op, B, T, K).
// Calls the split table keeps on one thread run on one thread in every column.
//
//   node bench/threads.js --table [--ops=forward,logPartition,decode,topK,forwardBackward,entropy,sample] [--ks=9,16,32,64,128]
//                         [--T=128] [--from=2^20] [--to=2^27] [--calls=15] [--pays=1.1]
// The figures the ops' split rules (src/ops/*.ts, gathered in src/backends/wasm/threads/backend.ts SPLIT_TABLE) are set from: for each op and K, batches of T steps
// doubling from B·T·K² = `from` to `to`, each call run on one CRF with threads: 2 both ways, interleaved,
// all on the calling thread and split across the two threads. One line per size (medians and
// `ratio`, one thread's time over the split's), then one `table` line: per op of the table, the least
// K from which, at every larger K measured, a split was at least `pays` times faster from some size on
// (`minK`), and the least size from which it was at every K from there (`minWork`, rounded up to a
// power of two); `minK: Infinity` where no split paid.
import { Worker } from 'node:worker_threads';
import * as lib from '../build/node-internals.js';
import { rng } from '../test/suites/oracle.js';

/** @type {Record<string, string>} */
const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
const TABLE = 'table' in args;
const THREADS = (args.threads ?? '1,2').split(',').map((t) => (t === 'auto' ? t : Number(t)));
const OPS = (args.ops ?? (TABLE ? 'forward,logPartition,decode,topK,forwardBackward,entropy,sample' : 'forward,decode,forwardBackward')).split(',');
const SHAPES = (args.shapes ?? '64x128x9,256x128x9,64x128x32,256x128x32').split(',').map((s) => s.split('x').map(Number));
const CALLS = Number(args.calls ?? (TABLE ? 15 : 40));
const power = (/** @type {string} */ s) => (s.startsWith('2^') ? 2 ** Number(s.slice(2)) : Number(s));

/** @type {Record<string, (crf: lib.CRF, em: lib.EmissionsInput, tags: lib.TagsInput) => Promise<unknown>>} */
const RUN = {
  forward: (crf, em, tags) => crf.forward(em, tags),
  logPartition: (crf, em) => crf.logPartition(em),
  decode: (crf, em) => crf.decode(em),
  topK: (crf, em) => crf.decode(em, { topK: 4 }),
  forwardBackward: (crf, em, tags) => crf.forwardBackward(em, tags),
  marginals: (crf, em) => crf.marginals(em),
  entropy: (crf, em) => crf.entropy(em),
  sample: (crf, em) => crf.sample(em, { numSamples: 4, seed: 1 }),
};
/** The op of the split table each call runs. */
const TABLE_OP = /** @type {const} */ ({
  forward: 'logLikelihood',
  logPartition: 'logPartition',
  decode: 'viterbi',
  topK: 'kBest',
  forwardBackward: 'gradients',
  marginals: 'posteriors',
  entropy: 'entropy',
  sample: 'sample',
});

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

/** Random emissions at a tagger's scale, and tags, for a (B, T, K) call. */
function inputs(/** @type {number} */ B, /** @type {number} */ T, /** @type {number} */ K) {
  const r = rng(B * 1_000_003 + T * 1009 + K).next;
  const em = { data: new Float32Array(B * T * K).map(() => (r() * 2 - 1) * 4), shape: [B, T, K] };
  const tags = { data: Int32Array.from({ length: B * T }, () => Math.floor(r() * K)), shape: [B, T] };
  return { em, tags };
}

/**
 * Median ms per call of each variant, interleaved so that the machine's other load hits them alike.
 * @param {(() => Promise<unknown>)[]} variants
 */
async function interleaved(variants) {
  /** @type {number[][]} */
  const ms = variants.map(() => []);
  // Warm-up: a fresh CRF's worker threads compile the op's JavaScript over its first calls (a split
  // call's first ten or so ran 2-5x slower than the later ones).
  for (const v of variants) {
    const t0 = performance.now();
    for (let i = 0; i < 3 || performance.now() - t0 < 250; i++) await v();
  }
  for (let i = 0; i < CALLS; i++) {
    for (const [j, v] of variants.entries()) {
      const t0 = performance.now();
      await v();
      ms[j].push(performance.now() - t0);
    }
  }
  return ms.map(median);
}

async function compare() {
  for (const [B, T, K] of SHAPES) {
    const { em, tags } = inputs(B, T, K);
    const crfs = await Promise.all(THREADS.map((threads) => lib.CRF.create(K, { backend: 'wasm', seed: 7, threads })));
    for (const op of OPS) {
      const med = await interleaved(crfs.map((crf) => () => RUN[op](crf, em, tags)));
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
}

async function table() {
  const KS = (args.ks ?? '9,16,32,64,128').split(',').map(Number);
  const T = Number(args.T ?? 128);
  const [from, to] = [power(args.from ?? '2^20'), power(args.to ?? '2^27')];
  const pays = Number(args.pays ?? 1.1);
  /** @type {Record<string, { minK: number, minWork: number }>} */
  const out = {};
  for (const op of OPS) {
    /** Per K, the least work from which every larger size measured paid (Infinity: none did). */
    /** @type {Map<number, number>} */
    const paysFrom = new Map();
    for (const K of KS) {
      const crf = await lib.CRF.create(K, { backend: 'wasm', seed: 7, threads: 2 });
      let from_ = Infinity;
      for (let B = Math.max(1, Math.ceil(from / lib.threadsWork(1, T, K))); lib.threadsWork(B, T, K) <= to; B *= 2) {
        const { em, tags } = inputs(B, T, K);
        const run = (/** @type {'local' | 'split'} */ how) => () => {
          lib.threadsTuning.force = how;
          return RUN[op](crf, em, tags);
        };
        const [local, split] = await interleaved([run('local'), run('split')]);
        lib.threadsTuning.force = null;
        const ratio = local / split;
        const work = lib.threadsWork(B, T, K);
        if (ratio < pays) from_ = Infinity;
        else if (from_ === Infinity) from_ = work;
        console.log(
          JSON.stringify({
            op,
            tableOp: TABLE_OP[/** @type {keyof typeof TABLE_OP} */ (op)],
            K,
            B,
            T,
            work: `2^${Math.log2(work).toFixed(1)}`,
            msLocal: Number(local.toFixed(3)),
            msSplit: Number(split.toFixed(3)),
            ratio: Number(ratio.toFixed(2)),
          }),
        );
      }
      crf.dispose();
      paysFrom.set(K, from_);
    }
    // minK: the least K from which every larger K measured paid somewhere; minWork: the largest of their thresholds.
    let minK = Infinity;
    for (const K of [...KS].sort((a, b) => b - a)) {
      if (paysFrom.get(K) === Infinity) break;
      minK = K;
    }
    const works = KS.filter((K) => K >= minK).map((K) => /** @type {number} */ (paysFrom.get(K)));
    const minWork = minK === Infinity ? Infinity : 2 ** Math.ceil(Math.log2(Math.max(...works)));
    const key = TABLE_OP[/** @type {keyof typeof TABLE_OP} */ (op)];
    // Two calls share a table op (forwardBackward and marginals): the later-paying of them sets it.
    const prev = out[key];
    out[key] = prev ? { minK: Math.max(prev.minK, minK), minWork: Math.max(prev.minWork, minWork) } : { minK, minWork };
  }
  const show = (/** @type {number} */ v) => (v === Infinity ? 'Infinity' : Number.isInteger(Math.log2(v)) && v > 64 ? `2 ** ${Math.log2(v)}` : String(v));
  console.log(
    JSON.stringify({ table: Object.fromEntries(Object.entries(out).map(([k, v]) => [k, { minK: show(v.minK), minWork: show(v.minWork) }])), pays, T }),
  );
}

const counts = TABLE ? [2] : THREADS.flatMap((t) => (typeof t === 'number' && t > 1 ? [t] : []));
console.log(JSON.stringify({ ceiling: Object.fromEntries(await Promise.all(counts.map(async (n) => [n, await ceiling(n)]))) }));
await (TABLE ? table() : compare());
