// The one recursion of a linear-chain CRF, α_s = e_s ⊗ ⊕_i (α_{s−1}[i] ⊗ M[i][·]), parameterised by
// semiring and by lane type (v128 or f32; see lanes.ts). Forward passes use M = trans, backward passes
// use M = transᵀ over the reversed rows, exactly as the js reference backend does.
//
// Semirings:
//  - Linear: scaled linear space (sum-product). M = exp(trans − c) is precomputed per call, so a step is
//    a K×K multiply–add, K exps and a rescale by a power of two (exact). Each step checks that every tag
//    that can structurally carry mass is ≥ THRESHOLD before rescaling; below that its value has lost
//    precision to underflow (and could be amplified by later emissions), so the pass reports failure
//    and the caller redoes the sequence in log space.
//  - MaxPlus: Viterbi (max, +), values kept relative to the step's max for precision.
//  - LogSum: log-space (logsumexp, +): a max pass, then Σ exp(v − max) with vectorised exp. The robust
//    fallback for scores where linear space would underflow (±1e4 emissions, −1e4 transitions).
//  - Entropy: torch-struct's entropy semiring, values (log-weight, H) in two rows per state; its ⊕ is
//    written so that every term is ≥ 0 (see Entropy.combine), so confident sequences lose nothing.
//
// Each semiring supplies `combine` (the ⊕⊗ of one step into `pre`) and `emit` (⊗ the emissions, then
// normalise into the state row); `chain` is the one loop over the steps. Log-space emits work relative to
// the row's largest emission and to the previous row's largest value, so values of 1e20 keep the
// transitions' digits (the shifts go to f64).

import { add, countGE, eqOnes, hmax, keep, ld, mul, pmax, positive, replaceEq, splat, st, sub, vexp, vlog, W, whereLtV } from './lanes';
import { numTags, paddedTags, tagLanes, rowBytes } from './tables';

/** Smallest value a reachable tag may take before rescaling in linear space (see header). */
export const THRESHOLD: f32 = 1e-28;

@final @unmanaged export class Linear {
  @inline rows(): i32 { return 1; }
  @inline zero<L>(): L { return splat<L>(0); }
  @inline mac<L>(acc: L, a: L, m: L, shift: L): L { return add<L>(acc, mul<L>(a, m)); }
  /** Whether `mac` needs a per-column shift (log-sum-exp does). */
  @inline shifted(): bool { return false; }
  @inline combine<L>(inp: usize, M: usize, pre: usize, scratch: usize): void { matvec<L, Linear>(LINEAR, inp, M, pre, 0); }
  @inline emit<L>(pre: usize, em: usize, out: usize, expect: i32, prevMax: f32): f64 { return emitLinear<L>(pre, em, out, expect); }
}

@final @unmanaged export class MaxPlus {
  @inline rows(): i32 { return 1; }
  @inline zero<L>(): L { return splat<L>(-Infinity); }
  @inline mac<L>(acc: L, a: L, m: L, shift: L): L { return pmax<L>(acc, add<L>(a, m)); }
  @inline shifted(): bool { return false; }
  @inline combine<L>(inp: usize, M: usize, pre: usize, scratch: usize): void { matvec<L, MaxPlus>(MAXPLUS, inp, M, pre, 0); }
  @inline emit<L>(pre: usize, em: usize, out: usize, expect: i32, prevMax: f32): f64 { return emitLog<L>(pre, em, out, prevMax); }
}

@final @unmanaged export class LogSum {
  @inline rows(): i32 { return 1; }
  @inline zero<L>(): L { return splat<L>(0); }
  @inline mac<L>(acc: L, a: L, m: L, shift: L): L { return add<L>(acc, vexp<L>(sub<L>(add<L>(a, m), shift))); }
  @inline shifted(): bool { return true; }
  /**
   * log Σ_i exp(v_i) = mx + log Σ_i exp(v_i − mx), with mx = max_i v_i per column (one row of scratch);
   * an all −∞ column keeps shift 0 so that it sums exp(−∞) = 0 and its log is −∞, never −∞ − (−∞).
   */
  @inline combine<L>(inp: usize, M: usize, pre: usize, scratch: usize): void {
    const mx = scratch;
    columnMax<L>(inp, M, mx);
    matvec<L, LogSum>(LOGSUM, inp, M, pre, mx);
    const n = <usize>paddedTags << 2, b = <usize>W<L>() << 2;
    for (let o: usize = 0; o < n; o += b) st<L>(pre + o, add<L>(vlog<L>(ld<L>(pre + o)), ld<L>(mx + o)));
  }
  @inline emit<L>(pre: usize, em: usize, out: usize, expect: i32, prevMax: f32): f64 { return emitLog<L>(pre, em, out, prevMax); }
}

