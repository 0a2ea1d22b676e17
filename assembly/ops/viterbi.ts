// viterbi: the best path and its score per sequence (max-plus forward pass, then a backtrace). For
// small K the SIMD build runs the forward pass over groups of four sequences, one per lane (grouped.ts).

import { chain } from '../chain';
import { backtraceGroup, GROUP_MAX_K, viterbiGroup } from '../grouped';
import { MAXPLUS, MaxPlus } from '../semirings';
import { endLog, numTags, rowBytes, startLog, transLog, transLogT } from '../tables';
import { groupMin, groupLanes, OP_VITERBI, opArea, scratchRows, workBytes } from './work-area';

/** Each lane's log offset from viterbiGroup. */
const GROUP_D = memory.data(32, 16);

/**
 * Closes one sequence's max-plus pass and backtraces it: step s's state has tag i at
 * `AH + s·rs + i·ts`, `d` is the pass's logScale. The backtrace recomputes each backpointer as the
 * first i maximising α_{s−1}[i] + trans[i][y_s] — the same f32 sums the forward pass maximised, so it is
 * the backpointer that pass would have stored (first index on ties, as the js backend and pytorch-crf),
 * for K operations per step instead of storing K per step.
 */
@inline function backtrace(AH: usize, rs: usize, ts: usize, len: i32, d: f64, pb: usize, so: usize): void {
  const K = numTags, row = rowBytes;
  if (d == -Infinity) { store<f64>(so, -Infinity); return; }
  const last = AH + <usize>(len - 1) * rs;
  let best: f32 = -Infinity;
  let y = 0;
  for (let j = 0; j < K; j++) {
    const v = load<f32>(last + <usize>j * ts) + load<f32>(endLog + (<usize>j << 2));
    if (v > best) { best = v; y = j; }
  }
  if (best == -Infinity) { store<f64>(so, -Infinity); return; }
  store<f64>(so, d + <f64>best);
  for (let s = len - 1; s >= 0; s--) {
    store<i32>(pb + (<usize>s << 2), y);
    if (s == 0) break;
    const a = AH + <usize>(s - 1) * rs;
    const t = transLogT + <usize>y * row;
    let m: f32 = -Infinity;
    let arg = 0;
    for (let i = 0; i < K; i++) {
      const v = load<f32>(a + <usize>i * ts) + load<f32>(t + (<usize>i << 2));
      if (v > m) { m = v; arg = i; }
    }
    y = arg;
  }
}

function viterbiL<L>(B: i32, T: i32, em: usize, lens: usize, paths: usize, scores: usize, work: usize): void {
  const K = numTags, row = rowBytes;
  const seq = <usize>T * <usize>K << 2;
  const AH = opArea(work, T);
  memory.fill(paths, 0, <usize>B * <usize>T << 2);
  let b = 0;
  if (isVector<L>() && K <= GROUP_MAX_K) {
    const ptrs = groupLanes(work, T);
    const sb = <usize>K << 4;
    const eb = AH + <usize>T * sb;
    for (; B - b >= groupMin(); b += 4) {
      const n = min(4, B - b);
      for (let l = 0; l < n; l++) store<usize>(ptrs + (<usize>l << 2), em + <usize>(b + l) * seq);
      const ls = lens + (<usize>b << 2);
      viterbiGroup(n, ptrs, ls, AH, GROUP_D, eb);
      backtraceGroup(n, ls, AH, GROUP_D, paths + (<usize>b * <usize>T << 2), T, scores + (<usize>b << 3));
    }
  }
  for (; b < B; b++) {
    const len = load<i32>(lens + (<usize>b << 2));
    const so = scores + (<usize>b << 3);
    if (len == 0) { store<f64>(so, 0); continue; }
    const d = chain<L, MaxPlus>(MAXPLUS, em + <usize>b * seq, <isize>K << 2, len, transLog, startLog, AH, true, 0, 0, scratchRows(work, T)).logScale;
    backtrace(AH, row, 4, len, d, paths + (<usize>b * <usize>T << 2), so);
  }
}

/** Best paths [B,T] (i32, 0 past each length) and their scores [B] (f64; −∞ where no path is allowed). */
export function viterbi(B: i32, T: i32, em: usize, lens: usize, paths: usize, scores: usize, work: usize): void {
  if (ASC_FEATURE_SIMD) viterbiL<v128>(B, T, em, lens, paths, scores, work);
  else viterbiL<f32>(B, T, em, lens, paths, scores, work);
}

/** Bytes of the work area viterbi needs for sequences of up to T steps (k: the list size, else 0). */
export function viterbiWorkBytes(T: i32, K: i32, k: i32): f64 {
  return workBytes(OP_VITERBI, T, K, k);
}
