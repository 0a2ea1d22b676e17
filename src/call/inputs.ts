import { CRFInputError, describe, indexPath, rangeError, reading, shapeStr } from '../errors.js';
import { firstOutOfRange, MAX_ANNOTATION_SLOTS, MAX_MAGNITUDE, MAX_TAGS, MAX_VALUES } from '../limits.js';
import { readOptions } from './options.js';
import { spanOf } from './spans.js';
import { plainFloat32, typedArrayKind, typedLength } from './typed.js';
import { type Arrays, FRESH } from './call-arrays.js';
import { isTensorLike, readTensor, TENSOR_TYPES, type TensorLike } from './tensors.js';
import type { GpuEmissionsInput, GpuTensorInput } from './gpu-inputs.js';

export type { TensorLike } from './tensors.js';

/**
 * Emission scores: nested `[d0][d1][K]` arrays, a flat typed array with its shape, or a float32
 * onnxruntime / transformers.js tensor on the CPU (a model's logits as they come). `[d0, d1]` is
 * `[batch, seq]` when `batchFirst` (the default), `[seq, batch]` otherwise. Every value must be finite
 * and within ±1e20. On a CRF created with `{ backend: 'webgpu', device }`, also emissions already on
 * that device: `{ buffer: GPUBuffer, shape }` or an onnxruntime-web / transformers.js tensor with
 * `location: 'gpu-buffer'` (docs/gpu-inputs.md).
 */
export type EmissionsInput =
  | ArrayLike<ArrayLike<ArrayLike<number>>>
  | TensorLike
  | {
      /** Row-major values, `d0 · d1 · K` of them (read once, into a copy the CRF owns). */
      data: Float32Array | Float64Array | ArrayLike<number>;
      /** `[d0, d1, K]`. */
      shape: readonly number[];
    }
  | GpuEmissionsInput
  | GpuTensorInput;
/**
 * Gold tags: nested `[d0][d1]` integers, a flat typed array with its shape, or an int64 / int32
 * onnxruntime or transformers.js tensor, in the emissions' layout. Where the mask is on, each is an
 * integer in [0, K); where it is off, anything (-1, -100).
 */
export type TagsInput =
  | ArrayLike<ArrayLike<number>>
  | TensorLike
  | {
      /** Row-major tag ids, `d0 · d1` of them (int64 ones as a BigInt64Array, as PyTorch exports labels). */
      data: Int32Array | BigInt64Array | BigUint64Array | ArrayLike<number>;
      /** `[d0, d1]`, the emissions' first two dimensions. */
      shape: readonly number[];
    };
/**
 * Mask: nested booleans or 0/1 numbers, a flat typed array with its shape, or a bool, uint8, int32 or
 * int64 onnxruntime / transformers.js tensor (a tokenizer's `attention_mask`), in the emissions' layout.
 * Any pattern is accepted (gaps, a masked first step); any other value throws.
 */
export type MaskInput =
  | ArrayLike<ArrayLike<number | boolean>>
  | TensorLike
  | {
      /** Row-major 0/1 (or booleans), `d0 · d1` of them (int64 ones as a BigInt64Array). */
      data: Uint8Array | BigInt64Array | BigUint64Array | ArrayLike<number | boolean>;
      /** `[d0, d1]`, the emissions' first two dimensions. */
      shape: readonly number[];
    };

/**
 * An input tensor whose shape is known and checked, and whose values have not been read yet. Every
 * value is read exactly once (by `typed` in bulk or by `each`): a getter or a Proxy cannot hand one
 * value to the checks and another to the kernels.
 */
interface Source {
  shape: number[];
  /** Number of values: the product of `shape`, at most MAX_VALUES. */
  n: number;
  /** A genuine typed array of exactly n values (read through its internal slots), or null. */
  typed: (ArrayBufferView & ArrayLike<number | bigint>) | null;
  /** Calls `put` once per value in row-major order (also for `typed`). */
  each: (put: (v: unknown, i: number) => void) => void;
}

/** `{ data, shape }` with both as own properties (inherited ones, as from a polluted Object.prototype, do not count). */
export function isShaped(x: unknown): x is { data: unknown; shape: unknown } {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && !ArrayBuffer.isView(x) && Object.hasOwn(x, 'data') && Object.hasOwn(x, 'shape');
}

/** An object with a numeric length: what every reader here walks (arrays, typed arrays, array-likes). */
export function isArrayLike(v: unknown): v is ArrayLike<unknown> {
  return v !== null && typeof v === 'object' && typeof (v as ArrayLike<unknown>).length === 'number';
}

function lengthOf(v: ArrayLike<unknown>): number {
  return typedArrayKind(v) ? typedLength(v as unknown as ArrayBufferView) : v.length;
}

