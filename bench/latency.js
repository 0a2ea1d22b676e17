// Per-call latency of one short sentence through the public API, as an interactive page sees it:
//   back-to-back   the best of several blocks of consecutive calls (the steady state)
//   after idle     one call after 50 ms without calls, median of 31 (a page decodes after the user typed:
//                  caches are cold again and every allocation the call makes costs more than when warm)
//   cold start     a fresh Node process: import webcrf, CRF.create, the first decode (median of 5), in
//                  an entry module (bench/cold-start.mjs): after Node's loader has started and read a file
import { spawnSync } from 'node:child_process';

/**
 * @typedef {{ op: string, B: number, T: number, K: number, backToBackUs: number, afterIdleUs: number }} Latency
 */

const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));

/**
 * @param {typeof import('webcrf')} lib
 * @param {import('webcrf').CRFOptions} options
 * @param {number[]} shape
 * @returns {Promise<Latency[]>}
 */
export async function callLatency(lib, options, [B, T, K]) {
  const crf = await lib.CRF.create(K, { seed: 7, ...options });
  const data = Float32Array.from({ length: B * T * K }, (_, i) => Math.sin(i * 12.9898) * 4);
  const em = { data, shape: [B, T, K] };
  /** @type {Record<string, () => Promise<unknown>>} */
  const ops = { decode: () => crf.decode(em), logPartition: () => crf.logPartition(em) };
  /** @type {Latency[]} */
  const out = [];
  for (const [op, call] of Object.entries(ops)) {
    const t0 = performance.now();
    while (performance.now() - t0 < 300) await call();
    let best = Infinity;
    for (let block = 0; block < 7; block++) {
      const n = 1000;
      const s = performance.now();
      for (let i = 0; i < n; i++) await call();
      best = Math.min(best, ((performance.now() - s) / n) * 1000);
    }
    const idle = [];
    for (let r = 0; r < 31; r++) {
      await sleep(50);
      const s = performance.now();
      await call();
      idle.push((performance.now() - s) * 1000);
    }
    idle.sort((a, b) => a - b);
    out.push({ op, B, T, K, backToBackUs: Number(best.toFixed(2)), afterIdleUs: Number(idle[15].toFixed(1)) });
  }
  crf.dispose();
  return out;
}

/**
 * Import, create and the first decode in a fresh process, in milliseconds (median of `runs`).
 * @param {string} backend
 * @param {number[]} shape
 * @param {number} runs
 */
export function coldStart(backend, [B, T, K], runs = 5) {
  // An entry file, as an application's is: Node has loaded its file-reading internals before the
  // entry's first line (3–5 ms that a first import from `node -e` would count against webcrf).
  const entry = new URL('cold-start.mjs', import.meta.url);
  /** @type {{ importMs: number, createMs: number, firstCallMs: number, totalMs: number }[]} */
  const rows = [];
  for (let r = 0; r < runs; r++) {
    const p = spawnSync(process.execPath, [entry.pathname, backend, String(B), String(T), String(K)], { encoding: 'utf8' });
    if (p.status !== 0) throw new Error(`cold start: ${p.stderr}`);
    rows.push(JSON.parse(p.stdout.trim()));
  }
  const med = (/** @type {'importMs' | 'createMs' | 'firstCallMs' | 'totalMs'} */ k) => {
    const xs = rows.map((x) => x[k]).sort((a, b) => a - b);
    return Number(xs[Math.floor(xs.length / 2)].toFixed(2));
  };
  return { backend, B, T, K, importMs: med('importMs'), createMs: med('createMs'), firstCallMs: med('firstCallMs'), totalMs: med('totalMs') };
}
