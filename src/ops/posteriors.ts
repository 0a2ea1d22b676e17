// Forward–backward: log Z, the marginals p(y_s = j) and the expected transition counts, everything the
// gradients (model/grad.ts) and marginals are made of.
import { defineOp, joinField, type KernelCall } from './op.js';

export interface Posteriors {
  /** log Z per sequence (−∞ where no path is allowed). */
  logZ: Float64Array;
  /** p(y_s = j), packed `[B, T, K]`; 0 past each length. */
  unary: Float32Array | Float64Array;
  /** Σ_b Σ_s p(y_{s−1} = i, y_s = j), `[K · K]`. */
  transCounts: Float64Array;
}

/** A range's posteriors, with its transition counts summed per block of sequences (see {@link countBlock}). */
export interface PosteriorsPart {
  logZ: Float64Array;
  unary: Float32Array | Float64Array;
  /** `[blocks, K · K]`, in block order. */
  blockCounts: Float64Array;
}

/**
 * Sequences per block of the transition counts' sum. The counts are a sum over the batch, and float
 * addition is not associative: summed in fixed blocks (boundaries that depend on the call's shape only,
 * never on how many threads run it), each from zero, and the block sums then added in block order,
 * one thread and n threads add the same numbers in the same order and give the same bits. 16, or more
 * where one block's K² counts would outweigh its B·T·K marginals (short sequences, many tags), so that
 * handing per-block sums between threads costs no more than the marginals themselves.
 */
export function countBlock(T: number, K: number): number {
  return Math.max(16, Math.ceil((2 * K) / T));
}

/** The batch's transition counts from the ranges' per-block sums, added in block order. */
export function sumBlocks(parts: readonly { blockCounts: Float64Array }[], K: number): Float64Array {
  const KK = K * K;
  const transCounts = new Float64Array(KK);
  for (const { blockCounts } of parts) for (let o = 0; o < blockCounts.length; o += KK) for (let i = 0; i < KK; i++) transCounts[i] += blockCounts[o + i];
  return transCounts;
}

/**
 * Runs a counting kernel once per block of sequences (see {@link countBlock}): `call(b0, n)` runs
 * sequences [b0, b0 + n), which sum their transition counts from zero into the padded Kp × Kp f64
 * region at `counts`. Returns the blocks' sums, `[blocks, K · K]`, in block order.
 */
export function countInBlocks(c: KernelCall, counts: number, B: number, T: number, K: number, call: (b0: number, n: number) => void): Float64Array {
  const block = countBlock(T, K);
  const nBlocks = Math.ceil(B / block);
  const Kp = (K + 3) & ~3;
  const blockCounts = new Float64Array(nBlocks * K * K);
  for (let i = 0; i < nBlocks; i++) {
    const b0 = i * block;
    call(b0, Math.min(block, B - b0));
    const f64 = c.mem.f64,
      at = counts >>> 3;
    for (let a = 0; a < K; a++) for (let d = 0; d < K; d++) blockCounts[(i * K + a) * K + d] = f64[at + a * Kp + d];
  }
  return blockCounts;
}

export const posteriors = defineOp<void, Posteriors, PosteriorsPart>({
  name: 'posteriors',
  reference: () => import('../backends/js/ops/posteriors.js').then((m) => m.posteriors),
  wasm: {
    kernel: 'posteriors',
    outputs: (p) => {
      const Kp = (p.K + 3) & ~3;
      return [p.B * 8, p.B * p.T * p.K * 4, Kp * Kp * 8];
    },
    run(c, { B, T, K }) {
      const seq = T * K * 4;
      const [z, unary, counts] = c.out;
      const blockCounts = countInBlocks(c, counts, B, T, K, (b0, n) =>
        c.kernel(n, T, c.em + b0 * seq, c.lens + b0 * 4, z + b0 * 8, unary + b0 * seq, counts, c.work),
      );
      return {
        logZ: c.mem.f64.slice(z >>> 3, (z >>> 3) + B),
        unary: c.mem.f32.slice(unary >>> 2, (unary >>> 2) + B * T * K),
        blockCounts,
      };
    },
  },
  gpu: () => import('../backends/webgpu/ops/posteriors.js').then((m) => m.posteriors),
  threads: {
    split: { minK: 9, minWork: 2 ** 26 },
    block: countBlock,
    join: (parts, p) => ({ logZ: joinField(parts, 'logZ'), unary: joinField(parts, 'unary'), transCounts: sumBlocks(parts, p.K) }),
  },
});
