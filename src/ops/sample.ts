// Paths drawn exactly from p(y | x) (forward filtering, backward sampling, as torch-struct's `sample`):
// the forward pass over the log-sum semiring keeping every step's α, then, per sample, the last tag
// drawn ∝ α_{L−1}[j] · end[j] and each earlier one ∝ α_s[i] · trans[i][y_{s+1}].
//
// The draws come from a counter-based generator, stateless and the same in the kernel
// (assembly/ops/sample.ts): the uniform of (seed, sequence, sample, step) is murmur3_x86_32 of those
// four 32-bit words, the sequence as its index in the whole call's batch, under the hash seeds 0 and
// 0x9e3779b9; 27 bits of the first hash and 26 of the second make a 53-bit u in [0, 1). Step s draws its
// tag as the first i whose cumulative weight exceeds u · Σ weights, so a tag of weight 0 (forbidden by a
// constraint or an annotation) is never drawn. Nothing is carried from one draw to the next: a range of
// sequences cut off for a thread (`first`, its first sequence's index) draws what the whole batch draws.
import { defineOp, joinField } from './op.js';

export interface SampleArgs {
  /** Paths per sequence. */
  numSamples: number;
  /** The generator's key, an integer in [0, 2^32). */
  seed: number;
  /** The index, in the whole call, of the first sequence of the range this runs on. */
  first: number;
}

export interface SampleResult {
  /** `[B, numSamples, T]` packed paths (0 past each length, and for a sequence with no allowed path). */
  paths: Int32Array;
  /** log Z per sequence (−∞ where no path is allowed, 0 for a sequence of length 0). */
  logZ: Float64Array;
}

export const sample = defineOp<SampleArgs, SampleResult>({
  name: 'sample',
  reference: () => import('../backends/js/ops/sample.js').then((m) => m.sample),
  wasm: {
    kernel: 'sample',
    outputs: (p, { numSamples }) => [p.B * numSamples * p.T * 4, p.B * 8],
    run(c, p, { numSamples, seed, first }) {
      c.kernel(p.B, p.T, numSamples, seed, first, c.em, c.lens, c.out[0], c.out[1], c.work);
      const [paths, z] = c.out;
      const n = p.B * numSamples * p.T;
      return { paths: c.mem.i32.slice(paths >>> 2, (paths >>> 2) + n), logZ: c.mem.f64.slice(z >>> 3, (z >>> 3) + p.B) };
    },
  },
  // The draws are a sequential walk per sample; the WebGPU backend hands the op to its CPU backend.
  gpu: 'cpu',
  threads: {
    // posteriors' rule, taken by analogy (a forward pass keeping every step, then per-step work), not measured.
    split: { minK: 9, minWork: 2 ** 26 },
    slice: (args, b0) => ({ ...args, first: args.first + b0 }),
    join: (parts) => ({ paths: joinField(parts, 'paths'), logZ: joinField(parts, 'logZ') }),
  },
});
