// The op registry: every op the backends run, by name. Types of an op's arguments and results are
// derived from here, so a backend, the thread layer and the worker dispatch stay generic.
import { entropy } from './entropy.js';
import { gradients } from './gradients.js';
import { kBest } from './k-best.js';
import { logLikelihood } from './log-likelihood.js';
import { logPartition } from './log-partition.js';
import type { OpSpec } from './op.js';
import { posteriors } from './posteriors.js';
import { sample } from './sample.js';
import { viterbi } from './viterbi.js';

export const OPS = { logPartition, logLikelihood, posteriors, gradients, entropy, viterbi, kBest, sample } as const;

type Ops = typeof OPS;
/** An op's name. */
export type OpName = keyof Ops;
/** Its arguments beyond the call (void: none). */
type ArgsOf<N extends OpName> = Ops[N] extends OpSpec<infer A, infer _R, infer _P> ? A : never;
/** Its result. */
export type ResultOf<N extends OpName> = Ops[N] extends OpSpec<infer _A, infer R, infer _P> ? R : never;
/** A range's result (what a thread hands back). */
export type PartOf<N extends OpName> = Ops[N] extends OpSpec<infer _A, infer _R, infer P> ? P : never;
/** The arguments as a call passes them: none for an op without. */
export type OpArgs<N extends OpName> = ArgsOf<N> extends void ? [] : [ArgsOf<N>];

/** The spec of `op` with its types spelled out (the one place the registry's union is narrowed). */
export function specOf<N extends OpName>(op: N): OpSpec<ArgsOf<N>, ResultOf<N>, PartOf<N>> {
  return OPS[op] as unknown as OpSpec<ArgsOf<N>, ResultOf<N>, PartOf<N>>;
}

export { type OpSpec } from './op.js';
export type { EntropyResult } from './entropy.js';
export type { GradientArgs, Gradients } from './gradients.js';
export type { KBestArgs, KBestResult } from './k-best.js';
export type { LogLikelihoodArgs, LogLikelihoodResult } from './log-likelihood.js';
export type { Posteriors } from './posteriors.js';
export type { SampleArgs, SampleResult } from './sample.js';
export type { ViterbiResult } from './viterbi.js';
