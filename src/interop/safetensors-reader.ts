import { CRFInputError, describe, reading, shapeStr } from '../errors.js';
import { type Json, parseJson } from './json.js';
import { typedArrayKind, viewBytes } from '../call/typed.js';

/**
 * A reader for Hugging Face's safetensors format, the way PyTorch weights travel:
 *
 *     [8 bytes: N, little-endian u64] [N bytes: UTF-8 JSON header] [data section]
 *     header = { "<name>": { "dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end] }, ...,
 *                "__metadata__": { "<key>": "<string>" } }      (offsets relative to the data section)
 *
 * The bytes are untrusted (a file from the network): every field is checked before any tensor is read,
 * and a malformed file throws a CRFInputError naming what is wrong. Following the reference
 * implementation, the tensors must tile the data section exactly (no overlap, no hole, no trailing
 * bytes) and keys must be unique, so a file cannot hide a second meaning.
 */

/** Bits per element of every dtype the format defines (sub-byte ones pack several per byte). */
const DTYPE_BITS: Readonly<Record<string, number>> = {
  BOOL: 8,
  F4: 4,
  F6_E2M3: 6,
  F6_E3M2: 6,
  U8: 8,
  I8: 8,
  F8_E5M2: 8,
  F8_E4M3: 8,
  F8_E8M0: 8,
  I16: 16,
  U16: 16,
  F16: 16,
  BF16: 16,
  I32: 32,
  U32: 32,
  F32: 32,
  C64: 64,
  F64: 64,
  I64: 64,
  U64: 64,
};

/** The floating-point dtypes whose values this package decodes. */
export type SafetensorsFloatDtype = 'F32' | 'F64' | 'F16' | 'BF16';
const FLOAT_DTYPES: readonly string[] = ['F32', 'F64', 'F16', 'BF16'] satisfies SafetensorsFloatDtype[];

/**
 * The bits a tensor of `shape` and `dtype` takes, exact; Infinity once the product passes 2^53 (a
 * hostile shape's would, and a BigInt product over 40,000 dimensions is slow).
 */
function tensorBits(shape: readonly number[], dtype: string): number {
  if (shape.includes(0)) return 0;
  const bits = DTYPE_BITS[dtype];
  let count = 1;
  for (const d of shape) {
    count *= d;
    if (count * bits > Number.MAX_SAFE_INTEGER) return Infinity;
  }
  return count * bits;
}

/** What a tensor of `bits` needs, for messages: the bytes, or more than the `have` there are. */
function bytesWanted(bits: number, have: number): string {
  return Number.isFinite(bits) ? `${bits / 8}` : `more than ${have}`;
}

/** One tensor of a parsed file: its header entry and a view of its bytes (no copy). */
export interface SafetensorsTensor {
  /** The format's dtype name, e.g. `'F32'`, `'BF16'`, `'I64'`. */
  dtype: string;
  /** Dimensions, outermost first (`[]` for a scalar). */
  shape: number[];
  /** Exactly the tensor's bytes, little-endian, a view into the parsed buffer. */
  bytes: Uint8Array;
}

/** A parsed safetensors file. */
export interface SafetensorsFile {
  /** Tensors by name, in header order. A Map, so a name such as `__proto__` is just a name. */
  tensors: Map<string, SafetensorsTensor>;
  /** The `__metadata__` string map, or null when absent. */
  metadata: Record<string, string> | null;
}

/** Header sizes beyond this are refused, as the reference implementation does (100 MB). */
const MAX_HEADER = 100_000_000;

function bad(what: string, given: string): CRFInputError {
  return new CRFInputError('safetensors', what, given);
}

function toBytes(input: unknown): Uint8Array {
  const bytes = viewBytes(input);
  if (bytes === 'detached')
    throw new CRFInputError('bytes', 'a buffer that is still readable', 'a detached ArrayBuffer (transferred to a worker or another owner)');
  if (!bytes) throw new CRFInputError('bytes', 'a Uint8Array, ArrayBuffer or other ArrayBufferView holding a safetensors file', describe(input));
  return bytes;
}

/**
 * Parses a safetensors file, checking it whole before trusting any of it: the header length against
 * the file size, UTF-8 and JSON validity (unique keys), that the header is an object, each entry's
 * dtype (one the format defines), shape (non-negative integers), byte length (elements × dtype size),
 * offsets (inside the data section) and that the tensors tile the data section without overlap or hole.
 *
 * @param input the whole file: a Uint8Array, ArrayBuffer or other ArrayBufferView. Not copied.
 * @returns the tensors (views into `input`) and the metadata.
 * @throws CRFInputError (argument `safetensors`) saying what is malformed; never reads out of bounds.
 */
