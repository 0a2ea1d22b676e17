// log Z per sequence: the forward algorithm, log Σ_y exp score(y) over the allowed paths.
import type { Packed } from '../call/pack.js';
import type { Potentials } from '../model/parameters.js';
import { LogSum, chain, finalSum } from '../backends/js/recursion.js';
import { defineOp, concat } from './op.js';

/** log Z per sequence: −∞ where no path is allowed, 0 for a sequence of length 0. */
type LogPartitionResult = Float64Array;

function reference(p: Packed, w: Potentials): Float64Array {
  const out = new Float64Array(p.B);
  for (let b = 0; b < p.B; b++) {
    const len = p.lengths[b];
    if (len === 0) continue;
    const c = chain(LogSum, p.emissions, b * p.T * p.K, p.K, len, p.K, w.start, w.trans, false, null);
    out[b] = c.shift === -Infinity ? -Infinity : finalSum(LogSum, c, len, p.K, w.end, null)[0];
  }
  return out;
}

export const logPartition = defineOp<void, LogPartitionResult>({
  name: 'logPartition',
  reference,
  wasm: {
    kernel: 'logPartition',
    outputs: (p) => [p.B * 8],
    run(c, p) {
      c.kernel(p.B, p.T, c.em, c.lens, c.out[0], c.work);
      return c.mem.f64.slice(c.out[0] >>> 3, (c.out[0] >>> 3) + p.B);
    },
  },
  gpu: () => import('../backends/webgpu/ops/log-partition.js').then((m) => m.logPartition),
  threads: { split: { minK: Infinity, minWork: Infinity }, join: concat },
});
