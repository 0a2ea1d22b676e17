// Emissions that are already on a GPU: `{ buffer: GPUBuffer, shape }`, an onnxruntime-web tensor whose
// data is a GPU buffer (`location: 'gpu-buffer'`) and a transformers.js tensor wrapping one. They are
// recognised here by duck typing (several copies of onnxruntime's classes coexist in one page, so
// `instanceof` cannot tell them), and refused where no GPU computes. What can be checked on the CPU is
// checked in gpu-emissions.ts, loaded with a WebGPU backend only; the values are computed on where they
// are by the webgpu backend (src/backends/webgpu/gather.ts).
import { CRFInputError, reading } from '../errors.js';

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

/** What a value claims to be when it is a GPU input, or null for anything else (read with getters that may throw). */
export function gpuSource(x: unknown, arg = 'emissions'): { what: string; buffer: unknown; dims: unknown; type: unknown } | null {
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

/** Whether argument `arg` is handed over on a GPU (gpu-emissions.ts checks it, where a WebGPU backend computes). */
export function isGpuInput(x: unknown, arg = 'emissions'): boolean {
  if (x === null || typeof x !== 'object') return false;
  return reading(arg, () => gpuSource(x, arg) !== null);
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
