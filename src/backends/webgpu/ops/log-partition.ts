// log Z per sequence: the chain kernel over the log semiring.
import type { GpuOp } from '../op.js';
import { chainChunk } from './chain.js';

export const logPartition: GpuOp<Float64Array> = {
  name: 'logPartition',
  chain: 'chain.logPartition',
  maxT: Infinity,
  perSequence: (T, K) => T * K + 2 * T + 2,
  fixed: () => 0,
  begin(ctx, p, plan) {
    const logZ = new Float64Array(p.B);
    return {
      chunk: (b0, b1) => chainChunk(ctx, p, plan, 'logPartition', 'chain.logPartition', b0, b1, logZ),
      result: () => logZ,
      release: () => {},
    };
  },
};
