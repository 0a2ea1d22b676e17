// Analytic gradients against central finite differences of the float64 log-likelihood (js backend).
import { rng } from './oracle.js';
import { randomCase } from './bruteforce.js';
import { close, create } from './util.js';

/** The step in each emission (float64 there: small steps keep the truncation error small). */
const H = 1e-4;
/** The step in each float32 parameter: coarse enough that float32 rounding leaves most of it. */
const PARAM_STEP = 1 / 256;

/**
 * Central differences of `f` in each value of the nested emissions `em` (each changed and restored in
 * place), flat in em's row-major layout.
 * @param {number[][][]} em
 * @param {() => Promise<number>} f
 */
export async function emissionDifferences(em, f) {
  const d1 = em.length,
    d2 = em[0].length,
    K = em[0][0].length;
  const fd = new Float64Array(d1 * d2 * K);
  for (let a = 0; a < d1; a++)
    for (let b = 0; b < d2; b++)
      for (let j = 0; j < K; j++) {
        const v = em[a][b][j];
        em[a][b][j] = v + H;
        const up = await f();
        em[a][b][j] = v - H;
        const down = await f();
        em[a][b][j] = v;
        fd[(a * d2 + b) * K + j] = (up - down) / (2 * H);
      }
  return fd;
}

/**
 * Central differences of `f` in each value of a float32 parameter array (changed and restored in place).
 * @param {Float32Array} arr
 * @param {() => Promise<number>} f
 */
export async function parameterDifferences(arr, f) {
  const fd = new Float64Array(arr.length);
  for (let i = 0; i < arr.length; i++) {
    const v = arr[i];
    // Parameters are float32: divide by the step actually stored, not the one asked for.
    arr[i] = v + PARAM_STEP;
    const hi = arr[i];
    const up = await f();
    arr[i] = v - PARAM_STEP;
    const lo = arr[i];
    const down = await f();
    arr[i] = v;
    fd[i] = (up - down) / (hi - lo);
  }
  return fd;
}

/** @param {import('./util.js').Ctx} ctx */
export async function finiteDifferences(ctx) {
  const R = rng(31337);
  for (let trial = 0; trial < 3; trial++) {
    const K = [3, 4, 6][trial],
      T = [4, 6, 5][trial],
      B = 2;
    const c = randomCase(R, { K, T, B, batchFirst: trial !== 1 });
    const constraints = trial === 2 ? { transitions: Array.from({ length: K }, (_, i) => Array.from({ length: K }, (_, j) => j !== (i + 1) % K)) } : undefined;
    if (constraints) {
      // Keep the gold paths allowed so the log-likelihood is finite.
      for (const row of c.input.tags) for (let t = 0; t < row.length; t++) if (row[t] >= 0 && row[t] < K && Number.isInteger(row[t])) row[t] = 0;
    }
    const ref = await ctx.lib.CRF.create(K, { backend: 'js', batchFirst: c.batchFirst, constraints });
    ref.loadStateDict({ start_transitions: c.start, end_transitions: c.end, transitions: c.trans });
    const crf = await create(ctx, K, { batchFirst: c.batchFirst, constraints });
    crf.loadStateDict(ref.stateDict());
    const { em, mask, tags } = c.input;
    const g = (await crf.forwardBackward(em, tags, { mask, reduction: 'sum' })).grads;
    const f = () => ref.forward(em, tags, { mask, reduction: 'sum' });
    const label = `fd trial ${trial}`;
    close(g.emissions, await emissionDifferences(em, f), 1e-3, `${label} emissions`);
    /** @type {[keyof import('webcrf').Gradients, Float32Array][]} */
    const params = [
      ['startTransitions', ref.startTransitions],
      ['endTransitions', ref.endTransitions],
      ['transitions', ref.transitions],
    ];
    for (const [name, arr] of params) {
      close(g[name], await parameterDifferences(arr, f), 2e-3, `${label} ${name}`);
    }
    ref.dispose();
    crf.dispose();
  }
}
