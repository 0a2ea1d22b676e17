// The best path per sequence and its score: the forward pass over the max-plus semiring, then a
// backtrace.
import { concat, defineOp, joinField, plainFloats, plainInts } from './op.js';

export interface ViterbiResult {
  /**
   * Best packed path per sequence, `[B, T]` (0 past each length). The WASM backend hands a short call's
   * as a plain array: a typed array's off-heap allocation costs a short call about as much as its kernel.
   * A plain array is the call's own (made for it, held by nothing else): the caller may hand it out.
   */
  paths: Int32Array | number[];
  /** Its score (−∞ where no path is allowed, 0 for a sequence of length 0); a plain array from the WASM backend, as `paths`. */
  scores: Float64Array | number[];
}

/** Paths of up to this many steps in all come back as a plain array (ViterbiResult). */
const PLAIN_PATHS = 4096;

/** The ranges' paths end to end: typed past PLAIN_PATHS steps in all, whatever kind the first range's came in. */
function joinPaths(parts: ViterbiResult[]): Int32Array | number[] {
  const paths = parts.map((r) => r.paths);
  const n = paths.reduce((m, a) => m + a.length, 0);
  if (n > PLAIN_PATHS && !ArrayBuffer.isView(paths[0])) paths[0] = Int32Array.from(paths[0]);
  return concat(paths);
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
      // Plain arrays for a short call (see ViterbiResult); a long one's paths in one copy, which the
      // caller reads once per sequence anyway, and which a worker hands back without a clone.
      const n = p.B * p.T;
      const flat = n > PLAIN_PATHS ? c.mem.i32.slice(paths >>> 2, (paths >>> 2) + n) : plainInts(c.mem.i32, paths >>> 2, n);
      return { paths: flat, scores: plainFloats(c.mem.f64, scores >>> 3, p.B) };
    },
  },
  gpu: () => import('../backends/webgpu/ops/viterbi.js').then((m) => m.viterbi),
  // From bench/threads.js --table (docs/performance.md, Threads).
  threads: { split: { minK: 32, minWork: 2 ** 24 }, join: (parts) => ({ paths: joinPaths(parts), scores: joinField(parts, 'scores') }) },
});
