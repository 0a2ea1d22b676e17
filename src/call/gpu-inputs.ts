// Emissions that are already on a GPU: `{ buffer: GPUBuffer, shape }`, an onnxruntime-web tensor whose
// data is a GPU buffer (`location: 'gpu-buffer'`) and a transformers.js tensor wrapping one. They are
// recognised by duck typing (several copies of onnxruntime's classes coexist in one page, so
// `instanceof` cannot tell them), checked here for what can be checked on the CPU, and computed on
// where they are by the webgpu backend (src/backends/webgpu/gather.ts).
import { CRFInputError, describe, reading, shapeStr } from '../errors.js';
import { MAX_VALUES } from '../limits.js';
import type { Packed } from './pack.js';

/**
 * Emissions a WebGPU device already holds: a `GPUBuffer` of float32 values in the emissions' layout
 * (`[B, T, K]`, or `[T, B, K]` when `batchFirst` is false), row-major from offset 0. The buffer may be
 * larger than B·T·K·4 bytes (onnxruntime rounds sizes up); its usage must include `STORAGE`, and it
 * must belong to the device the CRF was created with (`CRF.create(K, { backend: 'webgpu', device })`).
 */
export interface GpuEmissionsInput {
  /** A `GPUBuffer` (typed loosely so that the public declarations need no WebGPU types). */
  buffer: object;
  /** `[d0, d1, K]`. */
  shape: readonly number[];
}

/**
 * An onnxruntime-web `Tensor` whose data is in a GPU buffer (`location: 'gpu-buffer'`, from a session
 * with `preferredOutputLocation: 'gpu-buffer'`), or a transformers.js `Tensor` wrapping one: float32,
 * `dims` in the emissions' layout, on the CRF's device.
 */
export interface GpuTensorInput {
  /** `'gpu-buffer'` (`'texture'` and `'ml-tensor'` are refused, naming the location). */
  readonly location: string;
  /** `[d0, d1, K]`, in the emissions' layout. */
  readonly dims: readonly number[];
  /** `'float32'` (any other type is refused: convert it first). */
  readonly type: string;
}

/** What the CPU side knows of a GPUBuffer (the public declarations carry no WebGPU types). */
export interface BufferLike {
  readonly size: number;
  readonly usage: number;
}

/** GPU emissions as checked on the CPU: the buffer, and the dense shape in the CRF's layout. */
export interface GpuEmissions {
  buffer: BufferLike;
  B: number;
  T: number;
  K: number;
  batchFirst: boolean;
  shape: number[];
}

const STORAGE = 128;

/** What a value claims to be when it is a GPU input, or null for anything else (read with getters that may throw). */
function gpuSource(x: unknown, arg = 'emissions'): { what: string; buffer: unknown; dims: unknown; type: unknown } | null {
  if (x === null || typeof x !== 'object') return null;
  const t = x as Record<string, unknown>;
  if (Object.hasOwn(t, 'buffer') && Object.hasOwn(t, 'shape') && !Object.hasOwn(t, 'data')) {
    return { what: '{ buffer, shape }', buffer: t.buffer, dims: t.shape, type: 'float32' };
  }
  // transformers.js: a Proxy forwarding dims/type/location to its onnxruntime tensor, which holds the buffer.
  const ort = 'ort_tensor' in t ? (t.ort_tensor as Record<string, unknown> | null) : null;
  const location = t.location;
  if (location === 'gpu-buffer' && typeof t.type === 'string' && 'dims' in t) {
    const inner = ort ?? t;
    return { what: ort ? 'a transformers.js Tensor' : 'an onnxruntime Tensor', buffer: inner.gpuBuffer, dims: t.dims, type: t.type };
  }
  if ((location === 'texture' || location === 'ml-tensor') && typeof t.type === 'string') {
    throw new CRFInputError(
      arg,
      "values on the CPU or in a GPU buffer (an onnxruntime tensor with location 'gpu-buffer'; set the session's preferredOutputLocation to 'gpu-buffer')",
      `a tensor with location '${location}'`,
    );
  }
  return null;
}

/** Whether argument `arg` is handed over on a GPU (the checks come with {@link readGpuEmissions}). */
export function isGpuInput(x: unknown, arg = 'emissions'): boolean {
  return reading(arg, () => gpuSource(x, arg) !== null);
}

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

/** The error for a GPU input `x` where no GPU computes: create the CRF on the GPU, or download the values. */
export function notOnWebGpu(x: unknown, backend: string): CRFInputError {
  const src = reading('emissions', () => gpuSource(x));
  const given =
    src && src.what !== '{ buffer, shape }'
      ? `${src.what} with location "gpu-buffer" (this CRF is on backend '${backend}'; or download its values with await t.getData() and pass { data, shape: t.dims })`
      : `emissions on a GPU for a CRF on backend '${backend}'`;
  return new CRFInputError(
    'emissions',
    "CPU values on this CRF (a GPU input needs a CRF created with { backend: 'webgpu', device }, that device being the one holding the buffer)",
    given,
  );
}

/** The error for a mask or tags handed over on a GPU: only emissions are read there. */
export function onCpuOnly(arg: 'mask' | 'tags'): CRFInputError {
  return new CRFInputError(
    arg,
    `${arg} on the CPU (nested arrays or { data, shape }; only emissions may stay on the GPU: a ${arg} decides how much work a call is, so it is read before any GPU work)`,
    `${arg} on a GPU`,
  );
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
