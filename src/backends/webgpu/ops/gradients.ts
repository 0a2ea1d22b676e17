// forwardBackward's op on the GPU: posteriors' programs, their marginals turned into the op's result
// once read back (ops/gradients.ts fromPosteriors), and the gold path's score (gold-scores.ts).
import { fromPosteriors, type GradientArgs, type Gradients } from '../../../ops/gradients.js';
import type { GpuOp } from '../op.js';
import { goldScoreFloats, goldScores } from './gold-scores.js';
import { posteriors } from './posteriors.js';

export const gradients: GpuOp<Gradients, GradientArgs> = {
  name: 'gradients',
  chain: posteriors.chain,
  maxT: posteriors.maxT,
  perSequence: (T, K, onGpu) => posteriors.perSequence(T, K, onGpu) + goldScoreFloats(T, K, onGpu),
  fixed: (K) => posteriors.fixed(K),
  begin(ctx, p, plan, args) {
    const run = posteriors.begin(ctx, p, plan, undefined);
    const gold = goldScores(ctx, p, plan.w, args.tags);
    return {
      chunk: (b0, b1) => gold.chunk(run.chunk(b0, b1), b0, b1),
      result: () => fromPosteriors(p, run.result(), args, gold.result()),
      release: () => run.release(),
    };
  },
};
