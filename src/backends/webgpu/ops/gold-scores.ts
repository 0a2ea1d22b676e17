// The gold path's score for the ops given gold tags (logLikelihood, gradients): a sum along the tags on
// the CPU (src/ops/path-scores.ts, the definition every backend matches) from the emissions as the
// GPU kernels read them: the caller's array, or for emissions already on the GPU the packed rows the
// gather wrote, read back in the chunk's one readback.
import type { Packed } from '../../../call/pack.js';
import { pathScores } from '../../../ops/path-scores.js';
import type { Potentials } from '../../../model/parameters.js';
import type { GpuContext } from '../context.js';
import type { ChunkWork } from '../op.js';

/** Floats per sequence the readback of a chunk's packed emissions adds, only for emissions on the GPU (an op's perSequence includes it). */
export const goldScoreFloats = (T: number, K: number, onGpu: boolean) => (onGpu ? T * K : 0);

export function goldScores(ctx: GpuContext, p: Packed, w: Potentials, tags: Int32Array) {
  const score = p.gpu ? new Float64Array(p.B) : null;
  return {
    /** The chunk's work with its packed emissions read back too, where they came from the GPU. */
    chunk(work: ChunkWork, b0: number, b1: number): ChunkWork {
      if (!score) return work;
      const n = (b1 - b0) * p.T * p.K;
      // ctx.emissions, called by the op's chunk, left the gather of these rows (checked there) here.
      const at = work.readback.add(ctx.gathered!.packed, 4 * n);
      const rows = { B: b1 - b0, T: p.T, K: p.K, lengths: p.lengths.subarray(b0, b1), positions: p.positions.subarray(b0 * p.T, b1 * p.T) };
      return {
        ...work,
        read(data) {
          work.read(data);
          score.set(pathScores({ ...rows, emissions: new Float32Array(data, at, n) }, tags.subarray(b0 * p.T), w), b0);
        },
      };
    },
    result: (): Float64Array => score ?? pathScores(p, tags, w),
  };
}
