// The best path per sequence and its score: the forward pass over the max-plus semiring, then a
// backtrace.
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

export const viterbi = defineOp<void, ViterbiResult>({
  name: 'viterbi',
  reference: () => import('../backends/js/ops/viterbi.js').then((m) => m.viterbi),
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
