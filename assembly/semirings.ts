// The semirings `chain` runs over (what each must supply is in chain.ts's header):
//  - Linear: scaled linear space (sum-product). M = exp(trans − c) is precomputed per call, so a step is
//    a K×K multiply–add, K exps and a rescale by a power of two (exact). Each step checks that every tag
//    that can structurally carry mass is ≥ THRESHOLD before rescaling; below that its value has lost
//    precision to underflow (and could be amplified by later emissions), so the pass reports failure
//    and the caller redoes the sequence in log space.
//  - MaxPlus: Viterbi (max, +), values kept relative to the step's max for precision.
//  - LogSum: log-space (logsumexp, +): a max pass, then Σ exp(v − max) with vectorised exp. The robust
//    fallback for scores where linear space would underflow (±1e4 emissions, −1e4 transitions).
//  - Entropy: torch-struct's entropy semiring, values (log-weight, H) in three rows per state (H in f64);
//    its ⊕ is written so that every term is ≥ 0 (see Entropy), so confident sequences lose nothing.
//
// Log-space emissions are applied relative to the row's largest emission and to the previous row's
// largest value, so values of 1e20 keep the transitions' digits (the shifts go to f64).
//
// Linear and MaxPlus also run with one sequence per lane (grouped.ts); their `group…` methods are the
// same steps for four sequences at once, listed in grouped.ts's header.

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
  @inline propagate<L>(inp: usize, M: usize, pre: usize, rows: usize): void { matvec<L, Linear>(LINEAR, inp, M, pre, 0); }
  /** None of its own. */
  @inline propagateRows(): i32 { return 0; }
  /** Multiplies by exp(e − max e), checks for underflow and rescales by a power of two (emitLinear). */
  @inline applyEmissions<L>(pre: usize, em: usize, out: usize, expect: i32, prevMax: f32): Emitted { return emitted(emitLinear<L>(pre, em, out, expect), 0); }

  // Lanes across sequences (grouped.ts): emitLinear, one lane per sequence.
  /** exp(e − me)·pre. */
  @inline groupEmit(pre: v128, e: v128, me: v128, prevMax: v128): v128 { return f32x4.mul(vexp<v128>(f32x4.sub(e, me)), pre); }
  /** Counts the tags at or above THRESHOLD. */
  @inline groupCount(cnt: v128, v: v128): v128 { return i32x4.sub(cnt, f32x4.ge(v, f32x4.splat(THRESHOLD))); }
  /** Fewer tags passed than can carry mass. */
  @inline groupFailed(rowMax: v128, cnt: v128, expect: i32): v128 { return v128.not(i32x4.eq(cnt, i32x4.splat(expect))); }
  /** NaN: the caller redoes the sequence in log space. */
  @inline groupFailure(): f64 { return NaN; }
  /** k (i32 lanes) with 2^k ≤ rowMax < 2^(k+1), from the exponent field (rowMax passed the check, so it is normal). */
  @inline groupShift(rowMax: v128, prevMax: v128): v128 { return i32x4.sub(i32x4.shr_u(rowMax, 23), i32x4.splat(127)); }
  /** k·ln 2. */
  @inline groupShiftLog(k: v128): v128 { return f64x2.mul(f64x2.convert_low_i32x4_s(k), f64x2.splat(Math.LN2)); }
  /** Multiplies the state by 2^−k, exactly. */
  @inline groupNormalise(out: usize, prev: usize, k: v128, active: v128, keep: bool): void {
    const sc = i32x4.shl(i32x4.sub(i32x4.splat(127), k), 23);
    for (let q = 0; q < numTags; q++) {
      const o = <usize>q << 4;
      const v = f32x4.mul(v128.load(out + o), sc);
      v128.store(out + o, keep ? v128.bitselect(v, v128.load(prev + o), active) : v);
    }
  }
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
  @inline propagate<L>(inp: usize, M: usize, pre: usize, rows: usize): void { matvec<L, MaxPlus>(MAXPLUS, inp, M, pre, 0); }
  /** None of its own. */
  @inline propagateRows(): i32 { return 0; }
  /** Adds the emissions in log space, kept relative (emitLog). */
  @inline applyEmissions<L>(pre: usize, em: usize, out: usize, expect: i32, prevMax: f32): Emitted { return emitLog<L>(pre, em, out, prevMax); }

  // Lanes across sequences (grouped.ts): emitLog, one lane per sequence.
  /** (e − me) + (pre − prevMax). */
  @inline groupEmit(pre: v128, e: v128, me: v128, prevMax: v128): v128 { return f32x4.add(f32x4.sub(e, me), f32x4.sub(pre, prevMax)); }
  /** Nothing to count. */
  @inline groupCount(cnt: v128, v: v128): v128 { return cnt; }
  /** A row of −∞: no tag is reachable. */
  @inline groupFailed(rowMax: v128, cnt: v128, expect: i32): v128 { return f32x4.eq(rowMax, f32x4.splat(-Infinity)); }
  /** −∞: no path. */
  @inline groupFailure(): f64 { return -Infinity; }
  /** prevMax, which the emission took out. */
  @inline groupShift(rowMax: v128, prevMax: v128): v128 { return prevMax; }
  @inline groupShiftLog(prevMax: v128): v128 { return f64x2.promote_low_f32x4(prevMax); }
  /** The row stays relative; lanes outside `active` keep `prev` when asked. */
  @inline groupNormalise(out: usize, prev: usize, x: v128, active: v128, keep: bool): void {
    if (keep) for (let q = 0; q < numTags; q++) v128.store(out + (<usize>q << 4), v128.bitselect(v128.load(out + (<usize>q << 4)), v128.load(prev + (<usize>q << 4)), active));
  }
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
   * log Σ_i exp(v_i) = mx + log Σ_i exp(v_i − mx), with mx = max_i v_i per column (its one row);
   * an all −∞ column keeps shift 0 so that it sums exp(−∞) = 0 and its log is −∞, never −∞ − (−∞).
   */
  @inline propagate<L>(inp: usize, M: usize, pre: usize, rows: usize): void {
    const mx = rows;
    columnMax<L>(inp, M, mx);
    matvec<L, LogSum>(LOGSUM, inp, M, pre, mx);
    const n = <usize>paddedTags << 2, b = <usize>W<L>() << 2;
    for (let o: usize = 0; o < n; o += b) st<L>(pre + o, add<L>(vlog<L>(ld<L>(pre + o)), ld<L>(mx + o)));
  }
  /** The column maxima. */
  @inline propagateRows(): i32 { return 1; }
  /** Adds the emissions in log space, kept relative (emitLog). */
  @inline applyEmissions<L>(pre: usize, em: usize, out: usize, expect: i32, prevMax: f32): Emitted { return emitLog<L>(pre, em, out, prevMax); }
}

