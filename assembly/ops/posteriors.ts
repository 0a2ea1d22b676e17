// posteriors: forward–backward, for the gradients: log Z, unary marginals and expected transition counts.

import { chain } from '../chain';
import { noteLogSpaceFallback } from '../diagnostics';
import { LINEAR, Linear, LOGSUM, LogSum } from '../semirings';
import {
  endExp, endLog, numTags, paddedTags, rowBytes, startExp, startLog, supportCounts, transExp, transExpT, transLog, transLogT,
} from '../tables';
import { linearLogZ, logSpaceLogZ } from './log-z';
import { pairGemm, pairLog } from './pair-sums';
import { backwardCounts, forwardCounts, opArea, scratchRows, supportSets } from './work-area';

/**
 * Linear space with per-sequence fallback to log space, as logPartition.
 *
 * Per step s the forward pass keeps pre_s = ⊕_i α_{s−1}[i] ⊗ trans[i][·] (before the emission) and the
 * backward pass β̃_s (including the emission), each with its own scale; p_s(j) ∝ pre_s[j] ⊗ β̃_s[j] is
 * normalised per step, so the scales never need to meet. The pair marginals at step s are
 * α_{s−1}[i] ⊗ trans[i][j] ⊗ β̃_s[j] with the same normaliser D_s = Σ_j pre_s[j] ⊗ β̃_s[j].
 */
function posteriorsL<L>(
  B: i32, T: i32, em: usize, lens: usize, logZ: usize, unary: usize, counts: usize, work: usize,
): void {
  const K = numTags, Kp = paddedTags, row = rowBytes;
  const K4 = <isize>K << 2;
  const seq = <usize>T * <usize>K << 2;
  const cf = forwardCounts(work, T), cb = backwardCounts(work, T), scr = scratchRows(work, T);
  supportCounts(T, cf, false, supportSets(work, T));
  supportCounts(T, cb, true, supportSets(work, T));
  const AH = opArea(work, T);
  const AT = AH + <usize>T * row;
  const BT = AT + <usize>T * row;
  const V = BT + <usize>T * row;
  const G = V + <usize>T * row;
  const ACC = G + (<usize>(Kp * Kp) << 3);
  memory.fill(counts, 0, <usize>(Kp * Kp) << 3);
  memory.fill(unary, 0, <usize>B * seq);
  for (let b = 0; b < B; b++) {
    const len = load<i32>(lens + (<usize>b << 2));
    store<f64>(logZ + (<usize>b << 3), 0);
    if (len == 0) continue;
    const e = em + <usize>b * seq;
    const eLast = e + <usize>(len - 1) * <usize>K4;
    let z = linearLogZ(chain<L, Linear>(LINEAR, e, K4, len, transExp, startExp, AH, true, AT, cf, scr), len);
    const linear = !isNaN(z) && !isNaN(chain<L, Linear>(LINEAR, eLast, -K4, len, transExpT, endExp, BT, true, 0, cb, scr).logScale);
    if (!linear) {
      noteLogSpaceFallback();
      z = logSpaceLogZ(chain<L, LogSum>(LOGSUM, e, K4, len, transLog, startLog, AH, true, AT, 0, scr));
      if (z == -Infinity) { store<f64>(logZ + (<usize>b << 3), -Infinity); continue; }
      chain<L, LogSum>(LOGSUM, eLast, -K4, len, transLogT, endLog, BT, true, 0, 0, scr);
    }
    store<f64>(logZ + (<usize>b << 3), z);

    // Unary marginals and the per-step factor V[s] for the pair sums.
    const ub = unary + <usize>b * seq;
    for (let s = 0; s < len; s++) {
      const a = AT + <usize>s * row;
      const bt = BT + <usize>(len - 1 - s) * row;
      const v = V + <usize>s * row;
      const u = ub + <usize>s * <usize>K4;
      if (linear) {
        let D: f64 = 0;
        for (let j = 0; j < K; j++) D += <f64>load<f32>(a + (<usize>j << 2)) * <f64>load<f32>(bt + (<usize>j << 2));
        const inv = 1 / D;
        for (let j = 0; j < Kp; j++) {
          const o = <usize>j << 2;
          const aj = <f64>load<f32>(a + o), bj = <f64>load<f32>(bt + o);
          if (j < K) store<f32>(u + o, <f32>(aj * bj * inv));
          // Where pre is exactly 0 (structurally unreachable) no pair ends here; 0 keeps inf·0 out.
          store<f32>(v + o, aj > 0 ? <f32>(bj * inv) : 0);
        }
      } else {
        let M: f64 = -Infinity;
        for (let j = 0; j < K; j++) {
          const x = <f64>load<f32>(a + (<usize>j << 2)) + <f64>load<f32>(bt + (<usize>j << 2));
          if (x > M) M = x;
        }
        let D: f64 = 0;
        for (let j = 0; j < K; j++) D += Math.exp(<f64>load<f32>(a + (<usize>j << 2)) + <f64>load<f32>(bt + (<usize>j << 2)) - M);
        const lD = Math.log(D);
        for (let j = 0; j < Kp; j++) {
          const o = <usize>j << 2;
          // V = log p(y_s = j), kept apart from pre_s[j]: the pair exponent is then
          // (α_{s−1}[i] + trans[i][j] − pre_s[j]) + V[j], two terms that stay small for every pair
          // that matters, where α + trans + (β̃ − M − lD) would cancel terms of 1e19 in float32.
          const x = <f64>load<f32>(a + o) + <f64>load<f32>(bt + o) - M;
          if (j < K) store<f32>(u + o, <f32>(Math.exp(x) / D));
          store<f32>(v + o, j < K ? <f32>(x - lD) : -Infinity);
        }
      }
    }

    // Pair sums for this sequence, then into the batch counts.
    memory.fill(G, 0, <usize>(Kp * Kp) << 3);
    if (linear) pairGemm<L>(AH, V, len, G);
    else if (len > 1) pairLog<L>(AH, AT, V, len, G, ACC);
    for (let i = 0; i < K; i++) {
      for (let j = 0; j < K; j++) {
        const o = <usize>(i * Kp + j);
        let c = load<f64>(G + (o << 3));
        if (linear) c *= <f64>load<f32>(transExp + (o << 2));
        store<f64>(counts + (o << 3), load<f64>(counts + (o << 3)) + c);
      }
    }
  }
}

/**
 * Forward–backward for every sequence: logZ[b] (f64), unary marginals [B,T,K] (f32, 0 past each
 * length) and expected transition counts summed over the batch (f64 [Kp·Kp], row-major from→to).
 */
export function posteriors(B: i32, T: i32, em: usize, lens: usize, logZ: usize, unary: usize, counts: usize, work: usize): void {
  if (ASC_FEATURE_SIMD) posteriorsL<v128>(B, T, em, lens, logZ, unary, counts, work);
  else posteriorsL<f32>(B, T, em, lens, logZ, unary, counts, work);
}
