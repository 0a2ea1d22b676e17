import { CRFInputError, describe, shapeStr } from './errors.js';

/**
 * Emission scores: nested `[d0][d1][K]` arrays or a flat typed array with its shape. `[d0, d1]` is
 * `[batch, seq]` when `batchFirst` (the default), `[seq, batch]` otherwise. Every value must be finite.
 */
export type EmissionsInput =
  | ArrayLike<ArrayLike<ArrayLike<number>>>
  | {
    /** Row-major values, `d0 · d1 · K` of them (a `Float32Array` is read without a copy). */
    data: Float32Array | Float64Array | ArrayLike<number>;
    /** `[d0, d1, K]`. */
    shape: readonly number[];
  };
/**
 * Gold tags: nested `[d0][d1]` integers or a flat typed array with its shape, in the emissions' layout.
 * Where the mask is on, each is an integer in [0, K); where it is off, anything (-1, -100).
 */
export type TagsInput = ArrayLike<ArrayLike<number>> | {
  /** Row-major tag ids, `d0 · d1` of them. */
  data: Int32Array | ArrayLike<number>;
  /** `[d0, d1]`, the emissions' first two dimensions. */
  shape: readonly number[];
};
/**
 * Mask: nested booleans or 0/1 numbers, or a flat typed array with its shape, in the emissions' layout.
 * Any pattern is accepted (gaps, a masked first step); any other value throws.
 */
export type MaskInput =
  | ArrayLike<ArrayLike<number | boolean>>
  | {
    /** Row-major 0/1 (or booleans), `d0 · d1` of them. */
    data: Uint8Array | ArrayLike<number | boolean>;
    /** `[d0, d1]`, the emissions' first two dimensions. */
    shape: readonly number[];
  };

interface Flat<T> {
  shape: number[];
  data: ArrayLike<T>;
}

function isShaped(x: unknown): x is { data: ArrayLike<unknown>; shape: readonly number[] } {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && 'data' in x && 'shape' in x;
}

function indexPath(flat: number, shape: readonly number[]): string {
  const idx: number[] = [];
  for (let d = shape.length - 1; d >= 0; d--) {
    idx.unshift(flat % shape[d]);
    flat = Math.floor(flat / shape[d]);
  }
  return idx.map((i) => `[${i}]`).join('');
}

/** Reads nested arrays or `{data, shape}` of the given rank, rejecting ragged or mis-shaped input. */
function flatten<T>(x: unknown, rank: number, arg: string, allowEmptyOuter: boolean): Flat<T> {
  if (isShaped(x)) {
    const { data, shape } = x;
    if (!Array.isArray(shape) && !ArrayBuffer.isView(shape)) throw new CRFInputError(arg, 'shape to be an array of dimensions', describe(shape));
    if (shape.length !== rank) throw new CRFInputError(arg, `a shape of rank ${rank}`, `shape ${shapeStr(Array.from(shape))}`);
    for (const s of shape) {
      if (!Number.isInteger(s) || s < 0) throw new CRFInputError(arg, 'non-negative integer dimensions', `shape ${shapeStr(Array.from(shape))}`);
    }
    if (data === null || typeof data !== 'object' || typeof (data as ArrayLike<unknown>).length !== 'number') {
      throw new CRFInputError(arg, 'data to be an array or typed array', describe(data));
    }
    const n = shape.reduce((a, b) => a * b, 1);
    if (data.length !== n) throw new CRFInputError(arg, `data of length ${n} for shape ${shapeStr(Array.from(shape))}`, `length ${data.length}`);
    return { shape: Array.from(shape), data: data as ArrayLike<T> };
  }
  if (x === null || typeof x !== 'object' || typeof (x as ArrayLike<unknown>).length !== 'number') {
    throw new CRFInputError(arg, `a rank-${rank} nested array or {data, shape}`, describe(x));
  }
  const shape: number[] = [];
  let probe: unknown = x;
  for (let d = 0; d < rank; d++) {
    if (probe === null || typeof probe !== 'object' || typeof (probe as ArrayLike<unknown>).length !== 'number') {
      throw new CRFInputError(arg, `a rank-${rank} nested array`, `rank ${d}`);
    }
    const len = (probe as ArrayLike<unknown>).length;
    shape.push(len);
    if (len === 0) {
      if (d === 0 && allowEmptyOuter) {
        while (shape.length < rank) shape.push(0);
        return { shape, data: [] };
      }
      throw new CRFInputError(arg, `non-empty dimension ${d}`, `an empty array (shape so far ${shapeStr(shape)})`);
    }
    probe = (probe as ArrayLike<unknown>)[0];
  }
  const out: T[] = [];
  const walk = (v: unknown, d: number, path: string) => {
    if (d === rank) {
      if (v !== null && typeof v === 'object') throw new CRFInputError(arg, `rank ${rank}`, `a deeper array at ${path}`);
      out.push(v as T);
      return;
    }
    if (v === null || typeof v !== 'object' || typeof (v as ArrayLike<unknown>).length !== 'number') {
      throw new CRFInputError(arg, `an array of length ${shape[d]} at ${path}`, describe(v));
    }
    const a = v as ArrayLike<unknown>;
    if (a.length !== shape[d]) throw new CRFInputError(arg, `a rectangular array: length ${shape[d]} at ${path}`, `length ${a.length} (ragged)`);
    for (let i = 0; i < a.length; i++) walk(a[i], d + 1, `${path}[${i}]`);
  };
  walk(x, 0, '');
  return { shape, data: out };
}

