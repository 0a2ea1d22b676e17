// Analytic gradients against central finite differences of the float64 log-likelihood (js backend).
import { rng } from './oracle.js';
import { randomCase } from './bruteforce.js';
import { close, create } from './util.js';

/** @param {import('./util.js').Ctx} ctx */
export async function finiteDifferences(ctx) {
  const R = rng(31337);
  for (let trial = 0; trial < 3; trial++) {
    const K = [3, 4, 6][trial], T = [4, 6, 5][trial], B = 2;
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
    const h = 1e-4;
    const fdE = new Float64Array(g.emissions.length);
    const d1 = em.length, d2 = em[0].length;
    for (let a = 0; a < d1; a++) for (let b = 0; b < d2; b++) for (let j = 0; j < K; j++) {
      const v = em[a][b][j];
      em[a][b][j] = v + h; const up = await f();
      em[a][b][j] = v - h; const down = await f();
      em[a][b][j] = v;
      fdE[(a * d2 + b) * K + j] = (up - down) / (2 * h);
    }
    close(g.emissions, fdE, 1e-3, `${label} emissions`);
    /** @type {[keyof import('webcrf').Gradients, Float32Array][]} */
    const params = [['startTransitions', ref.startTransitions], ['endTransitions', ref.endTransitions], ['transitions', ref.transitions]];
    for (const [name, arr] of params) {
      const fd = new Float64Array(arr.length);
      for (let i = 0; i < arr.length; i++) {
        const v = arr[i];
        // Parameters are float32: divide by the step actually stored, not the one asked for.
        arr[i] = v + 1 / 256; const hi = arr[i]; const up = await f();
        arr[i] = v - 1 / 256; const lo = arr[i]; const down = await f();
        arr[i] = v;
        fd[i] = (up - down) / (hi - lo);
      }
      close(g[name], fd, 2e-3, `${label} ${name}`);
    }
    ref.dispose();
    crf.dispose();
  }
}