export function parseSafetensors(input: Uint8Array | ArrayBuffer | ArrayBufferView): SafetensorsFile {
  const bytes = toBytes(input);
  if (bytes.length < 8) throw bad('at least 8 bytes (the header length)', `a file of ${bytes.length} bytes`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lo = dv.getUint32(0, true);
  const hi = dv.getUint32(4, true);
  const avail = bytes.length - 8;
  if (hi !== 0 || lo > avail) {
    const n = hi * 2 ** 32 + lo;
    throw bad(`a header length within the file (at most ${avail} bytes after the 8-byte prefix)`, `header length ${n}`);
  }
  if (lo > MAX_HEADER) throw bad(`a header of at most ${MAX_HEADER} bytes`, `header length ${lo}`);
  if (lo < 2) throw bad('a header of at least 2 bytes (a JSON object)', `header length ${lo}`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, 8 + lo));
  } catch {
    throw bad('a UTF-8 header', 'invalid UTF-8');
  }
  if (text[0] !== '{') throw bad("a header starting with '{'", `it starting with ${describe(text.slice(0, 8))}`);
  const header = parseJson(text, 'header', bad) as Map<string, Json>;
  const dataStart = 8 + lo;
  const dataLen = bytes.length - dataStart;

  let metadata: Record<string, string> | null = null;
  const entries: { name: string; dtype: string; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, v] of header) {
    if (name === '__metadata__') {
      if (!(v instanceof Map)) throw bad('__metadata__ to be an object of strings', describe(v));
      metadata = Object.create(null) as Record<string, string>;
      for (const [k, s] of v) {
        if (typeof s !== 'string') throw bad(`__metadata__ values to be strings`, `${describe(s)} for ${describe(k)}`);
        Object.defineProperty(metadata, k, { value: s, enumerable: true, writable: true, configurable: true });
      }
      continue;
    }
    const at = `tensor ${describe(name)}`;
    if (!(v instanceof Map)) throw bad(`${at} to be an object {dtype, shape, data_offsets}`, describe(v));
    for (const k of v.keys()) {
      if (k !== 'dtype' && k !== 'shape' && k !== 'data_offsets') throw bad(`${at} to have only dtype, shape, data_offsets`, `the field ${describe(k)}`);
    }
    const dtype = v.get('dtype');
    if (typeof dtype !== 'string' || !Object.hasOwn(DTYPE_BITS, dtype)) {
      throw bad(`${at}: a dtype among ${Object.keys(DTYPE_BITS).join(', ')}`, describe(dtype));
    }
    const shape = v.get('shape');
    if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
      throw bad(`${at}: a shape of non-negative integers`, Array.isArray(shape) ? shapeStr(shape) : describe(shape));
    }
    const offs = v.get('data_offsets');
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
      throw bad(`${at}: data_offsets [begin, end] of non-negative integers`, Array.isArray(offs) ? shapeStr(offs) : describe(offs));
    }
    const [begin, end] = offs as number[];
    if (end < begin) throw bad(`${at}: data_offsets with begin ≤ end`, `[${begin}, ${end}]`);
    if (end > dataLen) throw bad(`${at}: data_offsets inside the data section of ${dataLen} bytes`, `[${begin}, ${end}]`);
    const have = end - begin;
    const bits = tensorBits(shape as number[], dtype);
    if (bits <= have * 8 && bits % 8 !== 0) {
      throw bad(`${at}: a whole number of bytes`, `${bits / DTYPE_BITS[dtype]} elements of ${dtype} (${bits} bits)`);
    }
    if (bits !== have * 8)
      throw bad(`${at}: ${bytesWanted(bits, have)} bytes for ${dtype} ${shapeStr(shape)}`, `data_offsets [${begin}, ${end}] (${have} bytes)`);
    entries.push({ name, dtype, shape: shape as number[], begin, end });
  }
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  for (const e of sorted) {
    if (e.begin < pos) throw bad('tensors that do not overlap', `tensor ${describe(e.name)} at [${e.begin}, ${e.end}] overlapping bytes before ${pos}`);
    if (e.begin > pos) throw bad('a data section with no holes', `bytes [${pos}, ${e.begin}) belonging to no tensor`);
    pos = e.end;
  }
  if (pos !== dataLen) throw bad('a data section with no holes', `bytes [${pos}, ${dataLen}) after the last tensor belonging to no tensor`);

  const tensors = new Map<string, SafetensorsTensor>();
  for (const e of entries) {
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, bytes: bytes.subarray(dataStart + e.begin, dataStart + e.end) });
  }
  return { tensors, metadata };
}

