// Assertions that work the same in vitest and in a bare browser page: they throw with a message.

/**
 * The package: src/ in Node (test/*.test.ts, scripts/), the built dist/ on a page (test/browser/).
 * @typedef {typeof import('webcrf')} Lib
 */
/** @typedef {import('webcrf').CRF} CRF */
/** @typedef {import('webcrf').BackendName} BackendName */
/** @typedef {import('webcrf').CRFOptions} CRFOptions */

/**
 * One case of the pytorch-crf 0.7.2 reference vectors (test/fixtures/pytorch-crf-vectors.json), batch-first.
 * @typedef {object} VectorCase
 * @property {number} num_tags
 * @property {number[]} start_transitions
 * @property {number[]} end_transitions
 * @property {number[][]} transitions
 * @property {number[][][]} emissions
 * @property {number[][]} tags
 * @property {number[][]} mask
 * @property {number[]} log_likelihood
 * @property {Record<'sum' | 'mean' | 'token_mean', number>} reductions
 * @property {number[]} log_partition
 * @property {number[][]} decode
 * @property {number[][][]} marginals
 * @property {{ emissions: number[][][], start_transitions: number[], end_transitions: number[], transitions: number[][] }} grads_of_sum_llh
 * @property {{ path: number[], score: number }[][]} [top_k]
 */

/**
 * What every suite runs with: the package, the backend to ask for and what else `CRF.create` needs
 * for it (a device, a wasmModule), and the reference vectors.
 * @typedef {object} Ctx
 * @property {Lib} lib
 * @property {BackendName} backend
 * @property {CRFOptions} [backendOptions]
 * @property {{ cases: VectorCase[] }} vectors
 */

export class Mismatch extends Error {}

/** @param {boolean} cond @param {string} msg */
export function check(cond, msg) {
  if (!cond) throw new Mismatch(msg);
}

/**
 * Float32 outputs against float64 references: |a − b| ≤ tol · (1 + |b|).
 * @param {ArrayLike<number>} a @param {ArrayLike<number>} b @param {number} tol @param {string} what
 */
export function close(a, b, tol, what) {
  check(a.length === b.length, `${what}: length ${a.length} vs ${b.length}`);
  for (let i = 0; i < a.length; i++) {
    const x = a[i],
      y = b[i];
    if (x === y) continue;
    check(Math.abs(x - y) <= tol * (1 + Math.abs(y)), `${what}[${i}]: got ${x}, expected ${y} (tol ${tol})`);
  }
}

/** Equal as JSON. @param {unknown} a @param {unknown} b @param {string} what */
export function equal(a, b, what) {
  check(JSON.stringify(a) === JSON.stringify(b), `${what}: got ${JSON.stringify(a)}, expected ${JSON.stringify(b)}`);
}

/**
 * Tolerance for a backend: the float64 js backend returns Float32Arrays; the others compute in float32.
 * @param {BackendName} backend
 */
export function tolerance(backend) {
  return backend === 'js' ? 1e-5 : 2e-3;
}

/** @template T @param {T[][]} x @returns {T[][]} [a][b] → [b][a] */
export function swap(x) {
  return x[0].map((_, t) => x.map((row) => row[t]));
}

/**
 * A CRF on the suite's backend.
 * @param {Ctx} ctx @param {number} K @param {CRFOptions} [opts]
 * @returns {Promise<CRF>}
 */
export async function create(ctx, K, opts = {}) {
  return ctx.lib.CRF.create(K, { backend: ctx.backend, ...(ctx.backendOptions ?? {}), ...opts });
}
