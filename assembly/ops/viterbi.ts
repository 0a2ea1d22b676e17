// viterbi: the best path and its score per sequence (max-plus forward pass, then a backtrace). For
// small K the SIMD build runs the forward pass over groups of four sequences, one per lane (grouped.ts).

import { chain, chainStateRows, chainWorkRows } from '../chain';
import { groupMin, groupPass, groupRowsBytes, groupsFor, groupStateBytes } from '../grouped';
import { MAXPLUS, MaxPlus } from '../semirings';
import { hmax, keep } from '../lanes';
import { endLog, numTags, paddedTags, rowBytes, startLog, tagLanes, transLog, transLogT } from '../tables';
import { layoutEnd, layoutFrom, rows, section } from './work-area';

/** viterbi's work area: where `layout` put each section. */
@final @unmanaged class Area {
  /** A chain's work rows. */
  workRows!: usize;
  /** Every step's state, for the backtrace: a chain's rows, or a group's lanes (one group at a time). */
  history!: usize;
  /** A group's gathered emission rows (groupsFor(K) only, as are the next two). */
  groupRows!: usize;
  /** A group's four log scales (f64). */
  scales!: usize;
  /** backtraceGroup's lanes: each lane's last step (4 i32), then its final tag (4 i32). */
  ends!: usize;
}

const AREA = changetype<Area>(memory.data(offsetof<Area>(), 8));

/** Lays out viterbi's work area for up to T steps of K tags from `base` into AREA; returns its end. */
function layout(base: usize, T: i32, K: i32): f64 {
  layoutFrom(base);
  AREA.workRows = section(rows(K, chainWorkRows(MAXPLUS)));
  const grouped = groupsFor(K);
  AREA.history = section(max(rows(K, chainStateRows(MAXPLUS, T, true)), grouped ? <f64>T * <f64>groupStateBytes(K) : 0));
  if (grouped) {
    AREA.groupRows = section(<f64>groupRowsBytes(K));
    AREA.scales = section(4 * 8);
    AREA.ends = section(2 * 16);
  }
  return layoutEnd();
}

/**
 * The best final tag of a max-plus pass's last state (tag j at `last + j·ts`): the first j maximising
 * last[j] + end[j]; −1 when every such sum is −∞ (no path).
 */
@inline function bestEnd(last: usize, ts: usize): i32 {
  let best: f32 = -Infinity;
  let y = -1;
  for (let j = 0; j < numTags; j++) {
    const v = load<f32>(last + <usize>j * ts) + load<f32>(endLog + (<usize>j << 2));
    if (v > best) { best = v; y = j; }
  }
  return y;
}

/**
 * Closes one sequence's max-plus pass and backtraces it: step s's state has tag i at
 * `AH + s·rs + i·ts`, `d` is the pass's logScale. The backtrace recomputes each backpointer as the
 * first i maximising α_{s−1}[i] + trans[i][y_s] — the same f32 sums the forward pass maximised, so it is
 * the backpointer that pass would have stored (first index on ties, as the js backend and pytorch-crf),
 * for K operations per step instead of storing K per step.
 */
@inline function backtrace<L>(AH: usize, rs: usize, ts: usize, len: i32, d: f64, pb: usize, so: usize): void {
  const K = numTags, row = rowBytes;
  if (d == -Infinity) { store<f64>(so, -Infinity); return; }
  const last = AH + <usize>(len - 1) * rs;
  let y = bestEnd(last, ts);
  if (y < 0) { store<f64>(so, -Infinity); return; }
  store<f64>(so, d + <f64>(load<f32>(last + <usize>y * ts) + load<f32>(endLog + (<usize>y << 2))));
  for (let s = len - 1; s >= 0; s--) {
    store<i32>(pb + (<usize>s << 2), y);
    if (s == 0) break;
    const a = AH + <usize>(s - 1) * rs;
    const t = transLogT + <usize>y * row;
    // Above 16 tags the branch per tag costs more than firstMaxSum's two passes; up to 16 the predicted
    // branches let the next step's loads start early, and the passes only lengthen the chain each step
    // waits on.
    if (isVector<L>() && ts == 4 && K > 16) { y = firstMaxSum(a, t); continue; }
    let m: f32 = -Infinity;
    let arg = 0;
    for (let i = 0; i < K; i++) {
      const v = load<f32>(a + <usize>i * ts) + load<f32>(t + (<usize>i << 2));
      if (v > m) { m = v; arg = i; }
    }
    y = arg;
  }
}

