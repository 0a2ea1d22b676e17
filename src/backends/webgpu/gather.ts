// Emissions the caller hands over on the GPU (src/call/gpu-inputs.ts): checked against the device,
// gathered into the packed layout by shaders/gather.wgsl with their values checked there, and, for the
// calls that compute on the CPU, read back once.
import { CRFInputError, indexPath, rangeError } from '../../errors.js';
import { MAX_MAGNITUDE } from '../../limits.js';
import type { Packed } from '../../call/pack.js';
import { WGSL } from '../../generated/shaders.js';
import { USAGE } from './buffers.js';
import type { GpuContext } from './context.js';
import { type Program, Readback, execute, program } from './execute.js';

export type GpuSource = NonNullable<Packed['gpu']>;

const NONE = 0xffffffff;
/** The float32 bits of MAX_MAGNITUDE: a value whose |bits| exceed them is out of range, ±Infinity or NaN. */
const MAX_BITS = new Uint32Array(Float32Array.of(MAX_MAGNITUDE).buffer)[0];
const COMPUTE = 4;

function valuesOf(src: GpuSource): number {
  return src.shape.reduce((a, d) => a * d, 1);
}

/** The caller's values and no more: onnxruntime pads its buffers. */
function sourceBinding(src: GpuSource): GPUBufferBinding {
  return { buffer: src.buffer as GPUBuffer, size: Math.max(4, 4 * valuesOf(src)) };
}

const checks = new WeakMap<GPUDevice, { layout: GPUBindGroupLayout; pipeline: GPUComputePipeline }>();

function checkerOf(device: GPUDevice) {
  let c = checks.get(device);
  if (!c) {
    const layout = device.createBindGroupLayout({
      label: 'webcrf emissions check',
      entries: [{ binding: 0, visibility: COMPUTE, buffer: { type: 'read-only-storage' } }],
    });
    const module = device.createShaderModule({ label: 'webcrf emissions check', code: '@compute @workgroup_size(1) fn main() {}' });
    const pipeline = device.createComputePipeline({
      label: 'webcrf emissions check',
      layout: device.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: 'main' },
    });
    checks.set(device, (c = { layout, pipeline }));
  }
  return c;
}

function refusedBy(err: GPUError): CRFInputError {
  return new CRFInputError(
    'emissions',
    "a live GPUBuffer of the CRF's device (create the CRF with { backend: 'webgpu', device } on the device that made the buffer, e.g. await ort.env.webgpu.device)",
    `one the device refused: ${err.message.split('\n')[0].slice(0, 300)}`,
  );
}

/**
 * Refuses a buffer of another device, which only the device can tell: the bind group is made in an
 * error scope of its own, so that no other call's errors mix in. With `submit`, the buffer is also
 * used in a dispatch that does nothing, which a destroyed buffer fails (asked only once a call failed: it costs
 * a submit).
 */
export async function checkSource(device: GPUDevice, src: GpuSource, submit = false): Promise<void> {
  const { layout, pipeline } = checkerOf(device);
  device.pushErrorScope('validation');
  const group = device.createBindGroup({ label: 'webcrf emissions check', layout, entries: [{ binding: 0, resource: sourceBinding(src) }] });
  if (submit) {
    const enc = device.createCommandEncoder({ label: 'webcrf emissions check' });
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(1);
    pass.end();
    device.queue.submit([enc.finish()]);
  }
  const err = await device.popErrorScope();
  if (err) throw refusedBy(err);
}

/** The caller's row of each of sequences [b0, b1)'s packed rows (NONE past a length). */
function sourceRows(p: Packed, src: GpuSource, b0: number, b1: number): Uint32Array {
  const rows = new Uint32Array((b1 - b0) * p.T).fill(NONE);
  for (let b = b0; b < b1; b++) {
    for (let s = 0; s < p.lengths[b]; s++) {
      const t = p.positions[b * p.T + s];
      rows[(b - b0) * p.T + s] = src.batchFirst ? b * src.denseT + t : t * p.B + b;
    }
  }
  return rows;
}

/** The gather of `rows` into `packed`, and the value check into `fault`. */
export interface Gathered {
  packed: GPUBuffer;
  /** 8 bytes to read back with the results: see {@link checkFault}. */
  fault: GPUBuffer;
  programs: Program[];
  /** Pool buffers besides `packed` that go back once submitted. */
  owned: GPUBuffer[];
}

/** `check`: the caller's every value is checked too (once a call, with its first chunk). */
function gather(ctx: GpuContext, src: GpuSource, rows: Uint32Array, K: number, check: boolean): Gathered {
  const n = rows.length * K;
  const total = valuesOf(src);
  const params = (mode: number, count: number) => {
    const u = ctx.pool.acquire(32, USAGE.UNIFORM | USAGE.COPY_DST, 'webcrf gather params');
    ctx.device.queue.writeBuffer(u, 0, new Uint32Array([count, K, ctx.rowsX, mode, MAX_BITS, 0, 0, 0]));
    return u;
  };
  const copy = params(0, n);
  const rowsBuf = ctx.upload(rows, 'webcrf gather rows');
  const packed = ctx.scratch(4 * n, 'webcrf emissions', USAGE.COPY_SRC);
  const fault = ctx.upload(Uint32Array.of(NONE, 0), 'webcrf emissions check', USAGE.COPY_SRC);
  const source = sourceBinding(src);
  const programs = [program('gather', 'gather', {}, ctx.grid(Math.ceil(n / WGSL.WG)), { params: copy, source, rows: rowsBuf, packed, fault })];
  const owned = [copy, rowsBuf, fault];
  if (check) {
    const all = params(2, total),
      fetch = params(1, 0);
    programs.push(
      program('check', 'gather', {}, ctx.grid(Math.ceil(total / WGSL.WG)), { params: all, source, rows: rowsBuf, packed, fault }),
      program('check value', 'gather', {}, [1, 1], { params: fetch, source, rows: rowsBuf, packed, fault }),
    );
    owned.push(all, fetch);
  }
  return { packed, fault, programs, owned };
}

/** Sequences [b0, b1) of a GPU call gathered into the packed layout the chain kernels read (every value checked with the first chunk). */
export function gatherChunk(ctx: GpuContext, p: Packed, b0: number, b1: number): Gathered {
  return gather(ctx, p.gpu!, sourceRows(p, p.gpu!, b0, b1), p.K, b0 === 0);
}

/** Throws the CPU path's error for the value the gather refused, if any (`at`: the fault buffer's 8 bytes in the data read). */
export function checkFault(data: ArrayBuffer, at: number, src: GpuSource): void {
  const [index, bits] = new Uint32Array(data, at, 2);
  if (index === NONE) return;
  throw rangeError('emissions', new Float32Array(Uint32Array.of(bits).buffer)[0], indexPath(index, src.shape));
}

/**
 * The caller's values in their own layout, read back once for a call that computes on the CPU, and
 * checked as the gather checks them. The copy goes through the gather, so a buffer with STORAGE usage
 * alone can be read too.
 */
export async function readSource(ctx: GpuContext, src: GpuSource, K: number): Promise<Float32Array> {
  const n = valuesOf(src);
  const g = gather(
    ctx,
    src,
    Uint32Array.from({ length: n / K }, (_, i) => i),
    K,
    true,
  );
  const rb = new Readback();
  const atValues = rb.add(g.packed, 4 * n);
  const atFault = rb.add(g.fault, 8);
  const { data } = await execute(ctx.device, ctx.pool, null, 'emissions readback', g.programs, rb, [g.packed, ...g.owned]);
  checkFault(data, atFault, src);
  return new Float32Array(data, atValues, n);
}
