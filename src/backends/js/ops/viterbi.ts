// The best path and its score in float64: the viterbi op's reference, which the js backend runs and the other
// backends are tested against (the op's spec, with what it computes: src/ops/viterbi.ts).
import type { Packed } from '../../../call/pack.js';
import type { Potentials } from '../../../model/parameters.js';
import type { ViterbiResult } from '../../../ops/viterbi.js';
import { MaxPlus, chain, finalSum } from '../recursion.js';

export function viterbi(p: Packed, w: Potentials): ViterbiResult {
  const { B, T, K } = p;
  const paths = new Int32Array(B * T);
  const scores = new Float64Array(B);
  const back = new Int32Array(T * K);
  const last = new Int32Array(1);
  for (let b = 0; b < B; b++) {
    const len = p.lengths[b];
    if (len === 0) continue;
    const c = chain(MaxPlus, p.emissions, b * T * K, K, len, K, w.start, w.trans, false, back);
    if (c.shift === -Infinity) {
      scores[b] = -Infinity;
      continue;
    }
    scores[b] = finalSum(MaxPlus, c, len, K, w.end, last)[0];
    let y = last[0];
    for (let s = len - 1; s >= 0; s--) {
      paths[b * T + s] = y;
      y = back[s * K + y];
    }
  }
  return { paths, scores };
}
