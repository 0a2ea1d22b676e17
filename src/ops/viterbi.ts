// The best path per sequence and its score: the forward pass over the max-plus semiring, then a
// backtrace.
import type { Packed } from '../call/pack.js';
import type { Potentials } from '../model/parameters.js';
import { MaxPlus, chain, finalSum } from '../backends/js/recursion.js';
import { defineOp, joinField, plainFloats, plainInts } from './op.js';

export interface ViterbiResult {
  /**
   * Best packed path per sequence, `[B, T]` (0 past each length). The WASM backend hands a plain array:
   * a typed array's off-heap allocation costs a short call about as much as its kernel.
   */
  paths: Int32Array | number[];
  /** Its score (−∞ where no path is allowed, 0 for a sequence of length 0); a plain array from the WASM backend, as `paths`. */
  scores: Float64Array | number[];
}

function reference(p: Packed, w: Potentials): ViterbiResult {
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

export const viterbi = defineOp<void, ViterbiResult>({
  name: 'viterbi',
  reference,
  wasm: {
    kernel: 'viterbi',
    outputs: (p) => [p.B * p.T * 4, p.B * 8],
    run(c, p) {
      c.kernel(p.B, p.T, c.em, c.lens, c.out[0], c.out[1], c.work);
      const [paths, scores] = c.out;
      return { paths: plainInts(c.mem.i32, paths >>> 2, p.B * p.T), scores: plainFloats(c.mem.f64, scores >>> 3, p.B) };
    },
  },
  gpu: () => import('../backends/webgpu/ops/viterbi.js').then((m) => m.viterbi),
  threads: { split: { minK: 64, minWork: 2 ** 26 }, join: (parts) => ({ paths: joinField(parts, 'paths'), scores: joinField(parts, 'scores') }) },
});
