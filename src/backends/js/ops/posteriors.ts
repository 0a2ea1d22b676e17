// Forward–backward in float64: the posteriors op's reference, which the js backend runs and the other
// backends are tested against (the op's spec, with what it computes: src/ops/posteriors.ts).
import type { Packed } from '../../../call/pack.js';
import type { Potentials } from '../../../model/parameters.js';
import type { Posteriors } from '../../../ops/posteriors.js';
import { LogSum, chain, finalSum, normalise } from '../recursion.js';

/**
 * Forward–backward on relative log-weights (see `chain`): each position's marginals are normalised
 * by their own log-sum-exp and each step's pair marginals by theirs, so no absolute log Z (which
 * carries ulps of T·|e|) enters a probability.
 */
export function posteriors(p: Packed, w: Potentials): Posteriors {
  const { B, T, K } = p;
  const logZ = new Float64Array(B);
  const unary = new Float64Array(B * T * K);
  const transCounts = new Float64Array(K * K);
  const v = new Float64Array(K * K);
  const q = new Float64Array(K * K);
  for (let b = 0; b < B; b++) {
    const len = p.lengths[b];
    if (len === 0) continue;
    const base = b * T * K;
    const fwd = chain(LogSum, p.emissions, base, K, len, K, w.start, w.trans, false, null);
    logZ[b] = fwd.shift === -Infinity ? -Infinity : finalSum(LogSum, fwd, len, K, w.end, null)[0];
    if (logZ[b] === -Infinity) continue;
    const { alpha } = fwd;
    // beta (visited back to front: step s at row len-1-s) includes e_s; its relative part comes out.
    const { alpha: beta } = chain(LogSum, p.emissions, base + (len - 1) * K, -K, len, K, w.end, w.trans, true, null);
    for (let s = 0; s < len; s++) {
      const row = base + s * K;
      let me = -Infinity;
      for (let j = 0; j < K; j++) me = Math.max(me, p.emissions[row + j]);
      const bs = (len - 1 - s) * K;
      // An emission of −∞ (a tag a partial annotation rules out) has marginal 0; subtracting it would be NaN.
      for (let j = 0; j < K; j++) {
        const e = p.emissions[row + j];
        v[j] = e === -Infinity ? -Infinity : alpha[s * K + j] + beta[bs + j] - (e - me);
      }
      normalise(v, K, q);
      unary.set(q.subarray(0, K), row);
      if (s === 0) continue;
      for (let i = 0; i < K; i++) {
        for (let j = 0; j < K; j++) v[i * K + j] = alpha[(s - 1) * K + i] + w.trans[i * K + j] + beta[bs + j];
      }
      normalise(v, K * K, q);
      for (let i = 0; i < K * K; i++) transCounts[i] += q[i];
    }
  }
  return { logZ, unary, transCounts };
}
