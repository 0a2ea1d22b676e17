// Lanes across sequences: for small K the SIMD build runs four sequences at once, one per f32 lane of a
// v128, so a step is K·K full-width multiply–adds (max–adds for Viterbi) instead of K rows of partly
// filled vectors, with no horizontal reductions. State j of the four sequences is one v128 (a state is K
// of them, 16·K bytes); each step gathers the four sequences' emission rows with 4×4 transposes.
//
// Every lane computes exactly the f32 operations, in the same order, that the per-sequence kernels
// (chain.ts over Linear / MaxPlus, matvec.ts, emitLinear / emitLog in semirings.ts) compute for its
// sequence, so the values are the same bit for bit and Viterbi breaks ties the same way. A group runs to
// its longest sequence; lanes whose sequence has ended are masked (their state and log factor kept).
// A lane whose linear-space check fails is reported to the caller, which redoes that sequence in log
// space. Only the SIMD build calls into this file.

import { vexp } from './lanes';
import { THRESHOLD } from './semirings';
import { endExp, endLog, endShift, numTags, paddedTags, startExp, startLog, startShift, transExp, transLog, transLogT, transShift } from './tables';

/** Largest K that takes the grouped path (above it the per-sequence rows are full enough). */
export const GROUP_MAX_K = 16;

/** Bytes of one grouped state: Kp lane vectors (the transpose writes whole chunks of four tags). */
@inline export function groupStateBytes(Kp: i32): usize {
  return <usize>Kp << 4;
}

/**
 * The four lanes' emission rows at step s, transposed into `eb` (Kp vectors: tag j of the four
 * sequences in `eb + 16·j`). Rows are K floats, unpadded; the last chunk reads up to 3 floats past the
 * row (the next row, or the 16 bytes of slack the JS side leaves after the emissions) into tags ≥ K,
 * which nothing reads. Returns the four rows' largest emissions (over the K tags).
 */
@inline function gather(eb: usize, p0: usize, p1: usize, p2: usize, p3: usize): v128 {
  const nc = paddedTags >> 2;
  for (let c = 0; c < nc; c++) {
    const o = <usize>c << 4;
    const r0 = v128.load(p0 + o), r1 = v128.load(p1 + o), r2 = v128.load(p2 + o), r3 = v128.load(p3 + o);
    const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5);
    const t1 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
    const t2 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
    const t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
    const q = eb + (<usize>c << 6);
    v128.store(q, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
    v128.store(q + 16, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7));
    v128.store(q + 32, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5));
    v128.store(q + 48, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7));
  }
  let m = f32x4.splat(-Infinity);
  for (let j = 0; j < numTags; j++) m = f32x4.pmax(m, v128.load(eb + (<usize>j << 4)));
  return m;
}

// --- products: out_j = ⊕_i α[i] ⊗ M[i][j] for a tile of tags j, M[i][j] splatted from the table ------

@inline function sum1(A: usize, M: usize, j: i32): v128 {
  const K = numTags, row = <usize>paddedTags << 2;
  let a0 = f32x4.splat(0);
  let r = M + (<usize>j << 2);
  for (let i = 0; i < K; i++) {
    a0 = f32x4.add(a0, f32x4.mul(v128.load(A + (<usize>i << 4)), v128.load32_splat(r)));
    r += row;
  }
  return a0;
}

@inline function max1(A: usize, M: usize, j: i32): v128 {
  const K = numTags, row = <usize>paddedTags << 2;
  let a0 = f32x4.splat(-Infinity);
  let r = M + (<usize>j << 2);
  for (let i = 0; i < K; i++) {
    a0 = f32x4.pmax(a0, f32x4.add(v128.load(A + (<usize>i << 4)), v128.load32_splat(r)));
    r += row;
  }
  return a0;
}

// --- scaled linear space (logPartition) --------------------------------------------------------------

/** One linear-space tag: v = exp(e − me)·pre (emitLinear's order), stored, counted and maxed. */
@inline function emitLinearTag(pre: v128, eb: usize, j: i32, me: v128, out: usize): v128 {
  const v = f32x4.mul(vexp<v128>(f32x4.sub(v128.load(eb + (<usize>j << 4)), me)), pre);
  v128.store(out + (<usize>j << 4), v);
  return v;
}

/**
 * One linear-space step of the four lanes from state `A` (ignored when `first`: the row `init`) over
 * the matrix `M` into `Bs`. Returns the lanes that passed the support check; `accs` accumulates each
 * lane's log factor exactly as chain() does (in f64). `masked` lanes outside `active` add nothing, and
 * keep A when `keepEnded`. When P ≠ 0 the product before the emissions (chain()'s `pre`) goes there.
 */
