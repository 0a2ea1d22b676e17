// viterbi: the best path and its score per sequence (max-plus forward pass, then a backtrace).

import { chain } from '../chain';
import { MAXPLUS, MaxPlus } from '../semirings';
import { endLog, numTags, rowBytes, startLog, transLog, transLogT } from '../tables';
import { opArea, scratchRows } from './work-area';

/**
 * The forward max-plus pass keeps every step's (normalised) α; the backtrace recomputes each
 * backpointer as the first i maximising α_{s−1}[i] + trans[i][y_s] — the same f32 sums the forward pass
 * maximised, so it is the backpointer that pass would have stored (first index on ties, as the js
 * backend and pytorch-crf), for K operations per step instead of storing K per step.
 */
function viterbiL<L>(B: i32, T: i32, em: usize, lens: usize, paths: usize, scores: usize, work: usize): void {
  const K = numTags, row = rowBytes;
  const seq = <usize>T * <usize>K << 2;
  const AH = opArea(work, T);
  memory.fill(paths, 0, <usize>B * <usize>T << 2);
  for (let b = 0; b < B; b++) {
    const len = load<i32>(lens + (<usize>b << 2));
    const so = scores + (<usize>b << 3);
    if (len == 0) { store<f64>(so, 0); continue; }
    const d = chain<L, MaxPlus>(MAXPLUS, em + <usize>b * seq, <isize>K << 2, len, transLog, startLog, AH, true, 0, 0, scratchRows(work, T)).logScale;
    if (d == -Infinity) { store<f64>(so, -Infinity); continue; }
    const last = AH + <usize>(len - 1) * row;
    let best: f32 = -Infinity;
    let y = 0;
    for (let j = 0; j < K; j++) {
      const v = load<f32>(last + (<usize>j << 2)) + load<f32>(endLog + (<usize>j << 2));
      if (v > best) { best = v; y = j; }
    }
    if (best == -Infinity) { store<f64>(so, -Infinity); continue; }
    store<f64>(so, d + <f64>best);
    const pb = paths + (<usize>b * <usize>T << 2);
    for (let s = len - 1; s >= 0; s--) {
      store<i32>(pb + (<usize>s << 2), y);
      if (s == 0) break;
      const a = AH + <usize>(s - 1) * row;
      const t = transLogT + <usize>y * row;
      let m: f32 = -Infinity;
      let arg = 0;
      for (let i = 0; i < K; i++) {
        const v = load<f32>(a + (<usize>i << 2)) + load<f32>(t + (<usize>i << 2));
        if (v > m) { m = v; arg = i; }
      }
      y = arg;
    }
  }
}

/** Best paths [B,T] (i32, 0 past each length) and their scores [B] (f64; −∞ where no path is allowed). */
export function viterbi(B: i32, T: i32, em: usize, lens: usize, paths: usize, scores: usize, work: usize): void {
  if (ASC_FEATURE_SIMD) viterbiL<v128>(B, T, em, lens, paths, scores, work);
  else viterbiL<f32>(B, T, em, lens, paths, scores, work);
}
