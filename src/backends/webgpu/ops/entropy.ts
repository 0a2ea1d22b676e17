// log Z and H(y | x) per sequence: the chain kernel over the entropy semiring.
import type { EntropyResult } from '../../../ops/entropy.js';
import { USAGE } from '../buffers.js';
import type { GpuOp } from '../op.js';
import { chainChunk } from './chain.js';

export const entropy: GpuOp<EntropyResult> = {
  name: 'entropy',
  chain: 'chain.entropy',
  perSequence: (T, K) => T * K + 2 * T + 3,
  begin(ctx, p, plan) {
    const logZ = new Float64Array(p.B);
    const entropy = new Float64Array(p.B);
    return {
      chunk(b0, b1) {
        const B = b1 - b0;
        const h = ctx.scratch(4 * B, 'webcrf entropy', USAGE.COPY_SRC);
        return chainChunk(ctx, p, plan, 'entropy', 'chain.entropy', b0, b1, logZ, { entropy: h }, [
          [h, 4 * B, (data, at) => entropy.set(new Float32Array(data, at, B), b0)],
        ]);
      },
      result: () => ({ logZ, entropy }),
    };
  },
};