@inline function linearStep(
  first: bool, masked: bool, A: usize, Bs: usize, eb: usize, me0: v128, expect: i32, active: v128, accs: usize,
  M: usize, init: usize, keepEnded: bool, P: usize,
): v128 {
  const K = numTags;
  const thr = f32x4.splat(THRESHOLD);
  let cnt = i32x4.splat(0);
  let mx = f32x4.splat(0);
  const me = me0;
  let j = 0;
  if (first) {
    for (; j < K; j++) {
      const a = v128.load32_splat(init + (<usize>j << 2));
      if (P != 0) v128.store(P + (<usize>j << 4), a);
      const v = emitLinearTag(a, eb, j, me, Bs);
      cnt = i32x4.sub(cnt, f32x4.ge(v, thr));
      mx = f32x4.pmax(mx, v);
    }
  } else {
    const row = <usize>paddedTags << 2;
    for (; j + 4 <= K; j += 4) {
      let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
      let r = M + (<usize>j << 2);
      for (let i = 0; i < K; i++) {
        const a = v128.load(A + (<usize>i << 4));
        a0 = f32x4.add(a0, f32x4.mul(a, v128.load32_splat(r)));
        a1 = f32x4.add(a1, f32x4.mul(a, v128.load32_splat(r, 4)));
        a2 = f32x4.add(a2, f32x4.mul(a, v128.load32_splat(r, 8)));
        a3 = f32x4.add(a3, f32x4.mul(a, v128.load32_splat(r, 12)));
        r += row;
      }
      if (P != 0) {
        const q = P + (<usize>j << 4);
        v128.store(q, a0); v128.store(q, a1, 16); v128.store(q, a2, 32); v128.store(q, a3, 48);
      }
      const v0 = emitLinearTag(a0, eb, j, me, Bs);
      const v1 = emitLinearTag(a1, eb, j + 1, me, Bs);
      const v2 = emitLinearTag(a2, eb, j + 2, me, Bs);
      const v3 = emitLinearTag(a3, eb, j + 3, me, Bs);
      cnt = i32x4.sub(i32x4.sub(cnt, f32x4.ge(v0, thr)), f32x4.ge(v1, thr));
      cnt = i32x4.sub(i32x4.sub(cnt, f32x4.ge(v2, thr)), f32x4.ge(v3, thr));
      mx = f32x4.pmax(f32x4.pmax(f32x4.pmax(f32x4.pmax(mx, v0), v1), v2), v3);
    }
    for (; j < K; j++) {
      const a = sum1(A, M, j);
      if (P != 0) v128.store(P + (<usize>j << 4), a);
      const v = emitLinearTag(a, eb, j, me, Bs);
      cnt = i32x4.sub(cnt, f32x4.ge(v, thr));
      mx = f32x4.pmax(mx, v);
    }
  }
  const ok = i32x4.eq(cnt, i32x4.splat(expect));
  // As emitLinear: 2^k ≤ max < 2^(k+1) from the exponent field, then multiply by 2^−k exactly.
  let k = i32x4.sub(i32x4.shr_u(mx, 23), i32x4.splat(127));
  if (masked) k = v128.and(k, active);
  const sc = i32x4.shl(i32x4.sub(i32x4.splat(127), k), 23);
  for (let q = 0; q < K; q++) {
    const o = <usize>q << 4;
    const v = f32x4.mul(v128.load(Bs + o), sc);
    v128.store(Bs + o, masked && keepEnded ? v128.bitselect(v, v128.load(A + o), active) : v);
  }
  // log factor per lane: <f64>me + <f64>k·ln 2, added in f64 as chain() adds it.
  const mem = masked ? v128.and(me, active) : me;
  const lo = f64x2.add(f64x2.promote_low_f32x4(mem), f64x2.mul(f64x2.convert_low_i32x4_s(k), f64x2.splat(Math.LN2)));
  const mh = v128.shuffle<f32>(mem, mem, 2, 3, 2, 3);
  const kh = v128.shuffle<i32>(k, k, 2, 3, 2, 3);
  const hi = f64x2.add(f64x2.promote_low_f32x4(mh), f64x2.mul(f64x2.convert_low_i32x4_s(kh), f64x2.splat(Math.LN2)));
  v128.store(accs, f64x2.add(v128.load(accs), lo));
  v128.store(accs + 16, f64x2.add(v128.load(accs + 16), hi));
  return masked ? v128.or(ok, v128.not(active)) : ok;
}

