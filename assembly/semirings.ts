// The semirings `chain` runs over (what each must supply is in chain.ts's header):
//  - Linear: scaled linear space (sum-product). M = exp(trans − c) is precomputed per call, so a step is
//    a K×K multiply–add, K exps and a rescale by a power of two (exact). Each step checks that every tag
//    that can structurally carry mass is ≥ THRESHOLD before rescaling; below that its value has lost
//    precision to underflow (and could be amplified by later emissions), so the pass reports failure
//    and the caller redoes the sequence in log space.
//  - MaxPlus: Viterbi (max, +), values kept relative to the step's max for precision.
//  - LogSum: log-space (logsumexp, +): a max pass, then Σ exp(v − max) with vectorised exp. The robust
//    fallback for scores where linear space would underflow (±1e4 emissions, −1e4 transitions).
//  - Entropy: torch-struct's entropy semiring, values (log-weight, H) in two rows per state; its ⊕ is
//    written so that every term is ≥ 0 (see Entropy.propagate), so confident sequences lose nothing.
//
// Log-space emissions are applied relative to the row's largest emission and to the previous row's
// largest value, so values of 1e20 keep the transitions' digits (the shifts go to f64).

import { emitted, Emitted } from './chain';
import { add, countGE, eqOnes, hmax, keep, ld, mul, pmax, positive, replaceEq, splat, st, sub, vexp, vlog, W, whereLtV } from './lanes';
import { matvec } from './matvec';
import { numTags, paddedTags, rowBytes, tagLanes } from './tables';

/** Smallest value a reachable tag may take before rescaling in linear space (see header). */
export const THRESHOLD: f32 = 1e-28;

@final @unmanaged export class Linear {
  /** One padded row per state: the scaled weights. */
  @inline stateRows(): i32 { return 1; }
  /** The sum starts from 0. */
  @inline accStart<L>(): L { return splat<L>(0); }
  /** acc + a·m: the multiply–add that makes linear space cheap. */
  @inline accumulate<L>(acc: L, a: L, m: L, shift: L): L { return add<L>(acc, mul<L>(a, m)); }
  /** The weights are already scaled into range (emitLinear), so there is nothing to shift. */
  @inline accumulateNeedsShift(): bool { return false; }
  /** pre = inp · M, a plain matrix–vector product. */
  @inline propagate<L>(inp: usize, M: usize, pre: usize, scratch: usize): void { matvec<L, Linear>(LINEAR, inp, M, pre, 0); }
  /** Multiplies by exp(e − max e), checks for underflow and rescales by a power of two (emitLinear). */
  @inline applyEmissions<L>(pre: usize, em: usize, out: usize, expect: i32, prevMax: f32): Emitted { return emitted(emitLinear<L>(pre, em, out, expect), 0); }
}

@final @unmanaged export class MaxPlus {
  /** One padded row per state: the scores, relative to a reference kept by the caller. */
  @inline stateRows(): i32 { return 1; }
  /** The max starts from −∞. */
  @inline accStart<L>(): L { return splat<L>(-Infinity); }
  /** max(acc, a + m). */
  @inline accumulate<L>(acc: L, a: L, m: L, shift: L): L { return pmax<L>(acc, add<L>(a, m)); }
  /** A max takes no exp, so there is nothing to shift. */
  @inline accumulateNeedsShift(): bool { return false; }
  /** pre[j] = max_i inp[i] + M[i][j]. */
  @inline propagate<L>(inp: usize, M: usize, pre: usize, scratch: usize): void { matvec<L, MaxPlus>(MAXPLUS, inp, M, pre, 0); }
  /** Adds the emissions in log space, kept relative (emitLog). */
  @inline applyEmissions<L>(pre: usize, em: usize, out: usize, expect: i32, prevMax: f32): Emitted { return emitLog<L>(pre, em, out, prevMax); }
}