/**
 * The entropy semiring over (x, H): a state is three rows, the log-weights x (f32), then the entropies H
 * (Kp f64, two rows). For one column j with terms v_i = x_i + M[i][j], m = max v_i and
 * r = Σ_{i ≠ first argmax} exp(v_i − m):
 *   x' = m + log1p(r),   H' = Σ_i exp(v_i − m)·(H_i + m − v_i) / (1 + r) + log1p(r),
 * i.e. Σ_i p_i (H_i − log p_i) with −log p_i = (m − v_i) + log1p(r): no term is negative and none is a
 * difference of the result's size, so H of 1e-6 survives scores of 100.
 *
 * H grows by up to ln K a step, so it is kept in f64: in f32 every step would round it relative to its
 * own size, and a long chain's error would grow with its length (x stays f32: it is kept relative, as
 * log Z's is). The weights exp(v_i − m) are f32 (vectorised exp), but their sum 1 + r and the weighted
 * sum of the H_i are both taken in f64 from the same f32 weights, so H' is a convex combination of the
 * H_i to f64 precision: an f32 sum of the weights would scale every H by its own rounding at every step.
 */
@final @unmanaged export class Entropy {
  /** Three padded rows per state: log-weights x (f32), then entropies H (f64). */
  @inline stateRows(): i32 { return 3; }
  /** `pre` gets a state (x', H'). Not a matvec: each column needs m, r and H together. */
  @inline propagate<L>(inp: usize, M: usize, pre: usize, rows: usize): void {
    const n = <usize>paddedTags << 2;
    columnMax<L>(inp, M, rows);
    if (isVector<L>()) for (let o: usize = 0; o < n; o += 16) entropyColumns4(inp, M + o, rows + o, pre, o);
    else for (let o: usize = 0; o < n; o += 4) entropyColumn1(inp, M + o, rows + o, pre, o);
  }
  /** The column maxima m. */
  @inline propagateRows(): i32 { return 1; }
  /** x as a log-space emit; H carries over (an emission adds the same score to every path through j). */
  @inline applyEmissions<L>(pre: usize, em: usize, out: usize, expect: i32, prevMax: f32): Emitted {
    memory.copy(out + rowBytes, pre + rowBytes, rowBytes << 1);
    return emitLog<L>(pre, em, out, prevMax);
  }
}

/**
 * Columns o/4 … o/4 + 3 of an entropy step, SIMD: the weights e = exp(v_i − m) four columns at a time
 * in f32, their sums in f64 (two f64x2 halves). `Mo` is the matrix at the columns, `mo` their max.
 */
