import { CRFInputError, describe, shapeStr } from '../errors.js';
import { typedArrayKind, typedLength } from './typed.js';

/**
 * An onnxruntime-web or onnxruntime-node `Tensor` on the CPU, or a transformers.js `Tensor` (getters
 * over one): recognised by its fields, with nothing imported, since several copies of ORT's classes
 * coexist in one app (transformers.js pins its own) and `instanceof` between them fails.
 */
export interface TensorLike {
  /** The element type: `'float32'` for emissions, `'int64'` or `'int32'` for tags, `'bool'`, `'uint8'`, `'int32'` or `'int64'` for masks. */
  readonly type: string;
  /** The shape, `[d0, d1, K]` or `[d0, d1]`, in the CRF's layout. */
  readonly dims: readonly number[];
  /** The values, row-major; read once, on the CPU. */
  readonly data: unknown;
  /** Where the values live: `'cpu'` (or absent, as in ORT before 1.16). */
  readonly location?: string;
}

/** The typed array each accepted element type arrives in (ORT's `data`). */
const ARRAY_OF: Readonly<Record<string, string>> = {
  float32: 'Float32Array',
  int32: 'Int32Array',
  int64: 'BigInt64Array',
  uint8: 'Uint8Array',
  bool: 'Uint8Array',
};

/** The element types each kind of argument takes, as an ORT or transformers.js tensor. */
export const TENSOR_TYPES = {
  emissions: ['float32'],
  tags: ['int64', 'int32'],
  mask: ['bool', 'uint8', 'int32', 'int64'],
  allowed: ['bool', 'uint8'],
} as const satisfies Record<string, readonly (keyof typeof ARRAY_OF)[]>;

/** ORT's locations whose `data` is readable on the CPU; undefined: an ORT older than 1.16. */
const ON_CPU: readonly unknown[] = [undefined, 'cpu', 'cpu-pinned'];

/**
 * Whether `x` is a tensor of onnxruntime or transformers.js: `type` and `dims` fields, no `shape` (a
 * `{ data, shape }` or a tf.Tensor). Reads fields, so it may throw for a hostile object: callers run
 * it under `reading`.
 */
export function isTensorLike(x: unknown): boolean {
  if (x === null || typeof x !== 'object' || Array.isArray(x) || ArrayBuffer.isView(x)) return false;
  return has(x, 'type') && has(x, 'dims') && !has(x, 'shape') && typeof (x as Record<string, unknown>).type === 'string';
}

/**
 * Whether `x` or a prototype of its own class has `key`: a tensor's fields are its own or its class's
 * getters, never Object.prototype's (which a polluted prototype could otherwise lend any object).
 */
function has(x: object, key: string): boolean {
  for (let o: object | null = x; o !== null && o !== Object.prototype; o = Object.getPrototypeOf(o) as object | null) {
    if (Object.hasOwn(o, key)) return true;
  }
  return false;
}

/**
 * The shape and values of an ORT or transformers.js tensor of the given rank whose element type is one
 * of `types`. Each field is read once here (`type` again: this read, not the one that recognised the
 * tensor, is the one checked and used): `type` and `location` first, so that a GPU tensor (whose `data`
 * getter throws, or downloads) is refused before its data is touched; then `dims`, checked before
 * `data`. The values are handed back as the typed array the tensor holds, checked to be the one its
 * `type` promises and as long as its dims claim: a reader then treats it as `{ data, shape }`.
 */
export function readTensor(
  x: object,
  rank: number,
  arg: string,
  types: readonly string[],
  rankAdvice: (dims: ArrayLike<unknown>) => string,
): { shape: number[]; data: ArrayBufferView & ArrayLike<number | bigint> } {
  const t = x as Record<string, unknown>;
  const name = has(x, 'ort_tensor') ? 'a transformers.js Tensor' : 'an onnxruntime Tensor';
  const type = t.type as string;
  const location = has(x, 'location') ? t.location : undefined;
  if (!types.includes(type)) {
    const half = type === 'float16' ? ' (float16 logits: end the model with a Cast to float32, or export it with float32 outputs)' : '';
    throw new CRFInputError(arg, `${name} of type ${types.join(' or ')}`, `type ${describe(type)}${half}`);
  }
  if (!ON_CPU.includes(location)) {
    const advice =
      location === 'none'
        ? ' (the tensor was disposed)'
        : ' (its values are not on the CPU: download them with await t.getData() and pass { data, shape: t.dims }, or run the session with CPU outputs)';
    throw new CRFInputError(arg, `a tensor whose values are on the CPU (location 'cpu')`, `location ${describe(location)}${advice}`);
  }
  const rawDims = t.dims;
  if (rawDims === null || typeof rawDims !== 'object' || typeof (rawDims as ArrayLike<unknown>).length !== 'number') {
    throw new CRFInputError(arg, `dims to be an array of dimensions (${name})`, describe(rawDims));
  }
  const dimsLike = rawDims as ArrayLike<unknown>;
  const len = typedArrayKind(dimsLike) ? typedLength(dimsLike as unknown as ArrayBufferView) : dimsLike.length;
  if (len !== rank) throw new CRFInputError(arg, `dims of rank ${rank}`, `dims ${shapeStr(dimsLike)}${rankAdvice(dimsLike)}`);
  const shape: number[] = [];
  for (let d = 0; d < rank; d++) {
    const s = dimsLike[d];
    if (typeof s !== 'number' || !Number.isSafeInteger(s) || s < 0)
      throw new CRFInputError(arg, 'non-negative integer dims below 2^53', `dims ${shapeStr([...shape, s])}`);
    shape.push(s);
  }
  const data = t.data;
  const kind = typedArrayKind(data);
  if (kind !== ARRAY_OF[type]) {
    throw new CRFInputError(arg, `data of a ${type} tensor to be a ${ARRAY_OF[type]}`, describe(data));
  }
  return { shape, data: data as ArrayBufferView & ArrayLike<number | bigint> };
}