/**
 * The first i maximising a[i] + t[i] over the K tags of two padded rows: the scalar loop's answer (the
 * same f32 sums, the first index on ties) without its branch per tag, which random scores mispredict.
 */
@inline function firstMaxSum(a: usize, t: usize): i32 {
  const n = <usize>paddedTags << 2;
  const none = f32x4.splat(-Infinity);
  let m = none;
  for (let o: usize = 0; o < n; o += 16) m = f32x4.pmax(m, keep<v128>(f32x4.add(v128.load(a + o), v128.load(t + o)), none, tagLanes + o));
  const best = f32x4.splat(hmax<v128>(m));
  for (let o: usize = 0; o < n; o += 16) {
    const hit = i32x4.bitmask(v128.and(f32x4.eq(f32x4.add(v128.load(a + o), v128.load(t + o)), best), v128.load(tagLanes + o)));
    if (hit != 0) return <i32>(o >> 2) + ctz<i32>(hit);
  }
  return 0;
}

/**
 * Closes and backtraces the four lanes of a group's max-plus pass together: each lane's final tag and
 * score as backtrace finds them, then one backpointer per lane per step, recomputed as the first i
 * maximising α_{s−1}[i] + trans[i][y_s] with the same f32 sums, four lanes at a time (trans[i][y]
 * gathered per lane from transLogT's row y). Step s's state is at `H + s·16K` (tag j of lane l at
 * `+ 16j + 4l`), lane l's log scale at f64 `d[l]`. Paths go to `paths + l·4T` (i32, only within each
 * length; the caller zero-filled them), scores to f64 `scores[l]`. `ends` holds 32 bytes.
 */
function backtraceGroup(n: i32, len: usize, H: usize, d: usize, paths: usize, T: i32, scores: usize, ends: usize): void {
  const K = numTags, sb = groupStateBytes(K), row = <usize>paddedTags << 2;
  const lastStep = ends, yFinal = ends + 16;
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
    const y = bestEnd(last, 16);
    if (y < 0) { store<f64>(so, -Infinity); continue; }
    store<f64>(so, dl + <f64>(load<f32>(last + (<usize>y << 4)) + load<f32>(endLog + (<usize>y << 2))));
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

function viterbiL<L>(B: i32, T: i32, em: usize, lens: usize, paths: usize, scores: usize, work: usize): void {
  const K = numTags, row = rowBytes;
  layout(work, T, K);
  const seq = <usize>T * <usize>K << 2;
  const H = AREA.history;
  memory.fill(paths, 0, <usize>B * <usize>T << 2);
  let b = 0;
  if (isVector<L>() && groupsFor(K)) {
    const scales = AREA.scales;
    for (; B - b >= groupMin(); b += 4) {
      const n = min(4, B - b);
      const ls = lens + (<usize>b << 2);
      groupPass<MaxPlus>(MAXPLUS, n, em + <usize>b * seq, seq, ls, <isize>K << 2, transLog, startLog, 0, H, true, 0, AREA.groupRows, scales);
      backtraceGroup(n, ls, H, scales, paths + (<usize>b * <usize>T << 2), T, scores + (<usize>b << 3), AREA.ends);
    }
  }
  for (; b < B; b++) {
    const len = load<i32>(lens + (<usize>b << 2));
    const so = scores + (<usize>b << 3);
    if (len == 0) { store<f64>(so, 0); continue; }
    const d = chain<L, MaxPlus>(MAXPLUS, em + <usize>b * seq, <isize>K << 2, len, transLog, startLog, H, true, 0, 0, AREA.workRows).logScale;
    backtrace<L>(H, row, 4, len, d, paths + (<usize>b * <usize>T << 2), so);
  }
}

/** Best paths [B,T] (i32, 0 past each length) and their scores [B] (f64; −∞ where no path is allowed). */
export function viterbi(B: i32, T: i32, em: usize, lens: usize, paths: usize, scores: usize, work: usize): void {
  if (ASC_FEATURE_SIMD) viterbiL<v128>(B, T, em, lens, paths, scores, work);
  else viterbiL<f32>(B, T, em, lens, paths, scores, work);
}

/** Bytes of viterbi's work area for sequences of up to T steps of K tags (n: unused, 0). */
export function viterbiWorkBytes(T: i32, K: i32, n: i32): f64 {
  return layout(0, T, K);
}
