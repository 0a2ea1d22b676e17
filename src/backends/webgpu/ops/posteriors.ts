// Marginals, expected transition counts and log Z: forward-backward (the chain kernel over the log
// semiring, storing every step), then the marginals, the pair counts per group of sequences, and their
// sum over the groups (and over earlier chunks).
import type { Posteriors } from '../../../ops/posteriors.js';
import type { Packed } from '../../../call/pack.js';
import { WGSL } from '../../../generated/shaders.js';
import { USAGE } from '../buffers.js';
import { Readback, program } from '../execute.js';
import type { GpuOp } from '../op.js';
import { addShifts } from './chain.js';

/** Target size (floats) of the pairs kernel's per-group partial counts. */
const PARTIAL_FLOATS = 1 << 20;

export const posteriors: GpuOp<Posteriors> = {
  name: 'posteriors',
  chain: 'chain.posteriors',
  maxT: Infinity,
  perSequence: (T, K) => T * K + 4 * T + 2,
  fixed: (K) => K * K * 2,
  begin(ctx, p: Packed, plan) {
    const { T, K } = p;
    const KK = K * K;
    const groupFloats = Math.max(1, Math.floor(PARTIAL_FLOATS / KK));
    const logZ = new Float64Array(p.B);
    const unary = new Float32Array(p.B * T * K);
    const transCounts = new Float64Array(KK);
    const potentials = ctx.upload(plan.potentials, 'webcrf potentials');
    const counts = ctx.scratch(4 * KK, 'webcrf transition counts', USAGE.COPY_SRC);
    return {
      chunk(b0, b1) {
        const B = b1 - b0;
        const last = b1 === p.B;
        let G = Math.min(B, groupFloats, ctx.rowsX);
        const GB = Math.ceil(B / G);
        G = Math.ceil(B / GB);
        const bufs = {
          dims: ctx.dims(B, T, K, { G, GB, accumulate: b0 > 0 ? 1 : 0 }),
          emissions: ctx.emissions(p, b0, b1),
          lengths: ctx.upload(p.lengths.subarray(b0, b1), 'webcrf lengths'),
          scores: ctx.scratch(4 * B, 'webcrf scores', USAGE.COPY_SRC),
          norms: ctx.scratch(4 * 2 * B * T * 2, 'webcrf row shifts', USAGE.COPY_SRC),
          alpha: ctx.scratch(4 * B * T * K, 'webcrf alpha → marginals', USAGE.COPY_SRC),
          beta: ctx.scratch(4 * B * T * K, 'webcrf beta'),
          partialCounts: ctx.scratch(4 * G * KK, 'webcrf partial counts'),
        };
        const { dims, emissions, lengths, scores, norms, alpha, beta, partialCounts } = bufs;
        const readback = new Readback();
        const atU = readback.add(alpha, 4 * B * T * K);
        const atZ = readback.add(scores, 4 * B);
        const atN = readback.add(norms, 4 * B * T * 2);
        const atC = last ? readback.add(counts, 4 * KK) : -1;
        const { constants, layout } = plan;
        return {
          // In order: a, L = b - e and the row shifts of both directions; the marginals (in place over
          // a); pair counts (from the marginals, L, e and the backward shifts); the batch reduction.
          programs: [
            program('posteriors', 'chain.posteriors', constants, [Math.ceil(B / layout.SEQ), 2], {
              dims,
              emissions,
              lengths,
              potentials,
              scores,
              norms,
              alpha,
              beta,
            }),
            program('marginals', 'unary', constants, ctx.grid(Math.ceil((B * T) / layout.SEQ)), { dims, lengths, alpha, beta }),
            program('pairs', 'pairs', {}, [Math.ceil(KK / WGSL.WG), G], { dims, lengths, potentials, unary: alpha, beta, emissions, norms, partialCounts }),
            program('reduce', 'reduce', {}, ctx.grid(Math.ceil(KK / WGSL.WG)), { dims, partialCounts, counts }),
          ],
          readback,
          owned: Object.values(bufs),
          read(data) {
            unary.set(new Float32Array(data, atU, B * T * K), b0 * T * K);
            addShifts(logZ, b0, new Float32Array(data, atZ, B), new Float32Array(data, atN, B * T * 2), p);
            if (last) transCounts.set(new Float32Array(data, atC, KK));
          },
        };
      },
      result: () => ({ logZ, unary, transCounts }),
      release() {
        ctx.pool.release(potentials);
        ctx.pool.release(counts);
      },
    };
  },
};
