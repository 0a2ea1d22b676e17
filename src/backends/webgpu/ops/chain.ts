// What the ops built on the chain kernel share: its common bindings, and turning its relative scores
// back into absolute ones.
import type { Packed } from '../../../call/pack.js';
import { WGSL } from '../../../generated/shaders.js';
import { type ShaderBindings, type ShaderName } from '../../../generated/shaders.js';
import { USAGE } from '../buffers.js';
import type { GpuContext } from '../context.js';
import { Readback, program } from '../execute.js';
import type { ChunkWork, Plan } from '../op.js';

type ChainShader = Extract<ShaderName, `chain.${string}`>;

/** A buffer an op reads back beyond the scores and shifts, and what it does with the data. */
type Take = [buffer: GPUBuffer, bytes: number, take: (data: ArrayBuffer, at: number) => void];

/**
 * The buffers every chain kernel binds for sequences [b0, b1): dims, emissions, lengths, potentials,
 * the scores it writes and the per-row shifts (E, c) it took out of them.
 */
function chainInputs(ctx: GpuContext, p: Packed, b0: number, b1: number, potentials: Float32Array) {
  const B = b1 - b0;
  return {
    dims: ctx.dims(B, p.T, p.K),
    emissions: ctx.emissions(p, b0, b1),
    lengths: ctx.upload(p.lengths.subarray(b0, b1), 'webcrf lengths'),
    potentials: ctx.upload(potentials, 'webcrf potentials'),
    scores: ctx.scratch(4 * B, 'webcrf scores', USAGE.COPY_SRC),
    norms: ctx.scratch(4 * B * p.T * 2, 'webcrf row shifts', USAGE.COPY_SRC),
  };
}

/**
 * One chunk of a single-direction chain kernel: its common bindings plus the semiring's (`own`), the
 * scores and shifts read back into `scores` (log Z or the best score), and `takes` read back after.
 */
export function chainChunk<S extends ChainShader>(
  ctx: GpuContext,
  p: Packed,
  plan: Plan,
  name: string,
  shader: S,
  b0: number,
  b1: number,
  scores: Float64Array,
  own: Omit<Record<ShaderBindings[S], GPUBuffer>, keyof ReturnType<typeof chainInputs>> = {} as never,
  takes: Take[] = [],
): ChunkWork {
  const B = b1 - b0,
    T = p.T;
  const common = chainInputs(ctx, p, b0, b1, plan.potentials);
  const bufs = { ...common, ...own } as Record<ShaderBindings[S], GPUBuffer>;
  const readback = new Readback();
  const atZ = readback.add(common.scores, 4 * B);
  const atN = readback.add(common.norms, 4 * B * T * 2);
  const more = takes.map(([buffer, bytes, take]) => [readback.add(buffer, bytes), take] as const);
  return {
    programs: [program(name, shader, plan.constants, [Math.ceil(B / plan.layout.SEQ), 1], bufs)],
    readback,
    owned: Object.values<GPUBuffer>(bufs),
    read(data) {
      addShifts(scores, b0, new Float32Array(data, atZ, B), new Float32Array(data, atN, B * T * 2), p);
      for (const [at, take] of more) take(data, at);
    },
  };
}

/**
 * Sequence scores from a chain kernel: its relative float32 result plus every forward row's shifts,
 * summed in float64 (a float32 sum of T shifts of 1e4 would be off by tenths); -Infinity below THRESH.
 */
export function addShifts(out: Float64Array, b0: number, z: Float32Array, norms: Float32Array, p: Packed): void {
  for (let b = 0; b < z.length; b++) {
    if (z[b] < WGSL.THRESH) {
      out[b0 + b] = -Infinity;
      continue;
    }
    let s: number = z[b];
    const len = p.lengths[b0 + b];
    for (let t = 0; t < len; t++) s += norms[(b * p.T + t) * 2] + norms[(b * p.T + t) * 2 + 1];
    out[b0 + b] = s;
  }
}
