// Independent oracles: brute-force enumeration over every path, written without the library's recursion.

// Plain JS so the same oracles run in Node (vitest) and in a browser page with no bundler.
import { generator } from '../../examples/random.js';

/**
 * @typedef {{ K: number, start: ArrayLike<number>, end: ArrayLike<number>, trans: ArrayLike<number>,
 *   allowed?: { trans: ArrayLike<number|boolean>, start: ArrayLike<number|boolean>, end: ArrayLike<number|boolean> } }} Params
 */

/** Every path over K tags of length L, with its score under emissions rows em[0..L-1]. */
/** @param {number[][]} em @param {Params} w @returns {{path: number[], score: number}[]} */
export function enumerate(em, w) {
  const L = em.length;
  const K = w.K;
  const out = [];
  if (L === 0) return [{ path: [], score: 0 }];
  const total = K ** L;
  for (let code = 0; code < total; code++) {
    const path = [];
    let c = code;
    for (let t = 0; t < L; t++) {
      path.push(c % K);
      c = Math.floor(c / K);
    }
    if (w.allowed) {
      let ok = !!w.allowed.start[path[0]] && !!w.allowed.end[path[L - 1]];
      for (let t = 1; t < L && ok; t++) ok = !!w.allowed.trans[path[t - 1] * K + path[t]];
      if (!ok) continue;
    }
    let s = w.start[path[0]] + em[0][path[0]] + w.end[path[L - 1]];
    for (let t = 1; t < L; t++) s += w.trans[path[t - 1] * K + path[t]] + em[t][path[t]];
    out.push({ path, score: s });
  }
  return out;
}

/** @param {number[][]} em @param {Params} w */
export function bruteForce(em, w) {
  const paths = enumerate(em, w);
  const K = w.K;
  const L = em.length;
  let m = -Infinity,
    top = -1;
  paths.forEach((p, i) => {
    if (p.score > m) {
      m = p.score;
      top = i;
    }
  });
  // log Z = m + log1p(rest), rest the mass of every path but the best relative to it: −log p(y) =
  // (m − score) + log1p(rest) term by term, so the entropy keeps its digits when one path holds nearly
  // all the mass (−Σ p log p computed as log Z − score would cancel).
  let rest = 0;
  paths.forEach((p, i) => {
    if (i !== top) rest += Math.exp(p.score - m);
  });
  const logZ = L === 0 ? 0 : m + Math.log1p(rest);
  const marg = em.map(() => new Array(K).fill(0));
  const pairs = new Array(K * K).fill(0);
  let entropy = 0;
  for (const p of paths) {
    const q = Math.exp(p.score - logZ);
    p.path.forEach((y, t) => {
      marg[t][y] += q;
      if (t > 0) pairs[p.path[t - 1] * K + y] += q;
    });
    if (q > 0) entropy += (Math.exp(p.score - m) / (1 + rest)) * (m - p.score + Math.log1p(rest));
  }
  const sorted = [...paths].sort((a, b) => b.score - a.score);
  return {
    logZ: L === 0 ? 0 : logZ,
    paths,
    sorted,
    marginals: marg,
    pairs,
    entropy: L === 0 ? 0 : entropy,
    scoreOf: (/** @type {number[]} */ y) => paths.find((p) => p.path.join() === y.join())?.score ?? -Infinity,
  };
}

/** A deterministic generator for test data (the examples' mulberry32), shared by the tests, test/webgpu/checks.js and bench/. */
/** @param {number} seed */
export function rng(seed) {
  const { next } = generator(seed);
  return {
    next,
    normal: () => Math.sqrt(-2 * Math.log(next() + 1e-300)) * Math.cos(2 * Math.PI * next()),
    int: (/** @type {number} */ n) => Math.floor(next() * n),
    /** Integer in [lo, hi], log-uniform so that small and large sizes both occur. */
    logInt: (/** @type {number} */ lo, /** @type {number} */ hi) =>
      Math.min(hi, Math.floor(Math.exp(Math.log(lo) + next() * (Math.log(hi + 1) - Math.log(lo))))),
  };
}

/** @typedef {ReturnType<typeof rng>} Rng */
