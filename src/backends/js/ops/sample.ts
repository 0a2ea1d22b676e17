// Paths drawn from p(y | x) in float64: the sample op's reference, which the js backend runs and the other
// backends are tested against (the op's spec, with what it computes: src/ops/sample.ts).
import type { Packed } from '../../../call/pack.js';
import type { Potentials } from '../../../model/parameters.js';
import type { SampleArgs, SampleResult } from '../../../ops/sample.js';
import { LogSum, chain, finalSum } from '../recursion.js';

/** One round of murmur3_x86_32's body: the word k mixed into the hash h. */
function round(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** murmur3_x86_32 of the four words (a, b, c, d) under the hash seed h. */
function murmur4(h: number, a: number, b: number, c: number, d: number): number {
  h = round(round(round(round(h, a), b), c), d) ^ 16;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The uniform in [0, 1) of step `step` of sample `sample` of sequence `seq` under `seed` (see the header). */
export function uniform(seed: number, seq: number, sample: number, step: number): number {
  const hi = murmur4(0, seed, seq, sample, step) >>> 5;
  const lo = murmur4(0x9e3779b9, seed, seq, sample, step) >>> 6;
  return (hi * 2 ** 26 + lo) / 2 ** 53;
}

/**
 * The first i whose cumulative weight exceeds u · total (weights w[0..n), total their sum > 0); where
 * rounding leaves none, the last tag of positive weight.
 */
function draw(w: Float64Array, n: number, total: number, u: number): number {
  const target = u * total;
  let cum = 0,
    last = 0;
  for (let i = 0; i < n; i++) {
    if (w[i] === 0) continue;
    cum += w[i];
    last = i;
    if (cum > target) return i;
  }
  return last;
}

/** w[i] = exp(v[i] − max v) for the n values; returns their sum (0 when every v is −∞). */
function weights(v: Float64Array, n: number, w: Float64Array): number {
  let m = -Infinity;
  for (let i = 0; i < n; i++) if (v[i] > m) m = v[i];
  if (m === -Infinity) return 0;
  let s = 0;
  for (let i = 0; i < n; i++) s += w[i] = Math.exp(v[i] - m);
  return s;
}

export function sample(p: Packed, w: Potentials, { numSamples: S, seed, first }: SampleArgs): SampleResult {
  const { B, T, K } = p;
  const paths = new Int32Array(B * S * T);
  const logZ = new Float64Array(B);
  const v = new Float64Array(K);
  const q = new Float64Array(K);
  const endW = new Float64Array(K);
  for (let b = 0; b < B; b++) {
    const len = p.lengths[b];
    if (len === 0) continue;
    const c = chain(LogSum, p.emissions, b * T * K, K, len, K, w.start, w.trans, false, null);
    logZ[b] = c.shift === -Infinity ? -Infinity : finalSum(LogSum, c, len, K, w.end, null)[0];
    if (logZ[b] === -Infinity) continue;
    const { alpha } = c;
    const last = (len - 1) * K;
    for (let j = 0; j < K; j++) v[j] = alpha[last + j] + w.end[j];
    const endTotal = weights(v, K, endW);
    for (let n = 0; n < S; n++) {
      const out = (b * S + n) * T;
      let y = draw(endW, K, endTotal, uniform(seed, first + b, n, len - 1));
      paths[out + len - 1] = y;
      for (let s = len - 2; s >= 0; s--) {
        for (let i = 0; i < K; i++) v[i] = alpha[s * K + i] + w.trans[i * K + y];
        y = draw(q, K, weights(v, K, q), uniform(seed, first + b, n, s));
        paths[out + s] = y;
      }
    }
  }
  return { paths, logZ };
}
