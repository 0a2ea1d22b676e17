// Emissions on a GPU checked against the CRF and the device's limits, and packed with their buffer in
// place: what only a CRF on a WebGPU backend needs, so it is imported with that backend (crf.ts), never
// by a page that computes on the CPU. Recognising a GPU input, and refusing it elsewhere, is in
// gpu-inputs.ts.
import { CRFInputError, describe, reading, shapeStr } from '../errors.js';
import { MAX_VALUES } from '../limits.js';
import { type BufferLike, type GpuEmissions, gpuSource } from './gpu-inputs.js';
import type { Packed } from './pack.js';

const STORAGE = 128;

function looksLikeBuffer(b: unknown): b is BufferLike {
  if (b === null || typeof b !== 'object') return false;
  const g = b as Record<string, unknown>;
  return typeof g.size === 'number' && typeof g.usage === 'number' && typeof g.mapAsync === 'function';
}

/**
 * Checks a GPU input against the CRF (K, layout) and the device's binding limit; the device itself is
 * checked by the backend, which alone can ask it. Nothing is read from the buffer here.
 */
export function readGpuEmissions(x: unknown, K: number, batchFirst: boolean, maxBindingBytes: number): GpuEmissions {
  return reading('emissions', () => {
    const src = gpuSource(x);
    if (!src) throw new CRFInputError('emissions', 'emissions on a GPU', describe(x));
    if (src.type !== 'float32') {
      throw new CRFInputError(
        'emissions',
        `float32 values on the GPU (convert the tensor first: webcrf reads GPU buffers as float32)`,
        `${src.what} of type ${describe(src.type)}`,
      );
    }
    const dims = src.dims as ArrayLike<unknown> | null;
    const layout = batchFirst ? '[batch, seq, tags]' : '[seq, batch, tags]';
    if (dims === null || typeof dims !== 'object' || typeof dims.length !== 'number' || dims.length !== 3) {
      throw new CRFInputError(
        'emissions',
        `a shape of 3 dimensions ${layout}`,
        `${src.what} with shape ${dims && typeof dims === 'object' ? shapeStr(dims) : describe(dims)}`,
      );
    }
    const shape = Array.from(dims, (d) => (typeof d === 'bigint' ? Number(d) : d));
    if (!shape.every((d) => typeof d === 'number' && Number.isInteger(d) && d >= 0)) {
      throw new CRFInputError('emissions', 'a shape of non-negative integers', shapeStr(dims));
    }
    const [d0, d1, k] = shape as number[];
    const B = batchFirst ? d0 : d1;
    const T = batchFirst ? d1 : d0;
    if (k !== K) throw new CRFInputError('emissions', `last dimension ${K} (numTags) in ${layout}`, `shape ${shapeStr(shape)}`);
    if (T === 0 && B > 0) throw new CRFInputError('emissions', `at least one timestep (${layout})`, `shape ${shapeStr(shape)}`);
    const n = B * T * K;
    if (n > MAX_VALUES) throw new CRFInputError('emissions', `at most ${MAX_VALUES} values`, `shape ${shapeStr(shape)}`);
    const buffer = src.buffer;
    if (!looksLikeBuffer(buffer))
      throw new CRFInputError('emissions', `a GPUBuffer in ${src.what === '{ buffer, shape }' ? 'buffer' : 'the tensor'}`, describe(buffer));
    if ((buffer.usage & STORAGE) === 0) {
      throw new CRFInputError('emissions', 'a GPUBuffer whose usage includes GPUBufferUsage.STORAGE (the kernels bind it as storage)', `usage ${buffer.usage}`);
    }
    if (buffer.size < 4 * n) {
      throw new CRFInputError('emissions', `a GPUBuffer of at least ${4 * n} bytes (${shapeStr(shape)} float32 values)`, `one of ${buffer.size} bytes`);
    }
    if (4 * n > maxBindingBytes) {
      throw new CRFInputError(
        'emissions',
        `at most ${maxBindingBytes} bytes on the GPU (the device's maxStorageBufferBindingSize); split the batch`,
        `${4 * n} bytes`,
      );
    }
    return { buffer, B, T, K, batchFirst, shape: shape as number[] };
  });
}

/**
 * A packed call whose emissions stay on the GPU: lengths and positions from the mask (on the CPU, as
 * for any call), the values gathered into packed order by the webgpu backend. Its `emissions` throw if
 * anything tries to read them on the CPU: that would be a bug, never a number.
 */
export function packGpu(em: GpuEmissions, mask: Uint8Array, lengths: Int32Array, positionsOf: (n: number) => Int32Array): Packed {
  const { B, K } = em;
  const T = B === 0 ? 1 : em.T;
  let Tp = 1;
  for (let b = 0; b < B; b++) {
    let n = 0;
    for (let t = 0; t < T; t++) if (mask[b * T + t]) n++;
    lengths[b] = n;
    if (n > Tp) Tp = n;
  }
  const positions = positionsOf(B * Tp).fill(-1);
  for (let b = 0; b < B; b++) {
    let n = 0;
    for (let t = 0; t < T; t++) if (mask[b * T + t]) positions[b * Tp + n++] = t;
  }
  return {
    B,
    T: Tp,
    K,
    lengths,
    positions,
    gpu: { buffer: em.buffer, denseT: T, batchFirst: em.batchFirst, shape: em.shape },
    get emissions(): Float32Array {
      throw new Error('webcrf: emissions on the GPU were read on the CPU (a bug in webcrf)');
    },
  };
}
