import { isShared, viewBytes } from './typed.js';

/**
 * The memory a typed array covers, read through the intrinsic getters (typed.ts): what tells whether
 * two arrays share memory, or whether another thread can write an array's values (a SharedArrayBuffer)
 * between the moment they are checked and the moment they are used.
 */
export interface Span {
  buffer: ArrayBufferLike;
  start: number;
  end: number;
  shared: boolean;
}

/** The span of a typed array or DataView; null for anything else, or once its buffer is detached. */
export function spanOf(a: unknown): Span | null {
  const bytes = viewBytes(a);
  if (bytes === null || bytes === 'detached') return null;
  return { buffer: bytes.buffer, start: bytes.byteOffset, end: bytes.byteOffset + bytes.byteLength, shared: isShared(bytes.buffer) };
}

/** Whether two spans have a byte in common. */
export function overlaps(a: Span, b: Span): boolean {
  return a.buffer === b.buffer && a.start < b.end && b.start < a.end;
}
