// The best path and its score per sequence: the chain kernel over the max-plus semiring, with the
// backtrace on the GPU.
import type { ViterbiResult } from '../../../ops/viterbi.js';
import { USAGE } from '../buffers.js';
import type { GpuOp } from '../op.js';
import { chainChunk } from './chain.js';

export const viterbi: GpuOp<ViterbiResult> = {
  name: 'viterbi',
  chain: 'chain.viterbi',
  maxT: Infinity,
  perSequence: (T, K) => T * K + 3 * T + 2,
  fixed: () => 0,
  begin(ctx, p, plan) {
    const { T, K } = p;
    const paths = new Int32Array(p.B * T);
    const scores = new Float64Array(p.B);
    return {
      chunk(b0, b1) {
        const B = b1 - b0;
        const back = ctx.scratch(4 * B * T * K, 'webcrf backpointers');
        const best = ctx.scratch(4 * B * T, 'webcrf paths', USAGE.COPY_SRC);
        return chainChunk(ctx, p, plan, 'viterbi', 'chain.viterbi', b0, b1, scores, { back, paths: best }, [
          [
            best,
            4 * B * T,
            (data, at) => {
              const got = new Int32Array(data, at, B * T);
              // Positions past a length were never written by the kernel: keep the zeros of `paths`.
              for (let b = 0; b < B; b++) paths.set(got.subarray(b * T, b * T + p.lengths[b0 + b]), (b0 + b) * T);
            },
          ],
        ]);
      },
      result: () => ({ paths, scores }),
      release: () => {},
    };
  },
};
