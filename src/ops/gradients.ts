// forwardBackward's op: forward–backward with the emission gradient written in the same sweep, so the
// marginals never leave the kernel as marginals, and the gold path's score (as logLikelihood's). The
// start, end and transition gradients are K- and K²-sized and are made in model/grad.ts from what this
// returns.
import type { Packed } from '../call/pack.js';
import { countBlock, countInBlocks, sumBlocks, type Posteriors } from './posteriors.js';
import { defineOp, joinField, plainFloats } from './op.js';
import { type LogLikelihoodArgs, sliceTags } from './log-likelihood.js';

/** logLikelihood's args (the gold tags and their row length), and the loss weight. */
export interface GradientArgs extends LogLikelihoodArgs {
  /** The loss weight: 1 for a summed log-likelihood, 1 / divisor for a mean. */
  weight: number;
}

export interface Gradients {
  /** log Z per sequence (−∞ where no path is allowed). */
  logZ: Float64Array;
  /** The gold tags' score per sequence, as logLikelihood's (ops/path-scores.ts exactly; a plain array from the WASM backend). */
  score: Float64Array | number[];
  /**
   * ∂(weight · Σ_b llh_b)/∂e = weight · ([y_s = j] − p(y_s = j)), packed `[B, T, K]`, 0 past each
   * length; each value computed in float64 from the float32 marginal and rounded once.
   */
  emissions: Float32Array;
  /** p(y_0 = j) and p(y_{len−1} = j) of each sequence, `[B, 2, K]` (0 for an empty one). */
  ends: Float32Array | Float64Array;
  /** Σ_b Σ_s p(y_{s−1} = i, y_s = j), `[K · K]`. */
  transCounts: Float64Array;
}

export interface GradientsPart {
  logZ: Float64Array;
  score: Float64Array | number[];
  emissions: Float32Array;
  ends: Float32Array | Float64Array;
  /** `[blocks, K · K]`, in block order (posteriors' blocks). */
  blockCounts: Float64Array;
}

/** The op's result from the posteriors and the gold scores, as the kernel writes it: what the js and webgpu backends return. */
export function fromPosteriors(p: Packed, post: Posteriors, { tags, weight }: GradientArgs, score: Float64Array): Gradients {
  const { B, T, K } = p;
  const unary = post.unary;
  const emissions = new Float32Array(B * T * K);
  const ends = unary instanceof Float64Array ? new Float64Array(B * 2 * K) : new Float32Array(B * 2 * K);
  for (let b = 0; b < B; b++) {
    const len = p.lengths[b];
    if (len === 0) continue;
    for (let s = 0; s < len; s++) {
      const o = (b * T + s) * K;
      for (let j = 0; j < K; j++) emissions[o + j] = -weight * unary[o + j];
      const y = tags[b * T + s];
      emissions[o + y] = -weight * unary[o + y] + weight;
    }
    ends.set(unary.subarray(b * T * K, (b * T + 1) * K), b * 2 * K);
    ends.set(unary.subarray((b * T + len - 1) * K, (b * T + len) * K), (b * 2 + 1) * K);
  }
  return { logZ: post.logZ, score, emissions, ends, transCounts: post.transCounts };
}

export const gradients = defineOp<GradientArgs, Gradients, GradientsPart>({
  name: 'gradients',
  reference: () => import('../backends/js/ops/gradients.js').then((m) => m.gradients),
  wasm: {
    kernel: 'gradients',
    // posteriors' outputs, then the tags (an input the run writes), the ends and the scores.
    outputs: (p) => {
      const Kp = (p.K + 3) & ~3;
      return [p.B * 8, p.B * p.T * p.K * 4, Kp * Kp * 8, p.B * p.T * 4, p.B * 2 * p.K * 4, p.B * 8];
    },
    run(c, { B, T, K }, { tags, weight }) {
      const seq = T * K * 4;
      const [z, grads, counts, tg, ends, score] = c.out;
      c.mem.i32.set(tags.length === B * T ? tags : tags.subarray(0, B * T), tg >>> 2);
      // One kernel call per block, as posteriors.
      const blockCounts = countInBlocks(c, counts, B, T, K, (b0, n) =>
        c.kernel(
          n,
          T,
          c.em + b0 * seq,
          c.lens + b0 * 4,
          tg + b0 * T * 4,
          weight,
          z + b0 * 8,
          score + b0 * 8,
          grads + b0 * seq,
          ends + b0 * 8 * K,
          counts,
          c.work,
        ),
      );
      return {
        logZ: c.mem.f64.slice(z >>> 3, (z >>> 3) + B),
        score: plainFloats(c.mem.f64, score >>> 3, B),
        emissions: c.mem.f32.slice(grads >>> 2, (grads >>> 2) + B * T * K),
        ends: c.mem.f32.slice(ends >>> 2, (ends >>> 2) + B * 2 * K),
        blockCounts,
      };
    },
  },
  gpu: () => import('../backends/webgpu/ops/gradients.js').then((m) => m.gradients),
  threads: {
    // From bench/threads.js --table (docs/performance.md, Threads).
    split: { minK: 9, minWork: 2 ** 23 },
    block: countBlock,
    slice: sliceTags,
    join: (parts, p) => ({
      logZ: joinField(parts, 'logZ'),
      score: joinField(parts, 'score'),
      emissions: joinField(parts, 'emissions'),
      ends: joinField(parts, 'ends'),
      transCounts: sumBlocks(parts, p.K),
    }),
  },
});
