// Paths drawn exactly from p(y | x) (forward filtering, backward sampling, as torch-struct's `sample`):
// the forward pass over the log-sum semiring keeping every step's α, then, per sample, the last tag
// drawn ∝ α_{L−1}[j] · end[j] and each earlier one ∝ α_s[i] · trans[i][y_{s+1}].
//
// The draws come from a counter-based generator, stateless and the same in the kernel
// (assembly/ops/sample.ts): the uniform of (seed, sequence, sample, step) is murmur3_x86_32 of those
// four 32-bit words, the sequence as its index in the whole call's batch, under the hash seeds 0 and
// 0x9e3779b9; 27 bits of the first hash and 26 of the second make a 53-bit u in [0, 1). Step s draws its
// tag as the first i whose cumulative weight exceeds u · Σ weights, so a tag of weight 0 (forbidden by a
// constraint or an annotation) is never drawn. Nothing is carried from one draw to the next: a range of
// sequences cut off for a thread (`first`, its first sequence's index) draws what the whole batch draws.
import type { Packed } from '../call/pack.js';
import type { Potentials } from '../model/parameters.js';
import { LogSum, chain, finalSum } from '../backends/js/recursion.js';
import { defineOp, joinField } from './op.js';

export interface SampleArgs {
  /** Paths per sequence. */
  numSamples: number;
  /** The generator's key, an integer in [0, 2^32). */
  seed: number;
  /** The index, in the whole call, of the first sequence of the range this runs on. */
  first: number;
}

export interface SampleResult {
  /** `[B, numSamples, T]` packed paths (0 past each length, and for a sequence with no allowed path). */
  paths: Int32Array;
  /** log Z per sequence (−∞ where no path is allowed, 0 for a sequence of length 0). */
  logZ: Float64Array;
}

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

function reference(p: Packed, w: Potentials, { numSamples: S, seed, first }: SampleArgs): SampleResult {
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

export const sample = defineOp<SampleArgs, SampleResult>({
  name: 'sample',
  reference,
  wasm: {
    kernel: 'sample',
    outputs: (p, { numSamples }) => [p.B * numSamples * p.T * 4, p.B * 8],
    run(c, p, { numSamples, seed, first }) {
      c.kernel(p.B, p.T, numSamples, seed, first, c.em, c.lens, c.out[0], c.out[1], c.work);
      const [paths, z] = c.out;
      const n = p.B * numSamples * p.T;
      return { paths: c.mem.i32.slice(paths >>> 2, (paths >>> 2) + n), logZ: c.mem.f64.slice(z >>> 3, (z >>> 3) + p.B) };
    },
  },
  // The draws are a sequential walk per sample; the WebGPU backend hands the op to its CPU backend.
  gpu: 'cpu',
  threads: {
    // posteriors' rule, taken by analogy (a forward pass keeping every step, then per-step work), not measured.
    split: { minK: 9, minWork: 2 ** 26 },
    slice: (args, b0) => ({ ...args, first: args.first + b0 }),
    join: (parts) => ({ paths: joinField(parts, 'paths'), logZ: joinField(parts, 'logZ') }),
  },
});