@inline function entropyColumns4(inp: usize, Mo: usize, mo: usize, pre: usize, o: usize): void {
  const row = rowBytes, hIn = inp + row;
  const m = v128.load(mo);
  let ties = f32x4.splat(0);
  let below = f64x2.splat(0), belowHi = f64x2.splat(0), h = f64x2.splat(0), hHi = f64x2.splat(0);
  let r = Mo;
  for (let i = 0; i < numTags; i++) {
    const v = f32x4.add(f32x4.splat(load<f32>(inp + (<usize>i << 2))), v128.load(r));
    const e = vexp<v128>(f32x4.sub(v, m));
    const under = whereLtV<v128>(v, m, e);
    ties = f32x4.add(ties, eqOnes<v128>(v, m));
    // e is 0 exactly where v is −∞ (or negligible); there m − v would be ∞ and 0·∞ NaN.
    const gap = positive<v128>(e, f32x4.sub(m, v));
    const Hi = f64x2.splat(load<f64>(hIn + (<usize>i << 3)));
    below = f64x2.add(below, f64x2.promote_low_f32x4(under));
    belowHi = f64x2.add(belowHi, f64x2.promote_low_f32x4(v128.shuffle<f32>(under, under, 2, 3, 2, 3)));
    h = f64x2.add(h, f64x2.mul(f64x2.promote_low_f32x4(e), f64x2.add(Hi, f64x2.promote_low_f32x4(gap))));
    const eHi = v128.shuffle<f32>(e, e, 2, 3, 2, 3), gapHi = v128.shuffle<f32>(gap, gap, 2, 3, 2, 3);
    hHi = f64x2.add(hHi, f64x2.mul(f64x2.promote_low_f32x4(eHi), f64x2.add(Hi, f64x2.promote_low_f32x4(gapHi))));
    r += row;
  }
  entropyColumn(pre, o, f32x4.extract_lane(m, 0), f64x2.extract_lane(below, 0), f32x4.extract_lane(ties, 0), f64x2.extract_lane(h, 0));
  entropyColumn(pre, o + 4, f32x4.extract_lane(m, 1), f64x2.extract_lane(below, 1), f32x4.extract_lane(ties, 1), f64x2.extract_lane(h, 1));
  entropyColumn(pre, o + 8, f32x4.extract_lane(m, 2), f64x2.extract_lane(belowHi, 0), f32x4.extract_lane(ties, 2), f64x2.extract_lane(hHi, 0));
  entropyColumn(pre, o + 12, f32x4.extract_lane(m, 3), f64x2.extract_lane(belowHi, 1), f32x4.extract_lane(ties, 3), f64x2.extract_lane(hHi, 1));
}

/** Column o/4 of an entropy step, scalar: as entropyColumns4, one column. */
@inline function entropyColumn1(inp: usize, Mo: usize, mo: usize, pre: usize, o: usize): void {
  const row = rowBytes, hIn = inp + row;
  const m = load<f32>(mo);
  let ties: f32 = 0;
  let below: f64 = 0, h: f64 = 0;
  let r = Mo;
  for (let i = 0; i < numTags; i++) {
    const v = load<f32>(inp + (<usize>i << 2)) + load<f32>(r);
    const e = vexp<f32>(v - m);
    below += <f64>whereLtV<f32>(v, m, e);
    ties += eqOnes<f32>(v, m);
    const gap = positive<f32>(e, m - v);
    h += <f64>e * (load<f64>(hIn + (<usize>i << 3)) + <f64>gap);
    r += row;
  }
  entropyColumn(pre, o, m, below, ties, h);
}

/**
 * Column j's x' and H' (j = o / 4) into the state at `pre`, from its max m, the f64 sum `below` of its
 * weights under the max, its count of terms at the max and the f64 sum `h` of weight·(H_i + m − v_i).
 * A live column has at least one term equal to its max (the same f32 sums columnMax took), so
 * rest ≥ 0 there; −1 (no tie) marks a column no tag reaches, as does the padding.
 */
@inline function entropyColumn(pre: usize, o: usize, m: f32, below: f64, ties: f32, h: f64): void {
  const rest = below + (<f64>ties - 1);
  const hOut = pre + rowBytes + (o << 1);
  if (<i32>(o >>> 2) >= numTags || rest < 0) {
    store<f32>(pre + o, -Infinity);
    store<f64>(hOut, 0);
    return;
  }
  const l = Math.log1p(rest);
  store<f32>(pre + o, <f32>(<f64>m + l));
  store<f64>(hOut, h / (1 + rest) + l);
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