/** Dense emissions, always batch-first `[B, T, K]`. */
export interface DenseEmissions {
  B: number;
  T: number;
  K: number;
  data: Float32Array | Float64Array;
  /** True when `data` is the caller's own array (batch-first typed input, read without a copy). */
  borrowed: boolean;
}

/**
 * True when every value is a finite number. For typed arrays a running `v * 0` sum turns NaN at the
 * first NaN or ±Infinity, which costs far less per element than a branch with Number.isFinite.
 */
function allFinite(data: ArrayLike<unknown>, n: number): boolean {
  if (data instanceof Float32Array || data instanceof Float64Array) {
    let s = 0;
    for (let i = 0; i < n; i++) s += data[i] * 0;
    return s === 0;
  }
  for (let i = 0; i < n; i++) {
    const v = data[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) return false;
  }
  return true;
}

export function readEmissions(x: EmissionsInput, K: number, batchFirst: boolean): DenseEmissions {
  const { shape, data } = flatten<number>(x, 3, 'emissions', batchFirst);
  const [d0, d1, k] = shape;
  const B = batchFirst ? d0 : d1;
  const T = batchFirst ? d1 : d0;
  const layout = batchFirst ? '[batch, seq, tags]' : '[seq, batch, tags]';
  if (T === 0 && B > 0) throw new CRFInputError('emissions', `at least one timestep (${layout})`, `shape ${shapeStr(shape)}`);
  if (k !== K && !(B === 0 && !isShaped(x))) {
    throw new CRFInputError('emissions', `last dimension ${K} (numTags) in ${layout}`, `shape ${shapeStr(shape)}`);
  }
  const n = B * T * K;
  const out = data instanceof Float32Array || data instanceof Float64Array ? (batchFirst ? data : new (data.constructor as Float32ArrayConstructor)(n)) : new Float64Array(n);
  if (!allFinite(data, n)) {
    for (let i = 0; i < n; i++) {
      const v = data[i];
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        throw new CRFInputError('emissions', `a finite number at ${indexPath(i, shape)}`, describe(v));
      }
    }
  }
  if (out !== data) {
    if (batchFirst) for (let i = 0; i < n; i++) out[i] = data[i];
    else for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) {
      const src = (t * B + b) * K, dst = (b * T + t) * K;
      for (let j = 0; j < K; j++) out[dst + j] = data[src + j];
    }
  }
  return { B, T, K, data: out, borrowed: out === data };
}

function checkDims(arg: string, shape: number[], B: number, T: number, batchFirst: boolean) {
  const want = batchFirst ? [B, T] : [T, B];
  if (shape[0] !== want[0] || shape[1] !== want[1]) {
    throw new CRFInputError(arg, `shape ${shapeStr(want)} to match emissions`, `shape ${shapeStr(shape)}`);
  }
}

/** A batch-first `[B, T]` mask of 0/1; all ones when absent. */
export function readMask(x: MaskInput | undefined | null, B: number, T: number, batchFirst: boolean): Uint8Array {
  const out = new Uint8Array(B * T);
  if (x === undefined || x === null) return out.fill(1);
  const { shape, data } = flatten<unknown>(x, 2, 'mask', true);
  if (!(B === 0 && shape[0] === 0)) checkDims('mask', shape, B, T, batchFirst);
  for (let i = 0; i < B * T; i++) {
    const v = data[i];
    let bit: number;
    if (v === true || v === 1) bit = 1;
    else if (v === false || v === 0) bit = 0;
    else throw new CRFInputError('mask', `0, 1, true or false at ${indexPath(i, shape)}`, describe(v));
    const b = batchFirst ? Math.floor(i / T) : i % B;
    const t = batchFirst ? i % T : Math.floor(i / B);
    out[b * T + t] = bit;
  }
  return out;
}

/** Batch-first `[B, T]` tags; positions that are off read as 0 whatever they held. */
export function readTags(x: TagsInput, mask: Uint8Array, B: number, T: number, K: number, batchFirst: boolean): Int32Array {
  const { shape, data } = flatten<unknown>(x, 2, 'tags', true);
  if (!(B === 0 && shape[0] === 0)) checkDims('tags', shape, B, T, batchFirst);
  const out = new Int32Array(B * T);
  for (let i = 0; i < B * T; i++) {
    const b = batchFirst ? Math.floor(i / T) : i % B;
    const t = batchFirst ? i % T : Math.floor(i / B);
    if (!mask[b * T + t]) continue;
    const v = data[i];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= K) {
      throw new CRFInputError('tags', `an integer in [0, ${K - 1}] where the mask is on, at ${indexPath(i, shape)}`, describe(v));
    }
    out[b * T + t] = v;
  }
  return out;
}

/**
 * Builds a mask from padded labels: on where the label differs from `padValue`.
 * @param tags `[d0][d1]` labels, padded with `padValue` (nested arrays; rows of equal length).
 * @param padValue the padding label, -1 by default (-100 is PyTorch's ignore index).
 * @returns `boolean[][]` of the same shape.
 * @throws {@link CRFInputError} for tags that are not a rectangular rank-2 array, or a non-number `padValue`.
 */
export function maskFromTags(tags: ArrayLike<ArrayLike<number>>, padValue = -1): boolean[][] {
  const { shape, data } = flatten<unknown>(tags, 2, 'tags', true);
  if (typeof padValue !== 'number') throw new CRFInputError('padValue', 'a number', describe(padValue));
  const out: boolean[][] = [];
  for (let i = 0; i < shape[0]; i++) {
    const row: boolean[] = [];
    for (let j = 0; j < shape[1]; j++) row.push(data[i * shape[1] + j] !== padValue);
    out.push(row);
  }
  return out;
}
