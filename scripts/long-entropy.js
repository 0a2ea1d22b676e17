// node scripts/long-entropy.js [--max-t N] [--backends wasm,webgpu] (after npm run build): entropy of one
// chain at lengths up to the longest the package accepts (2^28 values: T = 2^27 at K = 2), on both
// WebAssembly builds and WebGPU (which runs chains up to its ENTROPY_MAX_T, longer ones on wasm), against
// a float64 reference that streams the chain in O(K) memory. Prints one JSON line per length and kernel;
// exits 1 when a relative error exceeds --tol (default 1e-6). Too long for `npm test`, which runs the
// same checks at T = 1e6.
import { readFileSync } from 'node:fs';
import * as lib from 'webcrf';
import { rng } from '../test/suites/oracle.js';
import { nodeBackends } from './node-backends.js';

/** @param {string} name @param {string} def */
const arg = (name, def) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : def;
};
const K = Number(arg('--k', '2'));
const maxT = Math.min(Number(arg('--max-t', String(2 ** 28 / K))), Math.floor(2 ** 28 / K));
const tol = Number(arg('--tol', '1e-6'));
const only = arg('--backends', 'wasm,webgpu').split(',');

/** Transitions of scale 0.5 (the same for every length), start and end of 0.1. */
const R = rng(7);
const sd = {
  start_transitions: Array.from({ length: K }, () => Math.fround(0.1 * R.normal())),
  end_transitions: Array.from({ length: K }, () => Math.fround(0.1 * R.normal())),
  transitions: Array.from({ length: K }, () => Array.from({ length: K }, () => Math.fround(0.5 * (R.next() - 0.5)))),
};

/**
 * H(y | x) of one chain in float64 by the entropy semiring (as the js backend computes it), keeping
 * only the current step: the js backend keeps every step's state, 4 GiB at T = 2^27.
 * @param {Float32Array} em `[T, K]`
 */
function reference(em) {
  const T = em.length / K;
  const tr = sd.transitions.flat();
  let x = Float64Array.from(sd.start_transitions, (s, j) => s + em[j]);
  let H = new Float64Array(K);
  let nx = new Float64Array(K),
    nH = new Float64Array(K);
  const relax = (/** @type {Float64Array} */ v, /** @type {Float64Array} */ h) => {
    let m = -Infinity,
      a = 0;
    for (let i = 0; i < K; i++) if (v[i] > m) [m, a] = [v[i], i];
    let rest = 0,
      s = 0;
    for (let i = 0; i < K; i++) {
      const e = Math.exp(v[i] - m);
      if (i !== a) rest += e;
      s += e * (h[i] + (m - v[i]));
    }
    const l = Math.log1p(rest);
    return [m + l, s / (1 + rest) + l];
  };
  const v = new Float64Array(K);
  for (let t = 1; t < T; t++) {
    let top = -Infinity;
    for (let j = 0; j < K; j++) {
      for (let i = 0; i < K; i++) v[i] = x[i] + tr[i * K + j];
      const [xj, hj] = relax(v, H);
      nx[j] = xj + em[t * K + j];
      nH[j] = hj;
      top = Math.max(top, nx[j]);
    }
    // Relative to the step's best: only differences of x matter to H.
    for (let j = 0; j < K; j++) nx[j] -= top;
    [x, nx] = [nx, x];
    [H, nH] = [nH, H];
  }
  for (let j = 0; j < K; j++) v[j] = x[j] + sd.end_transitions[j];
  return relax(v, H)[1];
}

/** The kernels to compare: both WebAssembly builds, and WebGPU where it loads. @type {{ name: string, options: import('webcrf').CRFOptions }[]} */
const kernels = [];
const dist = new URL('../dist/', import.meta.url);
if (only.includes('wasm')) {
  for (const kind of ['simd', 'scalar']) {
    kernels.push({
      name: `wasm ${kind}`,
      options: { backend: 'wasm', wasmModule: await WebAssembly.compile(readFileSync(new URL(`webcrf.${kind}.wasm`, dist))) },
    });
  }
}
if (only.includes('webgpu')) {
  const gpu = (await nodeBackends(lib)).find((b) => b.name === 'webgpu');
  if (gpu) kernels.push({ name: 'webgpu', options: { backend: 'webgpu', ...gpu.options } });
}

// The streaming reference against the js backend where that fits in memory.
{
  const T = 20_000;
  const em = Float32Array.from({ length: T * K }, () => 1e-6 * (2 * R.next() - 1));
  const js = await lib.CRF.create(K, { backend: 'js' });
  js.loadStateDict(sd);
  const [want] = await js.entropy({ data: em, shape: [1, T, K] });
  const got = reference(em);
  if (!(Math.abs(got - want) <= 1e-7 * want)) throw new Error(`reference ${got} vs js backend ${want}`);
}

let failed = false;
for (let T = 1000; ; T = Math.min(T * 8, maxT)) {
  const em = Float32Array.from({ length: T * K }, () => 1e-6 * (2 * R.next() - 1));
  const t0 = Date.now();
  const want = reference(em);
  const refSeconds = (Date.now() - t0) / 1000;
  for (const k of kernels) {
    const crf = await lib.CRF.create(K, k.options);
    crf.loadStateDict(sd);
    const t1 = Date.now();
    const [h] = await crf.entropy({ data: em, shape: [1, T, K] });
    const rel = Math.abs(h - want) / want;
    failed ||= !(rel <= tol);
    console.log(JSON.stringify({ kernel: k.name, K, T, entropy: h, reference: want, relativeError: rel, seconds: (Date.now() - t1) / 1000, refSeconds }));
    crf.dispose();
  }
  if (T === maxT) break;
}
process.exit(failed ? 1 : 0);