function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/**
 * A tensor handed to {@link tensorValues}, checked whole through its own properties: a dtype the
 * format defines and this package decodes, a shape of non-negative integers, and bytes (a Uint8Array
 * still readable) of exactly the length they give.
 */
function readTensor(t: unknown, name: string): { dtype: string; bytes: Uint8Array } {
  if (t === null || typeof t !== 'object' || Array.isArray(t)) {
    throw new CRFInputError(name, 'a tensor {dtype, shape, bytes} as parseSafetensors gives', describe(t));
  }
  const field = (k: keyof SafetensorsTensor): unknown => (Object.hasOwn(t, k) ? (t as SafetensorsTensor)[k] : undefined);
  const dtype = field('dtype');
  if (typeof dtype !== 'string' || !Object.hasOwn(DTYPE_BITS, dtype)) {
    throw new CRFInputError(name, `a dtype among ${Object.keys(DTYPE_BITS).join(', ')}`, describe(dtype));
  }
  if (!FLOAT_DTYPES.includes(dtype)) throw new CRFInputError(name, 'a floating-point tensor (F32, F64, F16 or BF16)', `dtype ${dtype}`);
  const rawShape = field('shape');
  if (!Array.isArray(rawShape)) throw new CRFInputError(name, 'a shape of non-negative integers', describe(rawShape));
  const shape: number[] = [];
  for (let i = 0; i < rawShape.length; i++) {
    const d: unknown = rawShape[i];
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) throw new CRFInputError(name, 'a shape of non-negative integers', shapeStr(rawShape));
    shape.push(d);
  }
  const raw = field('bytes');
  // Through the intrinsic getters: the bytes decoded are the view's, whatever its own properties say.
  const bytes = typedArrayKind(raw) === 'Uint8Array' ? viewBytes(raw) : null;
  if (bytes === 'detached') throw new CRFInputError(name, 'bytes whose buffer is still readable', 'a Uint8Array whose buffer was transferred away');
  if (!bytes) throw new CRFInputError(name, "bytes: a Uint8Array of the tensor's data", describe(raw));
  const bits = tensorBits(shape, dtype);
  if (bits !== bytes.length * 8)
    throw new CRFInputError(name, `${bytesWanted(bits, bytes.length)} bytes for ${dtype} ${shapeStr(shape)}`, `${bytes.length} bytes`);
  return { dtype, bytes };
}

/**
 * The values of a floating-point tensor, decoded from little-endian F32, F64, F16 (IEEE half) or BF16
 * (the top 16 bits of a float32), flat in row-major order.
 * @param t a tensor of {@link parseSafetensors}, or one built alike: `bytes` a Uint8Array of exactly
 *   the shape's elements times the dtype's size.
 * @param name used in error messages.
 * @throws CRFInputError naming `name` for any other dtype, or a tensor that is not such an object (a
 *   shape that is not non-negative integers, bytes that are not a readable Uint8Array or not as many
 *   as the shape and dtype take).
 */
export function tensorValues(t: SafetensorsTensor, name = 'tensor'): Float64Array {
  const { dtype, bytes } = reading(name, () => readTensor(t, name));
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case 'F32':
      return Float64Array.from({ length: bytes.length / 4 }, (_, i) => dv.getFloat32(4 * i, true));
    case 'F64':
      return Float64Array.from({ length: bytes.length / 8 }, (_, i) => dv.getFloat64(8 * i, true));
    case 'F16':
      return Float64Array.from({ length: bytes.length / 2 }, (_, i) => halfToNumber(dv.getUint16(2 * i, true)));
    case 'BF16': {
      const scratch = new DataView(new ArrayBuffer(4));
      return Float64Array.from({ length: bytes.length / 2 }, (_, i) => {
        scratch.setUint32(0, dv.getUint16(2 * i, true) << 16);
        return scratch.getFloat32(0);
      });
    }
    default:
      throw new CRFInputError(name, 'a floating-point tensor (F32, F64, F16 or BF16)', `dtype ${dtype}`);
  }
}