/**
 * log Z of the sequences at `p[0..n)` (lane pointers to their emissions, lengths `len[0..n)`, n ≤ 4)
 * into `out[l]` (f64). Returns a bitmask of the lanes whose linear-space pass failed (or whose closing sum
 * fell below THRESHOLD): the caller redoes those in log space. `cnt` holds the forward support counts;
 * `area` holds groupLogZBytes.
 */
export function logZGroup(n: i32, p: usize, len: usize, out: usize, cnt: usize, area: usize): i32 {
  const K = numTags, Kp = paddedTags;
  const sb = groupStateBytes(Kp);
  const eb = area, S0 = area + sb, S1 = S0 + sb, accs = S1 + sb;
  // Lanes past n repeat lane 0 (their results are dropped).
  const p0 = load<usize>(p), p1 = n > 1 ? load<usize>(p, 4) : p0, p2 = n > 2 ? load<usize>(p, 8) : p0, p3 = n > 3 ? load<usize>(p, 12) : p0;
  const l0 = load<i32>(len), l1 = n > 1 ? load<i32>(len, 4) : l0, l2 = n > 2 ? load<i32>(len, 8) : l0, l3 = n > 3 ? load<i32>(len, 12) : l0;
  const lens = i32x4.replace_lane(i32x4.replace_lane(i32x4.replace_lane(i32x4.splat(l0), 1, l1), 2, l2), 3, l3);
  const minLen = min(min(l0, l1), min(l2, l3)), maxLen = max(max(l0, l1), max(l2, l3));
  v128.store(accs, f64x2.splat(0));
  v128.store(accs + 16, f64x2.splat(0));
  memory.fill(S1, 0, sb); // what length-0 lanes keep
  const step = <usize>K << 2;
  const all = i32x4.splat(-1);
  let okAll = all;
  let A = S1, Bs = S0;
  let s = 0;
  for (; s < minLen; s++) {
    const o = <usize>s * step;
    const me = gather(eb, p0 + o, p1 + o, p2 + o, p3 + o);
    okAll = v128.and(okAll, linearStep(s == 0, false, A, Bs, eb, me, load<i32>(cnt + (<usize>s << 2)), all, accs, transExp, startExp, true, 0));
    const t = A; A = Bs; Bs = t;
  }
  for (; s < maxLen; s++) {
    const o = <usize>s * step;
    const me = gather(eb, p0 + o, p1 + o, p2 + o, p3 + o);
    const active = i32x4.gt_s(lens, i32x4.splat(s));
    okAll = v128.and(okAll, linearStep(s == 0, true, A, Bs, eb, me, load<i32>(cnt + (<usize>s << 2)), active, accs, transExp, startExp, true, 0));
    const t = A; A = Bs; Bs = t;
  }
  // A is the final state of every lane.
  let failed = 0;
  for (let l = 0; l < n; l++) {
    const ln = load<i32>(len + (<usize>l << 2));
    if (ln == 0) { store<f64>(out + (<usize>l << 3), 0); continue; }
    // The lane's bit of okAll.
    if ((i32x4.bitmask(okAll) & (1 << l)) == 0) { failed |= 1 << l; continue; }
    let S: f64 = 0;
    for (let j = 0; j < K; j++) S += <f64>load<f32>(A + (<usize>j << 4) + (<usize>l << 2)) * <f64>load<f32>(endExp + (<usize>j << 2));
    if (!(S >= <f64>THRESHOLD)) { failed |= 1 << l; continue; }
    const d = load<f64>(accs + (<usize>l << 3));
    store<f64>(out + (<usize>l << 3), d + startShift + <f64>(ln - 1) * transShift + Math.log(S) + endShift);
  }
  return failed;
}

/** Work bytes logZGroup needs (emission gather, two states, four f64 accumulators). */
export function groupLogZBytes(Kp: i32): f64 {
  return <f64>(3 * groupStateBytes(Kp) + 32);
}

// --- max-plus (Viterbi) ------------------------------------------------------------------------------

/** One max-plus tag: v = (e − me) + (pre − ps) (emitLog's order), stored and returned. */
@inline function emitLogTag(pre: v128, eb: usize, j: i32, me: v128, ps: v128, out: usize): v128 {
  const v = f32x4.add(f32x4.sub(v128.load(eb + (<usize>j << 4)), me), f32x4.sub(pre, ps));
  v128.store(out + (<usize>j << 4), v);
  return v;
}