@final @unmanaged export class LogSum {
  /** One padded row per state: log-weights, relative to a reference kept by the caller. */
  @inline stateRows(): i32 { return 1; }
  /** The accumulator is Σ exp(v − shift), not a log, so it starts from 0 (not −∞). */
  @inline accStart<L>(): L { return splat<L>(0); }
  /** acc + exp(a + m − shift). */
  @inline accumulate<L>(acc: L, a: L, m: L, shift: L): L { return add<L>(acc, vexp<L>(sub<L>(add<L>(a, m), shift))); }
  /** exp of the raw sums would overflow or underflow: each column is shifted by its max. */
  @inline accumulateNeedsShift(): bool { return true; }
  /**
   * log Σ_i exp(v_i) = mx + log Σ_i exp(v_i − mx), with mx = max_i v_i per column (one row of scratch);
   * an all −∞ column keeps shift 0 so that it sums exp(−∞) = 0 and its log is −∞, never −∞ − (−∞).
   */
  @inline propagate<L>(inp: usize, M: usize, pre: usize, scratch: usize): void {
    const mx = scratch;
    columnMax<L>(inp, M, mx);
    matvec<L, LogSum>(LOGSUM, inp, M, pre, mx);
    const n = <usize>paddedTags << 2, b = <usize>W<L>() << 2;
    for (let o: usize = 0; o < n; o += b) st<L>(pre + o, add<L>(vlog<L>(ld<L>(pre + o)), ld<L>(mx + o)));
  }
  /** Adds the emissions in log space, kept relative (emitLog). */
  @inline applyEmissions<L>(pre: usize, em: usize, out: usize, expect: i32, prevMax: f32): Emitted { return emitLog<L>(pre, em, out, prevMax); }
}

/**
 * The entropy semiring over (x, H): a state is two rows, log-weights then entropies. For one column j
 * with terms v_i = x_i + M[i][j], m = max v_i and r = Σ_{i ≠ first argmax} exp(v_i − m):
 *   x' = m + log1p(r),   H' = Σ_i exp(v_i − m)·(H_i + m − v_i) / (1 + r) + log1p(r),
 * i.e. Σ_i p_i (H_i − log p_i) with −log p_i = (m − v_i) + log1p(r): no term is negative and none is a
 * difference of the result's size, so H of 1e-6 survives scores of 100.
 */
@final @unmanaged export class Entropy {
  /** Two padded rows per state: log-weights x, then entropies H. */
  @inline stateRows(): i32 { return 2; }
  /** `pre` gets two rows (x', H'); `scratch` needs three. Not a matvec: each column needs m, r and H together. */
  @inline propagate<L>(inp: usize, M: usize, pre: usize, scratch: usize): void {
    const K = numTags, row = rowBytes;
    const b = <usize>W<L>() << 2;
    const n = <usize>paddedTags << 2;
    const mx = scratch, restRow = scratch + row, hRow = scratch + <usize>2 * row;
    columnMax<L>(inp, M, mx);
    for (let o: usize = 0; o < n; o += b) {
      const m = ld<L>(mx + o);
      let rest = splat<L>(0), ties = splat<L>(0), h = splat<L>(0);
      let r = M + o;
      for (let i = 0; i < K; i++) {
        const v = add<L>(splat<L>(load<f32>(inp + (<usize>i << 2))), ld<L>(r));
        const e = vexp<L>(sub<L>(v, m));
        rest = add<L>(rest, whereLtV<L>(v, m, e));
        ties = add<L>(ties, eqOnes<L>(v, m));
        // e is 0 exactly where v is −∞ (or negligible); there H_i + m − v would be ∞ and 0·∞ NaN.
        h = add<L>(h, positive<L>(e, mul<L>(e, add<L>(splat<L>(load<f32>(inp + row + (<usize>i << 2))), sub<L>(m, v)))));
        r += row;
      }
      st<L>(restRow + o, add<L>(rest, sub<L>(ties, splat<L>(1))));
      st<L>(hRow + o, h);
    }
    // A live column has at least one term equal to its max (the same f32 sums columnMax took), so
    // rest ≥ 0 there; −1 (no tie) marks a column no tag reaches.
    for (let j = 0; j < paddedTags; j++) {
      const o = <usize>j << 2;
      const rest = <f64>load<f32>(restRow + o);
      if (j >= K || rest < 0) {
        store<f32>(pre + o, -Infinity);
        store<f32>(pre + row + o, 0);
        continue;
      }
      const l = Math.log1p(rest);
      store<f32>(pre + o, <f32>(<f64>load<f32>(mx + o) + l));
      store<f32>(pre + row + o, <f32>(<f64>load<f32>(hRow + o) / (1 + rest) + l));
    }
  }
  /** x as a log-space emit; H carries over (an emission adds the same score to every path through j). */
  @inline applyEmissions<L>(pre: usize, em: usize, out: usize, expect: i32, prevMax: f32): Emitted {
    memory.copy(out + rowBytes, pre + rowBytes, rowBytes);
    return emitLog<L>(pre, em, out, prevMax);
  }
}

