// H(y | x) per sequence, in nats, from the entropy semiring's own recursion (never log Z − E[score],
// which cancels on confident sequences), with log Z beside it.
import { defineOp, joinField } from './op.js';

export interface EntropyResult {
  /** log Z per sequence (−∞ where no path is allowed). */
  logZ: Float64Array;
  /** H(y | x) per sequence. */
  entropy: Float64Array;
}

export const entropy = defineOp<void, EntropyResult>({
  name: 'entropy',
  reference: () => import('../backends/js/ops/entropy.js').then((m) => m.entropy),
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