/**
 * One max-plus step from `A` (the start potentials when `first`) into `Bs`, relative to the previous
 * row's max `ps`. Returns the row's max per lane (the next step's `ps`).
 */
@inline function maxStep(first: bool, A: usize, Bs: usize, eb: usize, me: v128, ps: v128): v128 {
  const K = numTags;
  let m = f32x4.splat(-Infinity);
  let j = 0;
  if (first) {
    for (; j < K; j++) m = f32x4.pmax(m, emitLogTag(v128.load32_splat(startLog + (<usize>j << 2)), eb, j, me, ps, Bs));
  } else {
    const M = transLog, row = <usize>paddedTags << 2;
    for (; j + 4 <= K; j += 4) {
      let a0 = f32x4.splat(-Infinity), a1 = a0, a2 = a0, a3 = a0;
      let r = M + (<usize>j << 2);
      for (let i = 0; i < K; i++) {
        const a = v128.load(A + (<usize>i << 4));
        a0 = f32x4.pmax(a0, f32x4.add(a, v128.load32_splat(r)));
        a1 = f32x4.pmax(a1, f32x4.add(a, v128.load32_splat(r, 4)));
        a2 = f32x4.pmax(a2, f32x4.add(a, v128.load32_splat(r, 8)));
        a3 = f32x4.pmax(a3, f32x4.add(a, v128.load32_splat(r, 12)));
        r += row;
      }
      m = f32x4.pmax(m, emitLogTag(a0, eb, j, me, ps, Bs));
      m = f32x4.pmax(m, emitLogTag(a1, eb, j + 1, me, ps, Bs));
      m = f32x4.pmax(m, emitLogTag(a2, eb, j + 2, me, ps, Bs));
      m = f32x4.pmax(m, emitLogTag(a3, eb, j + 3, me, ps, Bs));
    }
    for (; j < K; j++) m = f32x4.pmax(m, emitLogTag(max1(A, M, j), eb, j, me, ps, Bs));
  }
  return m;
}

/**
 * The Viterbi forward pass of the sequences at `p[0..n)` (lengths `len`): every step's state goes to
 * `H + s·16·K` (tag j of lane l at `+ 16·j + 4·l`), each lane's log offset (chain()'s logScale) to
 * f64 `d[l]`, −∞ for a lane with no allowed path. The caller backtraces each lane.
 */
export function viterbiGroup(n: i32, p: usize, len: usize, H: usize, d: usize, eb: usize): void {
  const K = numTags;
  const p0 = load<usize>(p), p1 = n > 1 ? load<usize>(p, 4) : p0, p2 = n > 2 ? load<usize>(p, 8) : p0, p3 = n > 3 ? load<usize>(p, 12) : p0;
  const l0 = load<i32>(len), l1 = n > 1 ? load<i32>(len, 4) : l0, l2 = n > 2 ? load<i32>(len, 8) : l0, l3 = n > 3 ? load<i32>(len, 12) : l0;
  const lens = i32x4.replace_lane(i32x4.replace_lane(i32x4.replace_lane(i32x4.splat(l0), 1, l1), 2, l2), 3, l3);
  const minLen = min(min(l0, l1), min(l2, l3)), maxLen = max(max(l0, l1), max(l2, l3));
  const step = <usize>K << 2, sb = <usize>K << 4;
  const ninf = f32x4.splat(-Infinity);
  let lo = f64x2.splat(0), hi = lo;
  let dead = i32x4.splat(0);
  let ps = f32x4.splat(0);
  let A: usize = 0;
  let s = 0;
  for (; s < maxLen; s++) {
    const o = <usize>s * step;
    const Bs = H + <usize>s * sb;
    const me = gather(eb, p0 + o, p1 + o, p2 + o, p3 + o);
    const m = maxStep(s == 0, A, Bs, eb, me, ps);
    // chain(): logScale += <f64>me + <f64>prevMax for each step of the sequence; a row of −∞ ends it.
    let fm = me, fp = ps;
    if (s >= minLen) {
      const active = i32x4.gt_s(lens, i32x4.splat(s));
      dead = v128.or(dead, v128.and(active, f32x4.eq(m, ninf)));
      fm = v128.and(fm, active);
      fp = v128.and(fp, active);
    } else {
      dead = v128.or(dead, f32x4.eq(m, ninf));
    }
    lo = f64x2.add(lo, f64x2.add(f64x2.promote_low_f32x4(fm), f64x2.promote_low_f32x4(fp)));
    hi = f64x2.add(hi, f64x2.add(f64x2.promote_low_f32x4(v128.shuffle<f32>(fm, fm, 2, 3, 2, 3)), f64x2.promote_low_f32x4(v128.shuffle<f32>(fp, fp, 2, 3, 2, 3))));
    ps = m;
    A = Bs;
  }
  v128.store(d, lo);
  v128.store(d + 16, hi);
  const dm = i32x4.bitmask(dead);
  for (let l = 0; l < n; l++) if ((dm & (1 << l)) != 0) store<f64>(d + (<usize>l << 3), -Infinity);
}