function count(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** The layout a reader knows its argument to be in (its `batchFirst`); advice about batches needs it. */
type Layout = boolean | undefined;

/**
 * A tensor of another library, recognised by duck typing (nothing is imported): TensorFlow.js keeps
 * `shape` and `dtype` and hands its values out through methods (`data()`, `dataSync()`); onnxruntime-web
 * keeps `dims`, `type` and `data`, and transformers.js wraps one of those (`ort_tensor`). Asked only
 * about what a reader refused, and never matching a `{ data, shape }` that reads (one with more fields).
 */
function foreignTensor(x: unknown): { name: string; dims: unknown; type: string; data: string; shape: string; ort: boolean } | null {
  if (x === null || (typeof x !== 'object' && typeof x !== 'function')) return null;
  const t = x as Record<string, unknown>;
  if (typeof t.dtype === 'string' && isArrayLike(t.shape) && ('dataId' in t || typeof t.dataSync === 'function') && !isArrayLike(t.data)) {
    return { name: 'a tf.Tensor', dims: t.shape, type: t.dtype, data: 'await t.data()', shape: 't.shape', ort: false };
  }
  if (typeof t.type === 'string' && isArrayLike(t.dims) && 'data' in t && !('shape' in t)) {
    // Values on a GPU come through getData().
    const onCpu = t.location === undefined || t.location === 'cpu';
    const values = onCpu ? 't.data' : '(await t.getData())';
    const data = t.type === 'int64' || t.type === 'uint64' ? `Int32Array.from(${values}, Number)` : values;
    return { name: 'ort_tensor' in t ? 'a transformers.js Tensor' : 'an onnxruntime Tensor', dims: t.dims, type: t.type, data, shape: 't.dims', ort: true };
  }
  return null;
}

/**
 * What to pass instead of another library's tensor (given as the error's "got"), or ''; under the
 * option name `option` where the tensor was handed over in place of an options object (an onnxruntime
 * or transformers.js tensor then goes there as it is).
 */
export function foreignAdvice(x: unknown, rank: number, layout: Layout, option?: string): string {
  const t = foreignTensor(x);
  if (!t) return '';
  const dims = t.dims as ArrayLike<unknown>;
  const n = lengthOf(dims);
  const what = `${t.name} (type ${t.type.slice(0, 20)}, dims ${shapeStr(dims)})`;
  if (t.ort && option) {
    const takes: readonly string[] | undefined = (TENSOR_TYPES as Record<string, readonly string[]>)[option];
    return takes?.includes(t.type) ? `${what}: pass it by name, { ${option}: t }` : what;
  }
  // One sequence of a batch-first argument lacks its leading batch dimension; time-major, the second.
  const shape = n !== rank - 1 || layout === undefined ? t.shape : layout ? `[1, ...${t.shape}]` : `[${t.shape}[0], 1, ...${t.shape}.slice(1)]`;
  const half = t.type === 'float16' ? ' (float16 values converted to float32 first)' : '';
  const rewrite = `{ data: ${t.data}, shape: ${shape} }`;
  const tfjs = t.ort ? '' : ", or use the CRF of 'webcrf/tfjs', which takes tf tensors";
  return `${what}: pass ${option ? `{ ${option}: ${rewrite} }` : rewrite}${half}${tfjs}`;
}

/** Advice for a value that is still to come: a Promise not awaited, or a method not called. */
export function pendingAdvice(v: unknown): string {
  if (typeof v === 'function') return ' (a method not called? call it and pass what it returns, e.g. { data: await t.data(), shape: t.shape } for a tf.Tensor)';
  if (v !== null && typeof v === 'object' && typeof (v as { then?: unknown }).then === 'function') return ' (a Promise: await it and pass what it resolves to)';
  return '';
}

/** Advice for nested arrays of too low a rank: one sequence without its batch, or flat values without a shape. */
function rankAdvice(arg: string, rank: number, got: number, layout: Layout): string {
  if (layout === undefined) return '';
  const dims = layout ? '[batch, seq, tags]' : '[seq, batch, tags]';
  if (got === rank - 1) {
    return layout ? `; one sequence? pass a batch of one: [${arg}]` : `; one sequence? with batchFirst: false a batch of one is ${arg}.map((step) => [step])`;
  }
  if (got === 1 && rank === 3) return `; flat values? pass { data, shape: ${dims} }`;
  return '';
}

/** Advice for a `{data, shape}` one dimension short: the shape of one sequence as a batch of one. */
function oneSequenceShape(shape: ArrayLike<unknown>, rank: number, layout: Layout, data = 'data'): string {
  if (layout === undefined || lengthOf(shape) !== rank - 1) return '';
  const dims = Array.from({ length: rank - 1 }, (_, i) => shape[i]);
  const one = layout ? [1, ...dims] : [dims[0], 1, ...dims.slice(1)];
  return `; one sequence? pass { data${data === 'data' ? '' : `: ${data}`}, shape: ${shapeStr(one)} }`;
}

/**
 * Reads the shape of nested arrays, `{data, shape}` or (where `types` names the element types the
 * argument takes) an onnxruntime / transformers.js tensor of the given rank, lets `check` reject it,
 * and bounds the values to read by MAX_VALUES, all before a single value is read: the work of a call
 * is bounded by the data given, never by a claimed dimension.
 */
function source(
  x: unknown,
  rank: number,
  arg: string,
  allowEmptyOuter: boolean,
  check: (shape: number[], shaped: boolean) => void,
  layout?: Layout,
  types?: readonly string[],
): Source {
  const src = reading(arg, () => {
    try {
      return sourceOf(x, rank, arg, allowEmptyOuter, check, layout, types);
    } catch (e) {
      // Another library's tensor is refused by whichever check meets it first; what to pass instead
      // says more. Looked for only here, so that an input that reads costs nothing more. A tensor this
      // argument takes was refused by its own reader, which says why.
      const advice = e instanceof CRFInputError && !(types && isTensorLike(x)) ? foreignAdvice(x, rank, layout) : '';
      throw advice ? new CRFInputError(arg, `a rank-${rank} nested array or {data, shape}`, advice) : e;
    }
  });
  // The source is this call's own: its `each` is wrapped in place rather than copied into a new object.
  const each = src.each;
  src.each = (put) => reading(arg, () => each(put));
  return src;
}

/** The source of `{ data, shape }`, which is also how a tensor of another library reads. */
function shapedSource(data: unknown, rawShape: unknown, rank: number, arg: string, check: (shape: number[], shaped: boolean) => void, layout?: Layout): Source {
  if (!isArrayLike(rawShape)) throw new CRFInputError(arg, 'shape to be an array of dimensions', describe(rawShape));
  const len = lengthOf(rawShape);
  if (len !== rank) throw new CRFInputError(arg, `a shape of rank ${rank}`, `shape ${shapeStr(rawShape)}${oneSequenceShape(rawShape, rank, layout)}`);
  const shape: number[] = [];
  for (let d = 0; d < rank; d++) {
    const s = rawShape[d];
    if (typeof s !== 'number' || !Number.isSafeInteger(s) || s < 0) {
      throw new CRFInputError(arg, 'non-negative integer dimensions below 2^53', `shape ${shapeStr([...shape, s])}`);
    }
    shape.push(s);
  }
  check(shape, true);
  const n = count(shape);
  if (n > MAX_VALUES) throw new CRFInputError(arg, `at most ${MAX_VALUES} values (2^28) per call; split the batch`, `shape ${shapeStr(shape)}`);
  const kind = typedArrayKind(data);
  if (kind) {
    const typed = data as ArrayBufferView & ArrayLike<number | bigint>;
    const got = typedLength(typed);
    if (got !== n) throw new CRFInputError(arg, `data of length ${n} for shape ${shapeStr(shape)}`, `length ${got}`);
    return {
      shape,
      n,
      typed,
      each: (put) => {
        for (let i = 0; i < n; i++) put(typed[i], i);
      },
    };
  }
  if (!isArrayLike(data)) throw new CRFInputError(arg, 'data to be an array or typed array', `${describe(data)}${pendingAdvice(data)}`);
  const got = data.length;
  if (got !== n) throw new CRFInputError(arg, `data of length ${n} for shape ${shapeStr(shape)}`, `length ${describe(got)}`);
  return {
    shape,
    n,
    typed: null,
    each: (put) => {
      for (let i = 0; i < n; i++) put(data[i], i);
    },
  };
}

/**
 * A source whose values are a BigInt64Array's or BigUint64Array's, read as numbers one by one (int64
 * tags, a tokenizer's attention_mask): exact up to 2^53, and beyond it still too large for a tag or a
 * mask bit, so that no value wraps around into a valid one. Any other source as it is.
 */
function int64AsNumbers(src: Source): Source {
  const kind = src.typed ? typedArrayKind(src.typed) : null;
  if (kind !== 'BigInt64Array' && kind !== 'BigUint64Array') return src;
  const big = src.typed as BigInt64Array | BigUint64Array;
  return {
    ...src,
    typed: null,
    each: (put) => {
      for (let i = 0; i < src.n; i++) put(Number(big[i]), i);
    },
  };
}

function sourceOf(
  x: unknown,
  rank: number,
  arg: string,
  allowEmptyOuter: boolean,
  check: (shape: number[], shaped: boolean) => void,
  layout?: Layout,
  types?: readonly string[],
): Source {
  if (types && isTensorLike(x)) {
    const t = readTensor(x as object, rank, arg, types, (dims) => oneSequenceShape(dims, rank, layout, 't.data'));
    return int64AsNumbers(shapedSource(t.data, t.shape, rank, arg, check, layout));
  }
  if (isShaped(x)) {
    const src = shapedSource(x.data, x.shape, rank, arg, check, layout);
    // int64 where a tensor's int64 is taken (tags and masks), as a tensor's: a PyTorch export's labels.
    return types?.includes('int64') ? int64AsNumbers(src) : src;
  }
  if (!isArrayLike(x)) throw new CRFInputError(arg, `a rank-${rank} nested array or {data, shape}`, `${describe(x)}${pendingAdvice(x)}`);
  const shape: number[] = [];
  let probe: unknown = x;
  for (let d = 0; d < rank; d++) {
    if (!isArrayLike(probe)) throw new CRFInputError(arg, `a rank-${rank} nested array`, `rank ${d}${rankAdvice(arg, rank, d, layout)}`);
    const len = lengthOf(probe);
    shape.push(len);
    if (len === 0) {
      if (d === 0 && allowEmptyOuter) {
        while (shape.length < rank) shape.push(0);
        check(shape, false);
        return { shape, n: 0, typed: null, each: () => {} };
      }
      throw new CRFInputError(arg, `non-empty dimension ${d}`, `an empty array (shape so far ${shapeStr(shape)})`);
    }
    // Not the innermost: its first element is a value, read once by the walk.
    if (d < rank - 1) probe = probe[0];
  }
  check(shape, false);
  const n = count(shape);
  if (n > MAX_VALUES) throw new CRFInputError(arg, `at most ${MAX_VALUES} values (2^28) per call; split the batch`, `shape ${shapeStr(shape)}`);
  return {
    shape,
    n,
    typed: null,
    each(put) {
      let i = 0;
      // The indices down to the row being read; an error's path is spelled from them only when thrown.
      const idx: number[] = [];
      const at = (last?: number) => [...idx, ...(last === undefined ? [] : [last])].map((k) => `[${k}]`).join('');
      const walk = (v: unknown, d: number) => {
        if (!isArrayLike(v)) throw new CRFInputError(arg, `an array of length ${shape[d]} at ${at()}`, describe(v));
        const len = lengthOf(v);
        if (len !== shape[d]) throw new CRFInputError(arg, `a rectangular array: length ${shape[d]} at ${at()}`, `length ${len} (ragged)`);
        if (d === rank - 1) {
          for (let k = 0; k < len; k++) {
            const e = v[k];
            if (e !== null && typeof e === 'object') throw new CRFInputError(arg, `rank ${rank}`, `a deeper array at ${at(k)}`);
            put(e, i++);
          }
          return;
        }
        for (let k = 0; k < len; k++) {
          idx.push(k);
          walk(v[k], d + 1);
          idx.pop();
        }
      };
      walk(x, 0);
    },
  };
}

/**
 * Finite numbers of a tensor of the given rank (nested arrays or `{data, shape}`); `check` sees the shape
 * before any value is read, and `bounded` also holds them within MAX_MAGNITUDE. A genuine typed array
 * is checked and returned as it is, to be read in place: nothing can change it between the check and
 * the reads, except another thread when its buffer is shared, so that one is copied first. Anything
 * else is read once, value by value, into a Float64Array of the size the shape claims (at most
 * MAX_VALUES, checked before it is allocated).
 */
export function readFinite(
  x: unknown,
  rank: number,
  arg: string,
  check: (shape: number[]) => void = () => {},
  bounded = false,
  types?: readonly string[],
): { shape: number[]; data: ArrayLike<number> } {
  const src = source(x, rank, arg, true, (shape) => check(shape), undefined, types);
  const limit = bounded ? MAX_MAGNITUDE : Number.MAX_VALUE;
  const bad = (v: unknown, i: number) =>
    bounded ? rangeError(arg, v, indexPath(i, src.shape)) : new CRFInputError(arg, `a finite number at ${indexPath(i, src.shape)}`, describe(v));
  if (src.typed) {
    const kind = typedArrayKind(src.typed);
    if (kind === 'BigInt64Array' || kind === 'BigUint64Array') throw new CRFInputError(arg, 'numbers (not BigInt values)', `a ${kind}`);
    let data = src.typed as ArrayLike<number>;
    if (spanOf(data)?.shared) {
      const copy = new Float64Array(src.n);
      copy.set(data);
      data = copy;
    }
    for (let i = 0; i < src.n; i++) {
      const v = data[i];
      if (!(v <= limit && v >= -limit)) throw bad(v, i);
    }
    return { shape: src.shape, data };
  }
  const data = new Float64Array(src.n);
  src.each((v, i) => {
    if (typeof v !== 'number' || !(v <= limit && v >= -limit)) throw bad(v, i);
    data[i] = v;
  });
  return { shape: src.shape, data };
}

/** Reads a tensor's values once (see {@link readFinite}); each passes through `put`. */
export function readEach(
  x: unknown,
  rank: number,
  arg: string,
  check: (shape: number[]) => void,
  put: (v: unknown, i: number, shape: number[]) => void,
  types?: readonly string[],
): number[] {
  const src = source(x, rank, arg, true, (shape) => check(shape), undefined, types);
  src.each((v, i) => put(v, i, src.shape));
  return src.shape;
}

/** The rank a nested array or `{data, shape}` claims (from its shape, or the depth of its first elements). */
export function claimedRank(x: unknown, most: number): number {
  if (isShaped(x)) return isArrayLike(x.shape) ? lengthOf(x.shape) : -1;
  if (isTensorLike(x)) {
    const dims = (x as TensorLike).dims;
    return isArrayLike(dims) ? lengthOf(dims) : -1;
  }
  let d = 0;
  let probe: unknown = x;
  while (d < most && isArrayLike(probe)) {
    d++;
    probe = lengthOf(probe) > 0 ? probe[0] : undefined;
  }
  return d;
}

/** Dense emissions, always batch-first `[B, T, K]`, in an array the CRF owns. */
export interface DenseEmissions {
  B: number;
  T: number;
  K: number;
  data: Float32Array | Float64Array;
  /** `data` itself was range-checked on the backend's kernels (RangeCheck), not a copy before it. */
  checked?: boolean;
  /**
   * `data` is the caller's own array, neither copied nor checked: the backend copies each part of the
   * call where its kernels run and checks it there (Packed.unchecked). Nothing else may read it: a call
   * that needs it for more than its one backend step, or that fails before that step, claims it first
   * (claimEmissions), which also gives the error one thread gives when the emissions hold a bad value.
   */
  borrowed?: boolean;
}

/** Where the backend computes: the emissions (and parameters) are rounded to it before anything reads them. */
export type Precision = 'float32' | 'float64';

/** `[d0, d1, ·]` batch-first (b, t) of the flat row index r of an input in the given layout. */
function rowOf(r: number, B: number, T: number, batchFirst: boolean): number {
  return batchFirst ? r : (r % B) * T + Math.floor(r / B);
}

/**
 * Where a backend checks float32 values' range on its own kernels (Backend.firstOutOfRange): the index
 * of the first value beyond ±MAX_MAGNITUDE (NaN and ±Infinity included), −1, or undefined where it
 * cannot now (the check then runs here).
 */
export type RangeCheck = (data: Float32Array) => number | undefined;

/**
 * A call's emissions, shape checked, copied into `arrays` and every value checked (on the backend's
 * kernels where `check` can), in the backend's `precision`, batch-first. A batch-first Float32Array
 * for a float32 backend is instead left where it is, unread, where `borrow(B)` says so (the backend
 * copies and checks it where its kernels read it): see DenseEmissions.borrowed.
 */
export function readEmissions(
  x: EmissionsInput,
  K: number,
  batchFirst: boolean,
  precision: Precision,
  arrays: Arrays = FRESH,
  check?: RangeCheck,
  borrow?: (B: number) => boolean,
): DenseEmissions {
  const layout = batchFirst ? '[batch, seq, tags]' : '[seq, batch, tags]';
  let B = 0,
    T = 0;
  const src = source(
    x,
    3,
    'emissions',
    batchFirst,
    (shape, shaped) => {
      const [d0, d1, k] = shape;
      B = batchFirst ? d0 : d1;
      T = batchFirst ? d1 : d0;
      if (T === 0 && B > 0) throw new CRFInputError('emissions', `at least one timestep (${layout})`, `shape ${shapeStr(shape)}`);
      if (k !== K && !(B === 0 && !shaped)) {
        throw new CRFInputError('emissions', `last dimension ${K} (numTags) in ${layout}`, `shape ${shapeStr(shape)}`);
      }
    },
    batchFirst,
    TENSOR_TYPES.emissions,
  );
  const n = B * T * K;
  let data: Float32Array | Float64Array;
  let checked = false;
  const kind = src.typed ? typedArrayKind(src.typed) : null;
  if (kind === 'BigInt64Array' || kind === 'BigUint64Array') {
    throw new CRFInputError('emissions', 'numbers (not BigInt values)', `a ${kind}`);
  }
  // Left in the caller's memory (DenseEmissions.borrowed), through a plain view of it: a subclass's
  // methods (its species, in subarray and slice) never run on it. Not shared memory: another thread
  // could change it between a range's copy and another's.
  const plain = kind === 'Float32Array' && batchFirst && precision === 'float32' && borrow?.(B) === true ? plainFloat32(src.typed as Float32Array) : null;
  if (plain) return { B, T, K, data: plain, borrowed: true };
  if (src.typed) {
    // One bulk copy (a memcpy for Float32Array), checked afterwards: the copy is what gets computed on.
    // A batch-first Float32Array copies straight into the call's reusable array (see call-arrays.ts).
    data = kind !== 'Float32Array' ? new Float64Array(n) : batchFirst ? arrays.emissions32(n) : new Float32Array(n);
    checked = copyChecked(src.typed as ArrayLike<number>, data, src.shape, arrays, check);
    if (!batchFirst) {
      checked = false;
      const t = data instanceof Float32Array ? arrays.emissions32(n) : precision === 'float64' ? arrays.emissions64(n) : new Float64Array(n);
      for (let r = 0; r < B * T; r++) t.set(data.subarray(r * K, (r + 1) * K), rowOf(r, B, T, false) * K);
      data = t;
    }
  } else {
    // Values are gathered as they are read, so memory follows the data given (a claimed length of
    // 2^28 with nothing behind it fails at its first value, not after a 2 GiB allocation).
    const read: number[] = [];
    src.each((v, i) => {
      if (typeof v !== 'number' || !(v <= MAX_MAGNITUDE && v >= -MAX_MAGNITUDE)) throw rangeError('emissions', v, indexPath(i, src.shape));
      read.push(v);
    });
    data = precision === 'float64' ? arrays.emissions64(n) : new Float64Array(n);
    if (batchFirst) data.set(read);
    else for (let r = 0; r < B * T; r++) for (let j = 0; j < K; j++) data[rowOf(r, B, T, false) * K + j] = read[r * K + j];
  }
  if (precision === 'float32' && data instanceof Float64Array) {
    const f = arrays.emissions32(n);
    f.set(data);
    data = f;
    checked = false;
  }
  return { B, T, K, data, checked };
}

/** `src` copied into `data` and checked there; refused at its first bad value, by its index in `shape`. Whether the kernels checked it (in place: DenseEmissions.checked). */
function copyChecked(src: ArrayLike<number>, data: Float32Array | Float64Array, shape: readonly number[], arrays: Arrays, check?: RangeCheck): boolean {
  data.set(src);
  const onKernels = data instanceof Float32Array ? check?.(data) : undefined;
  const bad = onKernels ?? firstOutOfRange(data, arrays.words);
  if (bad >= 0) throw rangeError('emissions', data[bad], indexPath(bad, shape));
  return onKernels !== undefined;
}

/**
 * Borrowed emissions (DenseEmissions.borrowed) made the call's own, as readEmissions would have read
 * them: copied into `arrays` and checked, refused at the first bad value with the same error.
 */
export function claimEmissions(em: DenseEmissions, arrays: Arrays, check?: RangeCheck): DenseEmissions {
  const { B, T, K } = em;
  const data = arrays.emissions32(B * T * K);
  const checked = copyChecked(em.data, data, [B, T, K], arrays, check);
  return { B, T, K, data, checked };
}

function checkDims(arg: string, shape: number[], B: number, T: number, batchFirst: boolean) {
  if (B === 0 && shape[0] === 0) return;
  const want = batchFirst ? [B, T] : [T, B];
  if (shape[0] !== want[0] || shape[1] !== want[1]) {
    throw new CRFInputError(arg, `shape ${shapeStr(want)} to match emissions`, `shape ${shapeStr(shape)}`);
  }
}

/** A batch-first `[B, T]` mask of 0/1; all ones when absent. */
export function readMask(x: MaskInput | undefined | null, B: number, T: number, batchFirst: boolean, arrays: Arrays = FRESH): Uint8Array {
  const out = arrays.mask(B * T);
  if (x === undefined || x === null) return out.fill(1);
  const src = source(x, 2, 'mask', true, (shape) => checkDims('mask', shape, B, T, batchFirst), batchFirst, TENSOR_TYPES.mask);
  if (src.typed && batchFirst && typedArrayKind(src.typed) === 'Uint8Array') {
    out.set(src.typed as Uint8Array);
    for (let i = 0; i < out.length; i++) {
      if (out[i] > 1) throw new CRFInputError('mask', `0, 1, true or false at ${indexPath(i, src.shape)}`, describe(out[i]));
    }
    return out;
  }
  src.each((v, i) => {
    let bit: number;
    if (v === true || v === 1) bit = 1;
    else if (v === false || v === 0) bit = 0;
    else throw new CRFInputError('mask', `0, 1, true or false at ${indexPath(i, src.shape)}`, describe(v));
    out[rowOf(i, B, T, batchFirst)] = bit;
  });
  return out;
}

/** The refusal of the tag at flat index i, described as `given`. */
function tagError(K: number, i: number, shape: readonly number[], given: string): CRFInputError {
  return new CRFInputError('tags', `an integer in [0, ${K - 1}] where the mask is on, at ${indexPath(i, shape)}`, given);
}

/**
 * Whether every value is in [0, K): four at a time with no branch (an int32 and K − 1 − it are both
 * ≥ 0 exactly when their OR is), as the emissions' range check reads its values.
 */
function inRange(a: Int32Array, K: number): boolean {
  const n = a.length,
    n4 = n & ~3,
    top = K - 1;
  let bits = 0;
  for (let i = 0; i < n4; i += 4) {
    const v0 = a[i],
      v1 = a[i + 1],
      v2 = a[i + 2],
      v3 = a[i + 3];
    bits |= v0 | v1 | v2 | v3 | (top - v0) | (top - v1) | (top - v2) | (top - v3);
  }
  for (let i = n4; i < n; i++) bits |= a[i] | (top - a[i]);
  return bits >= 0;
}

/** A label for an error, with what to do about the two kinds a tensor library hands over by mistake. */
function describeLabel(v: unknown): string {
  if (typeof v === 'bigint') return `${describe(v)} (BigInt labels are taken in a BigInt64Array, as { data, shape }; in arrays, numbers)`;
  if (typeof v === 'boolean') return `${v} (a mask? it goes after the tags, by name: forward(emissions, tags, { mask }))`;
  return describe(v);
}

/** Batch-first `[B, T]` tags; positions that are off read as 0 whatever they held. `mask` null: every position is on. */
export function readTags(x: TagsInput, mask: Uint8Array | null, B: number, T: number, K: number, batchFirst: boolean, arrays: Arrays = FRESH): Int32Array {
  const src = source(x, 2, 'tags', true, (shape) => checkDims('tags', shape, B, T, batchFirst), batchFirst, TENSOR_TYPES.tags);
  const out = arrays.tags(B * T);
  if (src.typed && batchFirst && typedArrayKind(src.typed) === 'Int32Array') {
    // One bulk copy; integers need only the range check, and only where the mask is on.
    out.set(src.typed as Int32Array);
    const bad = (i: number) => tagError(K, i, src.shape, describe(out[i]));
    if (!mask) {
      if (!inRange(out, K)) throw bad(out.findIndex((v) => v < 0 || v >= K));
      return out;
    }
    for (let i = 0; i < out.length; i++) {
      if (!mask[i]) out[i] = 0;
      else if (out[i] < 0 || out[i] >= K) throw bad(i);
    }
    return out;
  }
  out.fill(0);
  src.each((v, i) => {
    const at = rowOf(i, B, T, batchFirst);
    if (mask && !mask[at]) return;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= K) {
      throw tagError(K, i, src.shape, describeLabel(v));
    }
    out[at] = v;
  });
  return out;
}