/**
 * The entropy semiring over (x, H): a state is two rows, log-weights then entropies. For one column j
 * with terms v_i = x_i + M[i][j], m = max v_i and r = Σ_{i ≠ first argmax} exp(v_i − m):
 *   x' = m + log1p(r),   H' = Σ_i exp(v_i − m)·(H_i + m − v_i) / (1 + r) + log1p(r),
 * i.e. Σ_i p_i (H_i − log p_i) with −log p_i = (m − v_i) + log1p(r): no term is negative and none is a
 * difference of the result's size, so H of 1e-6 survives scores of 100.
 */
@final @unmanaged export class Entropy {
  @inline rows(): i32 { return 2; }
  /** `pre` gets two rows (x', H'); `scratch` needs three. */
  @inline combine<L>(inp: usize, M: usize, pre: usize, scratch: usize): void {
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
  @inline emit<L>(pre: usize, em: usize, out: usize, expect: i32, prevMax: f32): f64 {
    memory.copy(out + rowBytes, pre + rowBytes, rowBytes);
    return emitLog<L>(pre, em, out, prevMax);
  }
}

export const LINEAR = changetype<Linear>(0);
export const MAXPLUS = changetype<MaxPlus>(0);
export const LOGSUM = changetype<LogSum>(0);
export const ENTROPY = changetype<Entropy>(0);

// out[j] = ⊕_i inp[i] ⊗ M[i][j] for a tile of 4, 2 or 1 lane values of j: accumulators stay in registers
// while i runs over the K rows (the padded rows would only add the semiring's zero).
@inline function tile4<L, S>(sr: S, inp: usize, M: usize, out: usize, mx: usize, K: i32, row: usize): void {
  const b = <usize>W<L>() << 2;
  let a0 = sr.zero<L>(), a1 = sr.zero<L>(), a2 = sr.zero<L>(), a3 = sr.zero<L>();
  let m0 = a0, m1 = a0, m2 = a0, m3 = a0;
  if (sr.shifted()) { m0 = ld<L>(mx); m1 = ld<L>(mx + b); m2 = ld<L>(mx + <usize>2 * b); m3 = ld<L>(mx + <usize>3 * b); }
  let r = M;
  for (let i = 0; i < K; i++) {
    const a = splat<L>(load<f32>(inp + (<usize>i << 2)));
    a0 = sr.mac<L>(a0, a, ld<L>(r), m0);
    a1 = sr.mac<L>(a1, a, ld<L>(r + b), m1);
    a2 = sr.mac<L>(a2, a, ld<L>(r + <usize>2 * b), m2);
    a3 = sr.mac<L>(a3, a, ld<L>(r + <usize>3 * b), m3);
    r += row;
  }
  st<L>(out, a0); st<L>(out + b, a1); st<L>(out + <usize>2 * b, a2); st<L>(out + <usize>3 * b, a3);
}

@inline function tile2<L, S>(sr: S, inp: usize, M: usize, out: usize, mx: usize, K: i32, row: usize): void {
  const b = <usize>W<L>() << 2;
  let a0 = sr.zero<L>(), a1 = sr.zero<L>();
  let m0 = a0, m1 = a0;
  if (sr.shifted()) { m0 = ld<L>(mx); m1 = ld<L>(mx + b); }
  let r = M;
  for (let i = 0; i < K; i++) {
    const a = splat<L>(load<f32>(inp + (<usize>i << 2)));
    a0 = sr.mac<L>(a0, a, ld<L>(r), m0);
    a1 = sr.mac<L>(a1, a, ld<L>(r + b), m1);
    r += row;
  }
  st<L>(out, a0); st<L>(out + b, a1);
}

@inline function tile1<L, S>(sr: S, inp: usize, M: usize, out: usize, mx: usize, K: i32, row: usize): void {
  let a0 = sr.zero<L>();
  let m0 = a0;
  if (sr.shifted()) m0 = ld<L>(mx);
  let r = M;
  for (let i = 0; i < K; i++) {
    a0 = sr.mac<L>(a0, splat<L>(load<f32>(inp + (<usize>i << 2))), ld<L>(r), m0);
    r += row;
  }
  st<L>(out, a0);
}

/** out = inp ⊗ M in semiring S (one padded row each; `mx` is LogSum's per-column shift). */
@inline function matvec<L, S>(sr: S, inp: usize, M: usize, out: usize, mx: usize): void {
  const K = numTags, row = rowBytes;
  const nb = paddedTags / W<L>();
  const b = <usize>W<L>() << 2;
  let q = 0;
  for (; q + 4 <= nb; q += 4) tile4<L, S>(sr, inp, M + <usize>q * b, out + <usize>q * b, mx + <usize>q * b, K, row);
  for (; q + 2 <= nb; q += 2) tile2<L, S>(sr, inp, M + <usize>q * b, out + <usize>q * b, mx + <usize>q * b, K, row);
  for (; q < nb; q++) tile1<L, S>(sr, inp, M + <usize>q * b, out + <usize>q * b, mx + <usize>q * b, K, row);
}

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
 * α = pre ⊗ e in scaled linear space, written to `out`: x = exp(e − max e), α' = x·pre, checked
 * against THRESHOLD (`expect` tags must pass), then rescaled by 2^−k so its max is in [1, 2).
 * Returns log of the factor taken out (max e + k·ln 2), or NaN when the check fails.
 */
@inline function emitLinear<L>(pre: usize, em: usize, out: usize, expect: i32): f64 {
  const n = <usize>paddedTags << 2, b = <usize>W<L>() << 2;
  let m = splat<L>(-Infinity);
  for (let o: usize = 0; o < n; o += b) m = pmax<L>(m, emRow<L>(em, o));
  const mf = hmax<L>(m);
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

/** The largest value the last log-space emit wrote (the next step's `prevMax`); 0 after a linear one. */
export let emitMax: f32 = 0;

/**
 * α = pre + e in log space, kept relative: the row's emissions less their largest (whose exact value goes
 * to the f64 result), so pre keeps its digits next to emissions of 1e20, and pre less the previous
 * step's largest value `prevMax` (normalising the previous row here, in the pass that reads it anyway,
 * saves a pass over every row). The row written is bounded but not shifted to max 0; its max goes to
 * `emitMax`. Returns the shift taken out, me + prevMax (−∞: no tag reachable).
 */
@inline function emitLog<L>(pre: usize, em: usize, out: usize, prevMax: f32): f64 {
  const n = <usize>paddedTags << 2, b = <usize>W<L>() << 2;
  let me = splat<L>(-Infinity);
  for (let o: usize = 0; o < n; o += b) me = pmax<L>(me, emRow<L>(em, o));
  const mef = hmax<L>(me);
  const mes = splat<L>(mef);
  const ps = splat<L>(prevMax);
  let m = splat<L>(-Infinity);
  for (let o: usize = 0; o < n; o += b) {
    const v = add<L>(sub<L>(emRow<L>(em, o), mes), sub<L>(ld<L>(pre + o), ps));
    m = pmax<L>(m, v);
    st<L>(out + o, v);
  }
  const mf = hmax<L>(m);
  if (mf == -Infinity) return -Infinity;
  emitMax = mf;
  return <f64>mef + <f64>prevMax;
}

/**
 * Runs the recursion over `len` emission rows starting at `em`, `step` bytes apart (negative for a
 * backward pass). `init` is the step-0 `pre` state (start or end potentials in the semiring's space), `M`
 * the matrix. Step s's normalised state goes to `post + s·state` when `keepAll`, else alternates between
 * two states at `post` (a state is `sr.rows()` padded rows); when `pre` ≠ 0 the un-normalised ⊕⊗ result
 * of each step is kept at `pre + s·state`. `cnt` (linear only) holds per-step support counts; `scratch`
 * holds five rows (a two-row state and the entropy semiring's three). Returns the accumulated log of every factor taken out (so log α_s = log post_s +
 * result for the last s), NaN on a failed linear check, −∞ when no tag is reachable; `lastRow` receives
 * the address of the final normalised state.
 */
export let lastRow: usize = 0;

@inline export function chain<L, S>(
  sr: S, em: usize, step: isize, len: i32, M: usize, init: usize, post: usize, keepAll: bool, pre: usize,
  cnt: usize, scratch: usize,
): f64 {
  const state = <usize>sr.rows() * rowBytes;
  let prev: usize = 0;
  let acc: f64 = 0;
  let prevMax: f32 = 0;
  let e = em;
  for (let s = 0; s < len; s++) {
    const cur = keepAll ? post + <usize>s * state : post + (<usize>(s & 1)) * state;
    // The ⊕⊗ result of step s goes to `p` (kept when asked, else scratch); the rest of scratch is the
    // semiring's own.
    const p = pre != 0 ? pre + <usize>s * state : scratch;
    if (s == 0) memory.copy(p, init, state);
    else sr.combine<L>(prev, M, p, scratch + state);
    emitMax = 0;
    const d = sr.emit<L>(p, e, cur, cnt != 0 ? load<i32>(cnt + (<usize>s << 2)) : 0, prevMax);
    if (isNaN(d)) return NaN;
    if (d == -Infinity) return -Infinity;
    acc += d;
    prevMax = emitMax;
    prev = cur;
    e = <usize>(<isize>e + step);
  }
  lastRow = prev;
  return acc;
}
