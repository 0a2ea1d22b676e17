// What the tests of refused inputs share.
import { expect } from 'vitest';
import { CRF, CRFInputError, type Reduction, type StateDictInput } from '../src/index.js';

/**
 * The CRFInputError a call throws or its promise rejects with (callers of the async ops see both
 * alike); the test fails when it gives anything else, or nothing.
 */
export async function inputError(call: Promise<unknown> | (() => unknown)): Promise<CRFInputError> {
  let err: unknown = null;
  try {
    await (typeof call === 'function' ? call() : call);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(CRFInputError);
  return err as CRFInputError;
}

/** A small batch the input tests share: B = 2, T = 3, K = 3, nested, and gold tags for it. */
export const SMALL_EMISSIONS = [
  [
    [0.5, -1, 2],
    [0, 0.25, 1],
    [1, 1, -2],
  ],
  [
    [0.1, 0.2, 0.3],
    [3, -3, 0],
    [0, 0, 0.5],
  ],
];
export const SMALL_TAGS = [
  [0, 1, 2],
  [2, 2, 0],
];

/** A log-likelihood and its gradients, in float64. */
export interface LlhReference {
  value: number;
  emissions: Float64Array;
  startTransitions: Float64Array;
  endTransitions: Float64Array;
  transitions: Float64Array;
}

/**
 * What a tensor library's differentiated CRF is checked against: by the float64 js backend with the
 * parameters `state`, the reduced log-likelihood and its gradients or, with `weights`, Σ_b w_b llh_b
 * and its gradients, summed one sequence at a time (each weighted by its own upstream gradient).
 * `mask`: batch-first rows `[B][T]` of 0/1, or null for all on; `tags` in the emissions' layout.
 */
export async function llhReference(
  state: StateDictInput,
  emissions: { data: Float32Array; shape: number[] },
  tags: number[][],
  mask: number[][] | null,
  { batchFirst = true, reduction = 'sum', weights = null }: { batchFirst?: boolean; reduction?: Reduction; weights?: number[] | null } = {},
): Promise<LlhReference> {
  const [d0, d1, K] = emissions.shape;
  const [B, T] = batchFirst ? [d0, d1] : [d1, d0];
  const js = await CRF.create(K, { backend: 'js', batchFirst });
  js.loadStateDict(state);
  const want: LlhReference = {
    value: 0,
    emissions: new Float64Array(emissions.data.length),
    startTransitions: new Float64Array(K),
    endTransitions: new Float64Array(K),
    transitions: new Float64Array(K * K),
  };
  for (const b of weights ? weights.map((_, i) => i) : [-1]) {
    const rows = Array.from({ length: B }, (_, i) => Array.from({ length: T }, (_, t) => (b < 0 || i === b ? (mask ? mask[i][t] : 1) : 0)));
    const m = batchFirst ? rows : Array.from({ length: T }, (_, t) => rows.map((row) => row[t]));
    const fb = await js.forwardBackward(emissions, tags, { reduction: weights ? 'sum' : reduction, mask: m });
    const c = b < 0 ? 1 : weights![b];
    want.value += c * (fb.logLikelihood as number);
    fb.grads.emissions.forEach((g, i) => (want.emissions[i] += c * g));
    for (const k of ['startTransitions', 'endTransitions', 'transitions'] as const) fb.grads[k].forEach((g, i) => (want[k][i] += c * g));
  }
  js.dispose();
  return want;
}

/** Each value within `tol` relative to the expected one (absolute below 1). */
export function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, name: string, tol = 2e-5): void {
  expect(got.length, name).toBe(want.length);
  for (let i = 0; i < want.length; i++)
    expect(Math.abs(got[i] - want[i]), `${name}[${i}]: ${got[i]} vs ${want[i]}`).toBeLessThanOrEqual(tol * (1 + Math.abs(want[i])));
}
