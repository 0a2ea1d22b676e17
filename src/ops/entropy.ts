// H(y | x) per sequence, in nats, from the entropy semiring's own recursion (never log Z − E[score],
// which cancels on confident sequences), with log Z beside it.
import type { Packed } from '../call/pack.js';
import type { Potentials } from '../model/parameters.js';
import { Entropy, chain, finalSum } from '../backends/js/recursion.js';
import { defineOp, joinField } from './op.js';

export interface EntropyResult {
  /** log Z per sequence (−∞ where no path is allowed). */
  logZ: Float64Array;
  /** H(y | x) per sequence. */
  entropy: Float64Array;
}

function reference(p: Packed, w: Potentials): EntropyResult {
  const logZ = new Float64Array(p.B);
  const entropy = new Float64Array(p.B);
  for (let b = 0; b < p.B; b++) {
    const len = p.lengths[b];
    if (len === 0) continue;
    const c = chain(Entropy, p.emissions, b * p.T * p.K, p.K, len, p.K, w.start, w.trans, false, null);
    if (c.shift === -Infinity) {
      logZ[b] = -Infinity;
      continue;
    }
    [logZ[b], entropy[b]] = finalSum(Entropy, c, len, p.K, w.end, null);
  }
  return { logZ, entropy };
}

export const entropy = defineOp<void, EntropyResult>({
  name: 'entropy',
  reference,
  wasm: {
    kernel: 'entropy',
    outputs: (p) => [p.B * 8, p.B * 8],
    run(c, p) {
      c.kernel(p.B, p.T, c.em, c.lens, c.out[0], c.out[1], c.work);
      const [z, h] = c.out;
      return { logZ: c.mem.f64.slice(z >>> 3, (z >>> 3) + p.B), entropy: c.mem.f64.slice(h >>> 3, (h >>> 3) + p.B) };
    },
  },
  gpu: () => import('../backends/webgpu/ops/entropy.js').then((m) => m.entropy),
  threads: { split: { minK: 9, minWork: 2 ** 22 }, join: (parts) => ({ logZ: joinField(parts, 'logZ'), entropy: joinField(parts, 'entropy') }) },
});