/**
 * A partial annotation: per position, the tags it permits, as nested `[d0][d1][K]` booleans or 0/1, a
 * flat `Uint8Array` with its shape, or a bool / uint8 onnxruntime or transformers.js tensor, in the
 * emissions' layout. See {@link allowedFromTags}.
 */
export type AllowedInput =
  | ArrayLike<ArrayLike<ArrayLike<boolean | number>>>
  | TensorLike
  | {
      /** Row-major 0/1 (or booleans), `d0 · d1 · K` of them. */
      data: Uint8Array | ArrayLike<boolean | number>;
      /** `[d0, d1, K]`, the emissions' shape. */
      shape: readonly number[];
    };

/** Batch-first `[B, T, K]` 0/1 of what `allowed` permits; positions the mask turns off permit every tag. */
export function readAllowed(x: AllowedInput, mask: Uint8Array, B: number, T: number, K: number, batchFirst: boolean): Uint8Array {
  const src = source(
    x,
    3,
    'allowed',
    true,
    (shape) => {
      if (B === 0 && shape[0] === 0) return;
      const want = batchFirst ? [B, T, K] : [T, B, K];
      if (shape[0] !== want[0] || shape[1] !== want[1] || shape[2] !== want[2]) {
        throw new CRFInputError('allowed', `shape ${shapeStr(want)} to match emissions`, `shape ${shapeStr(shape)}`);
      }
    },
    batchFirst,
    TENSOR_TYPES.allowed,
  );
  const out = new Uint8Array(B * T * K).fill(1);
  src.each((v, i) => {
    const at = rowOf(Math.floor(i / K), B, T, batchFirst);
    if (!mask[at]) return;
    let bit: number;
    if (v === true || v === 1) bit = 1;
    else if (v === false || v === 0) bit = 0;
    else throw new CRFInputError('allowed', `true, false, 0 or 1 at ${indexPath(i, src.shape)}`, describe(v));
    out[at * K + (i % K)] = bit;
  });
  return out;
}