/** Per-lane scratch of backtraceGroup: each lane's last step, then its final tag. */
const BT_LANES = memory.data(32, 16);

/**
 * Closes and backtraces the four lanes of a viterbiGroup pass together: each lane's final tag and score
 * as the per-sequence backtrace (viterbi.ts) finds them, then one backpointer per lane per step,
 * recomputed as the first i maximising α_{s−1}[i] + trans[i][y_s] with the same f32 sums, four lanes at
 * a time (trans[i][y] gathered per lane from transLogT's row y). Paths go to `paths + l·4T` (i32, only
 * within each length; the caller zero-filled them), scores to f64 `scores[l]`.
 */
export function backtraceGroup(n: i32, len: usize, H: usize, d: usize, paths: usize, T: i32, scores: usize): void {
  const K = numTags, sb = <usize>K << 4, row = <usize>paddedTags << 2;
  const lastStep = BT_LANES, yFinal = BT_LANES + 16;
  v128.store(lastStep, i32x4.splat(-1));
  v128.store(yFinal, i32x4.splat(0));
  let top = -1;
  for (let l = 0; l < n; l++) {
    const ln = load<i32>(len + (<usize>l << 2));
    const so = scores + (<usize>l << 3);
    if (ln == 0) { store<f64>(so, 0); continue; }
    const dl = load<f64>(d + (<usize>l << 3));
    if (dl == -Infinity) { store<f64>(so, -Infinity); continue; }
    const last = H + <usize>(ln - 1) * sb + (<usize>l << 2);
    let best: f32 = -Infinity;
    let y = 0;
    for (let j = 0; j < K; j++) {
      const v = load<f32>(last + (<usize>j << 4)) + load<f32>(endLog + (<usize>j << 2));
      if (v > best) { best = v; y = j; }
    }
    if (best == -Infinity) { store<f64>(so, -Infinity); continue; }
    store<f64>(so, dl + <f64>best);
    store<i32>(lastStep + (<usize>l << 2), ln - 1);
    store<i32>(yFinal + (<usize>l << 2), y);
    if (ln - 1 > top) top = ln - 1;
  }
  const startV = v128.load(lastStep), yInit = v128.load(yFinal);
  const s0 = load<i32>(lastStep), s1 = load<i32>(lastStep, 4), s2 = load<i32>(lastStep, 8), s3 = load<i32>(lastStep, 12);
  const tb = <usize>T << 2;
  const pb0 = paths, pb1 = paths + tb, pb2 = paths + 2 * tb, pb3 = paths + 3 * tb;
  let y = yInit;
  for (let s = top; s >= 0; s--) {
    // A lane starts where its sequence ends; lanes past their end carry a valid tag that is never stored.
    y = v128.bitselect(yInit, y, i32x4.eq(startV, i32x4.splat(s)));
    const y0 = i32x4.extract_lane(y, 0), y1 = i32x4.extract_lane(y, 1), y2 = i32x4.extract_lane(y, 2), y3 = i32x4.extract_lane(y, 3);
    const so = <usize>s << 2;
    if (s <= s0) store<i32>(pb0 + so, y0);
    if (s <= s1) store<i32>(pb1 + so, y1);
    if (s <= s2) store<i32>(pb2 + so, y2);
    if (s <= s3) store<i32>(pb3 + so, y3);
    if (s == 0) break;
    const a = H + <usize>(s - 1) * sb;
    const t0 = transLogT + <usize>y0 * row, t1 = transLogT + <usize>y1 * row, t2 = transLogT + <usize>y2 * row, t3 = transLogT + <usize>y3 * row;
    let m = f32x4.splat(-Infinity);
    let arg = i32x4.splat(0);
    for (let i = 0; i < K; i++) {
      const o = <usize>i << 2;
      let tv = v128.load32_zero(t0 + o);
      tv = v128.load32_lane(t1 + o, tv, 1);
      tv = v128.load32_lane(t2 + o, tv, 2);
      tv = v128.load32_lane(t3 + o, tv, 3);
      const v = f32x4.add(v128.load(a + (<usize>i << 4)), tv);
      const gt = f32x4.gt(v, m);
      m = v128.bitselect(v, m, gt);
      arg = v128.bitselect(i32x4.splat(i), arg, gt);
    }
    y = arg;
  }
}

