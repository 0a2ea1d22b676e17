// forwardBackward's op in float64: the posteriors' reference, the emission gradient made from its
// marginals as the WebGPU backend makes it (the op's spec: src/ops/gradients.ts).
import type { Packed } from '../../../call/pack.js';
import { pathScores } from '../../../ops/path-scores.js';
import type { Potentials } from '../../../model/parameters.js';
import { fromPosteriors, type GradientArgs, type Gradients } from '../../../ops/gradients.js';
import { posteriors } from './posteriors.js';

export function gradients(p: Packed, w: Potentials, args: GradientArgs): Gradients {
  return fromPosteriors(p, posteriors(p, w), args, pathScores(p, args.tags, w));
}
