// log Z and H(y | x) per sequence: the chain kernel over the entropy semiring.
import type { EntropyResult } from '../../../ops/entropy.js';
import { USAGE } from '../buffers.js';
import type { GpuOp } from '../op.js';
import { chainChunk } from './chain.js';

/**
 * The longest chain whose entropy runs on the GPU. The kernel keeps each tag's H relative to the best
 * tag's, in float32: where every tag's paths mix that costs nothing, but tags whose paths never mix
 * (constraints, or −1e4 transitions, that split them into sets) grow apart by up to ln K a step, and
 * their rounding with them, to about 3e-8·T of H. Longer chains run on the CPU backend, which keeps H
 * in float64 (and a GPU runs one chain's steps one after another anyway).
 */
export const ENTROPY_MAX_T = 8192;

export const entropy: GpuOp<EntropyResult> = {
  name: 'entropy',
  chain: 'chain.entropy',
  maxT: ENTROPY_MAX_T,
  perSequence: (T, K) => T * K + 3 * T + 3,
  fixed: () => 0,
  begin(ctx, p, plan) {
    const logZ = new Float64Array(p.B);
    const entropy = new Float64Array(p.B);
    return {
      chunk(b0, b1) {
        const B = b1 - b0,
          T = p.T;
        const h = ctx.scratch(4 * B, 'webcrf entropy', USAGE.COPY_SRC);
        const hshift = ctx.scratch(4 * B * T, 'webcrf entropy shifts', USAGE.COPY_SRC);
        let rel: Float32Array;
        return chainChunk(ctx, p, plan, 'entropy', 'chain.entropy', b0, b1, logZ, { entropy: h, hshift }, [
          [h, 4 * B, (data, at) => (rel = new Float32Array(data, at, B))],
          [
            hshift,
            4 * B * T,
            (data, at) => {
              // The relative H plus what every visited row took out of it, in float64.
              const shifts = new Float32Array(data, at, B * T);
              for (let b = 0; b < B; b++) {
                let s: number = rel[b];
                for (let t = 0; t < p.lengths[b0 + b]; t++) s += shifts[b * T + t];
                entropy[b0 + b] = s;
              }
            },
          ],
        ]);
      },
      result: () => ({ logZ, entropy }),
      release: () => {},
    };
  },
};
