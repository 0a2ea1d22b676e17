// The k best paths per sequence with their scores, best first (k-best Viterbi: the max-plus semiring
// lifted to sorted lists of k).
import { defineOp, joinField } from './op.js';

/** The list size. */
export interface KBestArgs {
  k: number;
}

export interface KBestResult {
  /** `[B, k, T]` packed paths. */
  paths: Int32Array | number[];
  /** `[B, k]` scores, best first; −∞ marks a missing path (the sequence has fewer than k). */
  scores: Float64Array;
  k: number;
}

export const kBest = defineOp<KBestArgs, KBestResult>({
  name: 'kBest',
  reference: () => import('../backends/js/ops/k-best.js').then((m) => m.kBest),
  wasm: {
    kernel: 'kBest',
    workArg: ({ k }) => k,
    outputs: (p, { k }) => [p.B * k * p.T * 4, p.B * k * 8],
    run(c, p, { k }) {
      c.kernel(p.B, p.T, k, c.em, c.lens, c.out[0], c.out[1], c.work);
      const [paths, scores] = c.out;
      return { paths: c.mem.i32.slice(paths >>> 2, (paths >>> 2) + p.B * k * p.T), scores: c.mem.f64.slice(scores >>> 3, (scores >>> 3) + p.B * k), k };
    },
  },
  // The lists' merges have no GPU kernel.
  gpu: 'cpu',
  threads: { split: { minK: 9, minWork: 2 ** 22 }, join: (parts, _p, { k }) => ({ paths: joinField(parts, 'paths'), scores: joinField(parts, 'scores'), k }) },
});
