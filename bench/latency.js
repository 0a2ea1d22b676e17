// Per-call latency of one short sentence through the public API, as an interactive page sees it:
//   back-to-back   the best of several blocks of consecutive calls (the steady state)
//   after idle     one call after 50 ms without calls, median of 31 (a page decodes after the user typed:
//                  caches are cold again and every allocation the call makes costs more than when warm)
//   cold start     a fresh Node process: import webcrf, CRF.create, the first decode (median of 5), from
//                  after Node's module loader has started
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
  // The loader's own start (a first dynamic import costs Node 4–10 ms whatever it imports) is before
  // t0: an application's entry module pays it before its first line, with or without webcrf.
  const script = `
    await import('data:text/javascript,export default 0');
    const t0 = performance.now();
    const lib = await import('webcrf');
    const t1 = performance.now();
    const crf = await lib.CRF.create(${K}, { backend: '${backend}', seed: 7 });
    const t2 = performance.now();
    const data = Float32Array.from({ length: ${B * T * K} }, (_, i) => Math.sin(i * 12.9898) * 4);
    const t3 = performance.now();
    await crf.decode({ data, shape: [${B}, ${T}, ${K}] });
    const t4 = performance.now();
    console.log(JSON.stringify({ importMs: t1 - t0, createMs: t2 - t1, firstCallMs: t4 - t3, totalMs: t4 - t0 - (t3 - t2) }));`;
  /** @type {{ importMs: number, createMs: number, firstCallMs: number, totalMs: number }[]} */
  const rows = [];
  for (let r = 0; r < runs; r++) {
    const p = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', cwd: new URL('..', import.meta.url) });
    if (p.status !== 0) throw new Error(`cold start: ${p.stderr}`);
    rows.push(JSON.parse(p.stdout.trim()));
  }
  const med = (/** @type {'importMs' | 'createMs' | 'firstCallMs' | 'totalMs'} */ k) => {
    const xs = rows.map((x) => x[k]).sort((a, b) => a - b);
    return Number(xs[Math.floor(xs.length / 2)].toFixed(2));
  };
  return { backend, B, T, K, importMs: med('importMs'), createMs: med('createMs'), firstCallMs: med('firstCallMs'), totalMs: med('totalMs') };
}
