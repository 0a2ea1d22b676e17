// log Z per sequence: the forward algorithm, log Σ_y exp score(y) over the allowed paths.
import { defineOp, concat } from './op.js';

/** log Z per sequence: −∞ where no path is allowed, 0 for a sequence of length 0. */
type LogPartitionResult = Float64Array;

export const logPartition = defineOp<void, LogPartitionResult>({
  name: 'logPartition',
  reference: () => import('../backends/js/ops/log-partition.js').then((m) => m.logPartition),
  wasm: {
    kernel: 'logPartition',
    outputs: (p) => [p.B * 8],
    run(c, p) {
      c.kernel(p.B, p.T, c.em, c.lens, c.out[0], c.work);
      return c.mem.f64.slice(c.out[0] >>> 3, (c.out[0] >>> 3) + p.B);
    },
  },
  gpu: () => import('../backends/webgpu/ops/log-partition.js').then((m) => m.logPartition),
  // From bench/threads.js --table (docs/performance.md, Threads).
  threads: { split: { minK: 9, minWork: 2 ** 23 }, join: concat },
});
