/**
 * Brand checks for typed arrays that a subclass, a Proxy or a spoofed `Symbol.toStringTag` cannot fool:
 * the intrinsic `%TypedArray%.prototype` getters read the internal slots, not properties.
 */

const TypedArrayProto = Object.getPrototypeOf(Int8Array.prototype) as object;

/** An intrinsic accessor's getter, kept unbound: each check calls it on the value it reads. */
function getterOf(proto: object, key: PropertyKey): (this: unknown) => unknown {
  // eslint-disable-next-line @typescript-eslint/unbound-method -- the getter is meant to be called with .call
  return Object.getOwnPropertyDescriptor(proto, key)!.get!;
}
const tagGetter = getterOf(TypedArrayProto, Symbol.toStringTag);
const lengthGetter = getterOf(TypedArrayProto, 'length');

/** The element type of a genuine typed array ('Float32Array', ...), or null for anything else. */
export function typedArrayKind(x: unknown): string | null {
  if (!ArrayBuffer.isView(x)) return null;
  return (tagGetter.call(x) as string | undefined) ?? null;
}

/** The true element count of a genuine typed array (a subclass may override `length`). */
export function typedLength(x: ArrayBufferView): number {
  return lengthGetter.call(x) as number;
}

const bufferGetter = getterOf(TypedArrayProto, 'buffer');
const offsetGetter = getterOf(TypedArrayProto, 'byteOffset');
const byteLengthGetter = getterOf(TypedArrayProto, 'byteLength');
const abByteLength = getterOf(ArrayBuffer.prototype, 'byteLength');
const dvBuffer = getterOf(DataView.prototype, 'buffer');
const dvOffset = getterOf(DataView.prototype, 'byteOffset');
const dvLength = getterOf(DataView.prototype, 'byteLength');

function isBuffer(x: unknown): x is ArrayBuffer {
  const tag = Object.prototype.toString.call(x);
  return tag === '[object ArrayBuffer]' || tag === '[object SharedArrayBuffer]';
}

/**
 * The bytes of an ArrayBuffer, typed array or DataView as a Uint8Array over the same memory, read
 * through the intrinsic getters; null for anything else, 'detached' for a buffer that was transferred.
 */
export function viewBytes(x: unknown): Uint8Array | 'detached' | null {
  let buffer: ArrayBuffer, offset: number, length: number;
  if (typedArrayKind(x)) {
    buffer = bufferGetter.call(x) as ArrayBuffer;
    offset = offsetGetter.call(x) as number;
    length = byteLengthGetter.call(x) as number;
  } else if (ArrayBuffer.isView(x)) {
    try {
      buffer = dvBuffer.call(x) as ArrayBuffer;
      offset = dvOffset.call(x) as number;
      length = dvLength.call(x) as number;
    } catch {
      return 'detached'; // a DataView's getters throw once its buffer is detached
    }
  } else if (isBuffer(x)) {
    buffer = x;
    offset = 0;
    length = -1;
  } else {
    return null;
  }
  try {
    return length < 0 ? new Uint8Array(buffer) : new Uint8Array(buffer, offset, length);
  } catch {
    return 'detached'; // constructing a view of a detached buffer throws
  }
}

/**
 * The 32-bit words of a genuine Float32Array, over the same memory (through {@link viewBytes}, so an own
 * `buffer` property cannot point it elsewhere); null once its buffer was transferred.
 */
export function viewWords(x: Float32Array): Uint32Array | null {
  const bytes = viewBytes(x);
  return bytes === null || bytes === 'detached' ? null : new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 2);
}

/**
 * Whether a typed array's or DataView's buffer (as the intrinsic getters read it) is shared with other
 * threads. ArrayBuffer's own byteLength getter refuses anything but an unshared ArrayBuffer: a brand
 * check that no Symbol.toStringTag fools either way, and cheaper than building the tag's string.
 */
export function isShared(buffer: ArrayBufferLike): boolean {
  try {
    abByteLength.call(buffer);
    return false;
  } catch {
    return true;
  }
}

/**
 * A genuine Float32Array as a plain one over the same memory, through the intrinsic getters (a
 * subclass's or an instance's own `constructor` never runs: `subarray` and `slice` on it are the
 * intrinsic ones); null where that memory is shared with other threads.
 */
export function plainFloat32(x: Float32Array): Float32Array | null {
  const buffer = bufferGetter.call(x) as ArrayBufferLike;
  if (isShared(buffer)) return null;
  return new Float32Array(buffer, offsetGetter.call(x) as number, lengthGetter.call(x) as number);
}
