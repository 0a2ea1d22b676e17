import { CRFInputError, describe, reading, shapeStr } from '../errors.js';
import { MAX_VALUES } from '../limits.js';

/**
 * A writer of Hugging Face's safetensors format (the layout is described in safetensors-reader.ts). It
 * stands apart from the reader because `crf.toSafetensors` is synchronous and needs it at hand, while
 * the reader and its JSON parser are loaded only when `CRF.fromSafetensors` is called.
 */

/** The largest finite float32. */
const F32_MAX = 3.4028234663852886e38;
/** Largest data section {@link writeSafetensors} builds in one Uint8Array. */
const MAX_FILE_BYTES = 2 ** 31;

/** A tensor to write: flat row-major values with their shape. */
export interface TensorToWrite {
  /** `'F32'` (default) or `'F64'`. */
  dtype?: 'F32' | 'F64' | undefined;
  /** Dimensions, outermost first; their product is `data.length`. */
  shape: readonly number[];
  /** The values in row-major order. */
  data: ArrayLike<number>;
}

/**
 * Writes a safetensors file that `safetensors.torch.load_file` reads: tensors in the given order, the
 * header padded with spaces so the data section starts 8-byte aligned (as the reference writer does).
 * @param tensors by name; `__metadata__` is reserved.
 * @param metadata optional string map stored as `__metadata__`.
 * @throws CRFInputError for a bad name, dtype, shape, data length or metadata value.
 */
export function writeSafetensors(tensors: Record<string, TensorToWrite>, metadata?: Record<string, string> | null): Uint8Array {
  return reading('tensors', () => write(tensors, metadata));
}

function write(tensors: Record<string, TensorToWrite>, metadata?: Record<string, string> | null): Uint8Array {
  if (tensors === null || typeof tensors !== 'object') throw new CRFInputError('tensors', 'a record of {dtype, shape, data}', describe(tensors));
  // The header's entries as JSON text, in order (metadata keys such as __proto__ stay plain keys).
  const entries: string[] = [];
  if (metadata !== undefined && metadata !== null) {
    if (typeof metadata !== 'object') throw new CRFInputError('metadata', 'an object of strings', describe(metadata));
    const fields: string[] = [];
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new CRFInputError(`metadata.${k}`, 'a string', describe(v));
      fields.push(`${JSON.stringify(k)}:${JSON.stringify(v)}`);
    }
    entries.push(`"__metadata__":{${fields.join(',')}}`);
  }
  let offset = 0;
  // Every field and value is read once, into what is written (a getter cannot change a size after it
  // was checked, or a value after the header was laid out).
  const parts: { dtype: 'F32' | 'F64'; values: Float64Array; begin: number }[] = [];
  for (const [name, t] of Object.entries(tensors)) {
    if (name === '__metadata__') throw new CRFInputError('tensors', 'tensor names other than __metadata__ (reserved)', describe(name));
    if (t === null || typeof t !== 'object') throw new CRFInputError(`tensors.${name}`, '{dtype, shape, data}', describe(t));
    // Own fields only: a dtype inherited from a polluted Object.prototype is not this tensor's.
    const field = (k: keyof TensorToWrite): unknown => (Object.hasOwn(t, k) ? t[k] : undefined);
    const rawDtype = field('dtype');
    const dtype = rawDtype === undefined ? 'F32' : rawDtype;
    const rawShape = field('shape');
    const data = field('data') as ArrayLike<unknown> | null;
    if (dtype !== 'F32' && dtype !== 'F64') throw new CRFInputError(`tensors.${name}.dtype`, "'F32' or 'F64'", describe(dtype));
    if (!Array.isArray(rawShape) && !ArrayBuffer.isView(rawShape))
      throw new CRFInputError(`tensors.${name}.shape`, 'an array of dimensions', describe(rawShape));
    const shape = Array.from(rawShape as ArrayLike<number>);
    if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new CRFInputError(`tensors.${name}.shape`, 'non-negative integers', shapeStr(shape));
    const n = shape.reduce((a, b) => a * b, 1);
    if (n > MAX_VALUES) throw new CRFInputError(`tensors.${name}.shape`, `at most ${MAX_VALUES} values (2^28) per tensor`, shapeStr(shape));
    if (data === null || typeof data !== 'object' || data.length !== n) {
      throw new CRFInputError(`tensors.${name}.data`, `${n} values for shape ${shapeStr(shape)}`, describe(data));
    }
    const values = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const v = data[i];
      if (typeof v !== 'number') throw new CRFInputError(`tensors.${name}.data`, 'numbers', `${describe(v)} at [${i}]`);
      // Rounding is F32's; a finite value it cannot hold would be written as an infinity.
      if (dtype === 'F32' && Number.isFinite(v) && !Number.isFinite(Math.fround(v))) {
        throw new CRFInputError(`tensors.${name}.data`, `numbers within F32's range (±${F32_MAX}) at [${i}]`, describe(v));
      }
      values[i] = v;
    }
    const size = dtype === 'F32' ? 4 : 8;
    entries.push(`${JSON.stringify(name)}:{"dtype":"${dtype}","shape":[${shape.join(',')}],"data_offsets":[${offset},${offset + n * size}]}`);
    parts.push({ dtype, values, begin: offset });
    offset += n * size;
  }
  if (offset > MAX_FILE_BYTES) throw new CRFInputError('tensors', `at most ${MAX_FILE_BYTES} bytes of data (2^31)`, `${offset} bytes`);
  // Text, not JSON.stringify of objects: that would call a toJSON inherited from a polluted prototype
  // (for a string it reads nothing but the string).
  const json = new TextEncoder().encode(`{${entries.join(',')}}`);
  const padded = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + padded + offset);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, padded, true);
  dv.setUint32(4, 0, true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + padded);
  const base = 8 + padded;
  for (const p of parts) {
    for (let i = 0; i < p.values.length; i++) {
      if (p.dtype === 'F32') dv.setFloat32(base + p.begin + 4 * i, p.values[i], true);
      else dv.setFloat64(base + p.begin + 8 * i, p.values[i], true);
    }
  }
  return out;
}