/**
 * Builds a partial annotation (`allowed`) from labels where some positions are unknown or allow a set
 * of tags: each label is a tag id (that tag only), the `unknown` marker or `null` (any tag), or an array
 * of tag ids (any of them). Positions past a sequence's end can hold anything the mask turns off.
 * @param labels `[d0][d1]` labels in the emissions' layout (nested arrays).
 * @param numTags K, an integer in [1, 4096] (as for `CRF.create`).
 * @param options `unknown`: the label that means "any tag" (default -1), an integer outside [0, K).
 * @returns `boolean[][][]`, `[d0][d1][K]`, for `forward(emissions, { allowed })`, `decode(…, { allowed })`.
 *   Its size is bounded: d0·d1·(K + 8) + 8·d0 ≤ 2^24 array slots (about 130 MB of nested arrays); pass
 *   larger annotations as `{ data: Uint8Array, shape }`.
 * @throws {@link CRFInputError} for a `numTags` outside [1, 4096], labels that are not a rectangular
 *   rank-2 array or whose result would exceed the bound (checked before anything is built), a tag
 *   outside [0, K), an empty tag set, or a bad option.
 */
export function allowedFromTags(
  labels: ArrayLike<ArrayLike<number | readonly number[] | null>>,
  numTags: number,
  options: { unknown?: number | undefined } = {},
): boolean[][][] {
  if (typeof numTags !== 'number' || !Number.isInteger(numTags) || numTags < 1 || numTags > MAX_TAGS) {
    throw new CRFInputError('numTags', `an integer in [1, ${MAX_TAGS}]`, describe(numTags));
  }
  const unknown = readOptions(options, 'options', ['unknown']).unknown ?? -1;
  // A tag id as the marker would make that tag impossible to state; NaN would match nothing.
  if (typeof unknown !== 'number' || !Number.isInteger(unknown) || (unknown >= 0 && unknown < numTags)) {
    throw new CRFInputError('unknown', `an integer outside [0, ${numTags - 1}] (the tag ids)`, describe(unknown));
  }
  const rows = reading('labels', () => {
    if (!isArrayLike(labels)) throw new CRFInputError('labels', 'a rank-2 nested array of labels', describe(labels));
    const d0 = labels.length;
    if (!Number.isSafeInteger(d0) || d0 < 0) throw new CRFInputError('labels', 'an array', `one of length ${describe(d0)}`);
    const first = d0 > 0 ? labels[0] : [];
    if (!isArrayLike(first)) throw new CRFInputError('labels', 'an array at [0]', describe(first));
    const width = first.length;
    if (!Number.isSafeInteger(width) || width < 0) throw new CRFInputError('labels', 'an array at [0]', `one of length ${describe(width)}`);
    // The result's size from the claimed shape, before a row is read or an array built; later rows must match it.
    if (d0 * (width * (numTags + 8) + 8) > MAX_ANNOTATION_SLOTS) {
      throw new CRFInputError(
        'labels',
        'a result of at most 2^24 array slots, d0·d1·(K + 8) + 8·d0 (about 130 MB of nested arrays; pass larger annotations as { data: Uint8Array, shape })',
        `shape ${shapeStr([d0, width])} with numTags ${numTags}`,
      );
    }
    const out: boolean[][][] = [];
    for (let a = 0; a < d0; a++) {
      const row = a === 0 ? first : labels[a];
      if (!isArrayLike(row)) throw new CRFInputError('labels', `an array at [${a}]`, describe(row));
      if (row.length !== width) throw new CRFInputError('labels', `a rectangular array: length ${width} at [${a}]`, `length ${describe(row.length)} (ragged)`);
      const r: boolean[][] = [];
      for (let b = 0; b < width; b++) {
        const v = row[b];
        const at = `[${a}][${b}]`;
        if (v === null || v === unknown) {
          r.push(new Array<boolean>(numTags).fill(true));
        } else if (typeof v === 'number') {
          if (!Number.isInteger(v) || v < 0 || v >= numTags)
            throw new CRFInputError('labels', `a tag in [0, ${numTags - 1}], ${unknown} (unknown), null or a set of tags at ${at}`, describe(v));
          const one = new Array<boolean>(numTags).fill(false);
          one[v] = true;
          r.push(one);
        } else if (isArrayLike(v)) {
          const n = v.length;
          if (n === 0) throw new CRFInputError('labels', `a non-empty set of tags at ${at}`, 'an empty array');
          if (!Number.isSafeInteger(n) || n > numTags) throw new CRFInputError('labels', `a set of at most ${numTags} tags at ${at}`, `length ${describe(n)}`);
          const set = new Array<boolean>(numTags).fill(false);
          for (let k = 0; k < n; k++) {
            const y = v[k];
            if (typeof y !== 'number' || !Number.isInteger(y) || y < 0 || y >= numTags)
              throw new CRFInputError('labels', `tags in [0, ${numTags - 1}] in the set at ${at}`, describe(y));
            set[y] = true;
          }
          r.push(set);
        } else {
          throw new CRFInputError('labels', `a tag, ${unknown} (unknown), null or a set of tags at ${at}`, describe(v));
        }
      }
      out.push(r);
    }
    return out;
  });
  return rows;
}

