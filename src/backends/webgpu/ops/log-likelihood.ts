// log Z and the gold path's score: logPartition's chain kernel for log Z, the score on the CPU from the
// emissions as the kernel read them (gold-scores.ts).
import type { LogLikelihoodArgs, LogLikelihoodResult } from '../../../ops/log-likelihood.js';
import type { GpuOp } from '../op.js';
import { chainChunk } from './chain.js';
import { goldScoreFloats, goldScores } from './gold-scores.js';
import { logPartition } from './log-partition.js';

export const logLikelihood: GpuOp<LogLikelihoodResult, LogLikelihoodArgs> = {
  name: 'logLikelihood',
  chain: logPartition.chain,
  maxT: Infinity,
  perSequence: (T, K, onGpu) => logPartition.perSequence(T, K, onGpu) + goldScoreFloats(T, K, onGpu),
  fixed: () => 0,
  begin(ctx, p, plan, { tags }) {
    const logZ = new Float64Array(p.B);
    const gold = goldScores(ctx, p, plan.w, tags);
    return {
      chunk: (b0, b1) => gold.chunk(chainChunk(ctx, p, plan, 'logLikelihood', 'chain.logPartition', b0, b1, logZ), b0, b1),
      result: () => ({ logZ, score: gold.result() }),
      release: () => {},
    };
  },
};
