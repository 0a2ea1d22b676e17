// log Z and the gold path's score per sequence in float64: the logLikelihood op's reference (its spec:
// src/ops/log-likelihood.ts), logPartition's reference beside the one path score function.
import type { Packed } from '../../../call/pack.js';
import type { Potentials } from '../../../model/parameters.js';
import { pathScores } from '../../../ops/path-scores.js';
import type { LogLikelihoodArgs, LogLikelihoodResult } from '../../../ops/log-likelihood.js';
import { logPartition } from './log-partition.js';

export function logLikelihood(p: Packed, w: Potentials, { tags }: LogLikelihoodArgs): LogLikelihoodResult {
  return { logZ: logPartition(p, w), score: pathScores(p, tags, w) };
}