// --- posteriors: keep-all linear passes -------------------------------------------------------------

/**
 * A linear-space pass of the four lanes that keeps every step, as chain() with `keepAll` (posteriors):
 * lane l's rows start at `p[l]` and go `step` bytes per step (negative for a backward pass), for
 * `len[l]` steps; step s's normalised state goes to `H + s·16K`, its product before the emissions to
 * `PH + s·16K` when PH ≠ 0 (tag j of lane l at `+ 16j + 4l`), each lane's logScale to f64 `accs[l]`.
 * Rows past a lane's length are not meaningful. Returns the bitmask of lanes whose pass passed its checks.
 */
export function linearPassGroup(
  n: i32, p: usize, step: isize, len: usize, cnt: usize, M: usize, init: usize, H: usize, PH: usize, eb: usize, accs: usize,
): i32 {
  const K = numTags;
  const sb = <usize>K << 4;
  const p0 = load<usize>(p), p1 = n > 1 ? load<usize>(p, 4) : p0, p2 = n > 2 ? load<usize>(p, 8) : p0, p3 = n > 3 ? load<usize>(p, 12) : p0;
  const l0 = load<i32>(len), l1 = n > 1 ? load<i32>(len, 4) : l0, l2 = n > 2 ? load<i32>(len, 8) : l0, l3 = n > 3 ? load<i32>(len, 12) : l0;
  const lens = i32x4.replace_lane(i32x4.replace_lane(i32x4.replace_lane(i32x4.splat(l0), 1, l1), 2, l2), 3, l3);
  const minLen = min(min(l0, l1), min(l2, l3)), maxLen = max(max(l0, l1), max(l2, l3));
  v128.store(accs, f64x2.splat(0));
  v128.store(accs + 16, f64x2.splat(0));
  const all = i32x4.splat(-1);
  let okAll = all;
  let s = 0;
  for (; s < minLen; s++) {
    const o = <usize>(<isize>s * step);
    const me = gather(eb, p0 + o, p1 + o, p2 + o, p3 + o);
    const Bs = H + <usize>s * sb;
    const P = PH != 0 ? PH + <usize>s * sb : 0;
    okAll = v128.and(okAll, linearStep(s == 0, false, Bs - sb, Bs, eb, me, load<i32>(cnt + (<usize>s << 2)), all, accs, M, init, false, P));
  }
  for (; s < maxLen; s++) {
    // A lane whose sequence has ended re-reads its last row (its results are masked): stepping on, a
    // backward pass would read before the first sequence's rows, past the start of memory.
    const o0 = <usize>(<isize>max(min(s, l0 - 1), 0) * step), o1 = <usize>(<isize>max(min(s, l1 - 1), 0) * step);
    const o2 = <usize>(<isize>max(min(s, l2 - 1), 0) * step), o3 = <usize>(<isize>max(min(s, l3 - 1), 0) * step);
    const me = gather(eb, p0 + o0, p1 + o1, p2 + o2, p3 + o3);
    const Bs = H + <usize>s * sb;
    const P = PH != 0 ? PH + <usize>s * sb : 0;
    const active = i32x4.gt_s(lens, i32x4.splat(s));
    okAll = v128.and(okAll, linearStep(s == 0, true, Bs - sb, Bs, eb, me, load<i32>(cnt + (<usize>s << 2)), active, accs, M, init, false, P));
  }
  return i32x4.bitmask(okAll);
}

/** Σ_j H[last][j]·endExp[j] for lane l in f64 (log-z.ts's sumEnd on a grouped state). */
export function groupSumEnd(H: usize, last: i32, l: i32): f64 {
  const K = numTags;
  const r = H + <usize>last * (<usize>K << 4) + (<usize>l << 2);
  let S: f64 = 0;
  for (let j = 0; j < K; j++) S += <f64>load<f32>(r + (<usize>j << 4)) * <f64>load<f32>(endExp + (<usize>j << 2));
  return S;
}
