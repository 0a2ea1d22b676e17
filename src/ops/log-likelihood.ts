// forward's op: log Z and the gold path's score per sequence in one call over one copy of the emissions,
// so the score is summed on the kernels, on the thread that runs its range (the log-likelihood is
// score − log Z).
import { defineOp, joinField, plainFloats } from './op.js';

export interface LogLikelihoodArgs {
  /** The gold tags, packed `[B, T]` (T: the call's packed length); read only where the sequence is on. */
  tags: Int32Array;
  /** The packed T: the tags' row length (a range of sequences starts at `b0 · T`). */
  T: number;
}

/** The args of sequences [b0, b1) of an op given gold tags (this one and gradients): their rows of the tags. */
export function sliceTags<A extends LogLikelihoodArgs>(args: A, b0: number, b1: number): A {
  return { ...args, tags: args.tags.subarray(b0 * args.T, b1 * args.T) };
}

/** Plain arrays from the WASM backend: a typed array's off-heap allocation costs a short call more than its scores' sum. */
export interface LogLikelihoodResult {
  /** log Z per sequence (−∞ where no path is allowed; 0 for a sequence of length 0). */
  logZ: Float64Array | number[];
  /** The score of the gold tags per sequence, summed in float64 (−∞ where a step is forbidden; 0 for length 0). */
  score: Float64Array | number[];
}

export const logLikelihood = defineOp<LogLikelihoodArgs, LogLikelihoodResult>({
  name: 'logLikelihood',
  reference: () => import('../backends/js/ops/log-likelihood.js').then((m) => m.logLikelihood),
  wasm: {
    kernel: 'logLikelihood',
    // log Z, the scores, then the tags (an input the run writes).
    outputs: (p) => [p.B * 8, p.B * 8, p.B * p.T * 4],
    run(c, { B, T }, { tags }) {
      const [z, score, tg] = c.out;
      c.mem.i32.set(tags.length === B * T ? tags : tags.subarray(0, B * T), tg >>> 2);
      c.kernel(B, T, c.em, c.lens, tg, z, score, c.work);
      return { logZ: plainFloats(c.mem.f64, z >>> 3, B), score: plainFloats(c.mem.f64, score >>> 3, B) };
    },
  },
  gpu: () => import('../backends/webgpu/ops/log-likelihood.js').then((m) => m.logLikelihood),
  threads: {
    // From bench/threads.js --table (docs/performance.md, Threads).
    split: { minK: 9, minWork: 2 ** 24 },
    slice: sliceTags,
    join: (parts) => ({ logZ: joinField(parts, 'logZ'), score: joinField(parts, 'score') }),
  },
});