/**
 * Builds a mask from padded labels. By default every negative label is padding: -1 and -100 (PyTorch's
 * and Hugging Face's ignore index) alike. With `padValue`, exactly that label is padding and every other
 * one is on: pass it when a negative label means something else, such as the -1 ("unknown") of a
 * partial annotation for {@link allowedFromTags}.
 * @param tags `[d0][d1]` integer labels (nested arrays, or `{ data, shape }`; rows of equal length).
 * @param padValue the one padding label; when absent, every negative label.
 * @returns `boolean[][]` of the same shape: true where the label is not padding.
 * @throws {@link CRFInputError} for tags that are not a rectangular rank-2 array of integers, or a
 *   `padValue` that is not an integer.
 */
export function maskFromTags(tags: TagsInput, padValue?: number): boolean[][] {
  if (padValue !== undefined && (typeof padValue !== 'number' || !Number.isSafeInteger(padValue))) {
    throw new CRFInputError('padValue', 'an integer (the padding label), or nothing for every negative label', describe(padValue));
  }
  const src = source(
    tags,
    2,
    'tags',
    true,
    (shape) => {
      if (shape[1] === 0 && shape[0] > 0) throw new CRFInputError('tags', 'rows of at least one label', `shape ${shapeStr(shape)}`);
    },
    undefined,
    TENSOR_TYPES.tags,
  );
  const [d0, d1] = src.shape;
  const out: boolean[][] = Array.from({ length: d0 }, () => new Array<boolean>(d1));
  src.each((v, i) => {
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      const given = typeof v === 'boolean' ? `${v} (a mask already?)` : describeLabel(v);
      throw new CRFInputError('tags', `an integer label (negative or padValue for padding) at ${indexPath(i, src.shape)}`, given);
    }
    out[Math.floor(i / d1)][i % d1] = padValue === undefined ? v >= 0 : v !== padValue;
  });
  return out;
}
