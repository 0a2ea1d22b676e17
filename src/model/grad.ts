import type { Posteriors } from '../ops/posteriors.js';
import type { Gradients } from '../ops/gradients.js';
import { type Packed, unpackToLayout } from '../call/pack.js';

/**
 * Gradient and expectation math, written once for every backend on top of the posteriors it returns.
 * ∂llh/∂e[s][j] = [y_s = j] − p(y_s = j); ∂llh/∂trans[i][j] = #(i→j in y) − Σ_s p(i→j at s);
 * start and end likewise with the first and last steps.
 */

/** The gradients as forwardBackward hands them out: float32, each summed in float64 and rounded once. */
export interface ParamGrads {
  /** In the caller's layout: `[B, denseT, K]` batch-first, else `[denseT, B, K]`; 0 where the mask is off. */
  emissions: Float32Array;
  startTransitions: Float32Array;
  endTransitions: Float32Array;
  transitions: Float32Array;
}

/**
 * Gradients of `weight · Σ_b llh_b` with respect to the emissions and the parameters, for llh_b =
 * log Σ_{y ∈ A_b} exp score(y) − log Z_b: the expected counts under the distribution restricted to
 * A_b minus those under the full one (`post`). A_b is the gold path (`gold` = packed tags: its counts
 * are 0/1) or a partial annotation (`gold` = the posteriors of the restricted distribution).
 *
 * The emission gradient goes straight from the packed marginals to float32 in the caller's layout
 * (`denseT` steps, `batchFirst`), one pass: each value is computed in float64 and rounded once, so it
 * is the float32 of the float64 gradient.
 */
export function llhGradients(p: Packed, gold: Int32Array | Posteriors, post: Posteriors, weight: number, denseT: number, batchFirst: boolean): ParamGrads {
  const { B, T, K } = p;
  const emissions = new Float32Array(B * denseT * K);
  const start = new Float64Array(K);
  const end = new Float64Array(K);
  const trans = new Float64Array(K * K);
  const tags = gold instanceof Int32Array ? gold : null;
  const restricted = tags ? null : (gold as Posteriors);
  // Locals, not property reads in the loops: the engine cannot hoist a load past the stores into emissions.
  const unary = post.unary;
  const goldUnary = restricted ? restricted.unary : null;
  const positions = p.positions;
  for (let b = 0; b < B; b++) {
    const len = p.lengths[b];
    if (len === 0) continue;
    // Positions increase strictly from 0: the last is len − 1 exactly when the steps are the first positions.
    const dense = positions[b * T + len - 1] === len - 1;
    for (let s = 0; s < len; s++) {
      const o = (b * T + s) * K;
      const t = dense ? s : positions[b * T + s];
      const dst = (batchFirst ? b * denseT + t : t * B + b) * K;
      if (tags) {
        for (let j = 0; j < K; j++) emissions[dst + j] = -weight * unary[o + j];
        const y = tags[b * T + s];
        emissions[dst + y] = -weight * unary[o + y] + weight;
        if (s > 0) trans[tags[b * T + s - 1] * K + y] += weight;
      } else {
        for (let j = 0; j < K; j++) emissions[dst + j] = -weight * unary[o + j] + weight * goldUnary![o + j];
      }
    }
    const first = b * T * K,
      last = (b * T + len - 1) * K;
    for (let j = 0; j < K; j++) {
      start[j] -= weight * post.unary[first + j];
      end[j] -= weight * post.unary[last + j];
      if (restricted) {
        start[j] += weight * restricted.unary[first + j];
        end[j] += weight * restricted.unary[last + j];
      }
    }
    if (tags) {
      start[tags[b * T]] += weight;
      end[tags[b * T + len - 1]] += weight;
    }
  }
  for (let i = 0; i < K * K; i++) trans[i] += weight * ((restricted ? restricted.transCounts[i] : 0) - post.transCounts[i]);
  return { emissions, startTransitions: Float32Array.from(start), endTransitions: Float32Array.from(end), transitions: Float32Array.from(trans) };
}

/**
 * llhGradients for gold tags from the gradients op: the same values, the emission gradient already made
 * by the op (packed; in the caller's layout as it is where the two orders are one), the start, end and
 * transition gradients from its marginals' end rows and counts.
 */
export function tagGradients(p: Packed, tags: Int32Array, g: Gradients, weight: number, denseT: number, batchFirst: boolean): ParamGrads {
  const { B, T, K } = p;
  // One float64 array for the three sums: a short call's time goes largely to allocations.
  const sums = new Float64Array(2 * K + K * K);
  const start = sums.subarray(0, K);
  const end = sums.subarray(K, 2 * K);
  const trans = sums.subarray(2 * K);
  const ends = g.ends;
  let dense = batchFirst && T === denseT;
  for (let b = 0; b < B; b++) {
    const len = p.lengths[b];
    if (len === 0) continue;
    // Positions increase strictly from 0: the last is len − 1 exactly when the steps are the first positions.
    if (p.positions[b * T + len - 1] !== len - 1) dense = false;
    for (let s = 1; s < len; s++) trans[tags[b * T + s - 1] * K + tags[b * T + s]] += weight;
    const first = b * 2 * K,
      last = first + K;
    for (let j = 0; j < K; j++) {
      start[j] -= weight * ends[first + j];
      end[j] -= weight * ends[last + j];
    }
    start[tags[b * T]] += weight;
    end[tags[b * T + len - 1]] += weight;
  }
  for (let i = 0; i < K * K; i++) trans[i] += weight * (0 - g.transCounts[i]);
  return {
    emissions: dense ? g.emissions : unpackToLayout(p, g.emissions, denseT, batchFirst),
    startTransitions: Float32Array.from(start),
    endTransitions: Float32Array.from(end),
    transitions: Float32Array.from(trans),
  };
}