export const LINEAR = changetype<Linear>(0);
export const MAXPLUS = changetype<MaxPlus>(0);
export const LOGSUM = changetype<LogSum>(0);
export const ENTROPY = changetype<Entropy>(0);

/**
 * mx[j] = max_i inp[i] + M[i][j] (one padded row), with −∞ columns replaced by 0: the shift of a
 * log-sum-exp, which must never subtract −∞ from −∞.
 */
@inline function columnMax<L>(inp: usize, M: usize, mx: usize): void {
  matvec<L, MaxPlus>(MAXPLUS, inp, M, mx, 0);
  const n = <usize>paddedTags << 2, b = <usize>W<L>() << 2;
  for (let o: usize = 0; o < n; o += b) st<L>(mx + o, replaceEq<L>(ld<L>(mx + o), -Infinity, 0));
}

/** One emission row as lane values, −∞ in the padding (the rows are K wide, not Kp). */
@inline function emRow<L>(em: usize, o: usize): L {
  return keep<L>(ld<L>(em + o), splat<L>(-Infinity), tagLanes + o);
}

/**
 * The row's largest emission. Both emits apply the emissions relative to it and hand it to the f64
 * factor, so an emission's magnitude never costs the state row its digits.
 */
@inline function emRowMax<L>(em: usize): f32 {
  const n = <usize>paddedTags << 2, b = <usize>W<L>() << 2;
  let m = splat<L>(-Infinity);
  for (let o: usize = 0; o < n; o += b) m = pmax<L>(m, emRow<L>(em, o));
  return hmax<L>(m);
}

/**
 * α = pre ⊗ e in scaled linear space, written to `out`: x = exp(e − max e), α' = x·pre, checked
 * against THRESHOLD (`expect` tags must pass), then rescaled by 2^−k so its max is in [1, 2).
 * Returns log of the factor taken out (max e + k·ln 2), or NaN when the check fails.
 */
@inline function emitLinear<L>(pre: usize, em: usize, out: usize, expect: i32): f64 {
  const n = <usize>paddedTags << 2, b = <usize>W<L>() << 2;
  const mf = emRowMax<L>(em);
  const ms = splat<L>(mf);
  let mx = splat<L>(0);
  let ok = 0;
  for (let o: usize = 0; o < n; o += b) {
    const v = mul<L>(vexp<L>(sub<L>(emRow<L>(em, o), ms)), ld<L>(pre + o));
    ok += countGE<L>(v, THRESHOLD);
    mx = pmax<L>(mx, v);
    st<L>(out + o, v);
  }
  if (ok != expect) return NaN;
  // n ≥ THRESHOLD is normal, so its exponent field gives 2^k ≤ n < 2^(k+1) and 2^−k exactly.
  const k = (reinterpret<i32>(hmax<L>(mx)) >>> 23) - 127;
  const sc = splat<L>(reinterpret<f32>((127 - k) << 23));
  for (let o: usize = 0; o < n; o += b) st<L>(out + o, mul<L>(ld<L>(out + o), sc));
  return <f64>mf + <f64>k * Math.LN2;
}

/**
 * α = pre + e in log space, kept relative: the row's emissions less their largest (whose exact value goes
 * to the f64 result), so pre keeps its digits next to emissions of 1e20, and pre less the previous
 * step's largest value `prevMax` (normalising the previous row here, in the pass that reads it anyway,
 * saves a pass over every row). The row written is bounded but not shifted to max 0; its max is the
 * result's `rowMax`. The log factor taken out is me + prevMax (−∞: no tag reachable).
 */
@inline function emitLog<L>(pre: usize, em: usize, out: usize, prevMax: f32): Emitted {
  const n = <usize>paddedTags << 2, b = <usize>W<L>() << 2;
  const mef = emRowMax<L>(em);
  const mes = splat<L>(mef);
  const ps = splat<L>(prevMax);
  let m = splat<L>(-Infinity);
  for (let o: usize = 0; o < n; o += b) {
    const v = add<L>(sub<L>(emRow<L>(em, o), mes), sub<L>(ld<L>(pre + o), ps));
    m = pmax<L>(m, v);
    st<L>(out + o, v);
  }
  const mf = hmax<L>(m);
  if (mf == -Infinity) return emitted(-Infinity, 0);
  return emitted(<f64>mef + <f64>prevMax, mf);
}
