// Reading the numbers the training helpers are handed: each value once, typed arrays in place where
// nothing else can change them between a check and a use, anything else into a bounded copy.
import { CRFInputError, describe } from '../errors.js';
import { isArrayLike } from '../call/inputs.js';
import { MAX_VALUES } from '../limits.js';
import { type Span, overlaps, spanOf } from '../call/spans.js';
import { typedArrayKind, typedLength, viewBytes } from '../call/typed.js';

/** A parameter or gradient array that can be updated in place. */
export type MutableNumbers = Float32Array | Float64Array | number[];

export function finiteNumber(v: unknown, arg: string, expected: string, ok: (x: number) => boolean): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) throw new CRFInputError(arg, expected, describe(v));
  return v;
}

/**
 * The n numbers of `g`, each read once. A genuine typed array is returned as it is, to be read in place,
 * unless something else could change it between a check and a use (another thread, when its buffer is
 * shared; a write to a parameter, when it shares memory with one of `avoid`): that one is copied in
 * bulk. Anything else is read into a Float64Array, checked finite as it is read.
 */
export function numbersOf(g: unknown, arg: string, n: number, avoid: readonly (Span | null)[] = []): ArrayLike<number> {
  const kind = typedArrayKind(g);
  if (kind) {
    if (kind === 'BigInt64Array' || kind === 'BigUint64Array') throw new CRFInputError(arg, 'numbers (not BigInt values)', `a ${kind}`);
    const typed = g as Float64Array;
    // Read as empty, it would be taken for a length mismatch or left out of a norm without a word.
    if (viewBytes(typed) === 'detached') throw new CRFInputError(arg, 'an array of numbers', `${describe(typed)} whose buffer was transferred away`);
    const len = typedLength(typed);
    if (len !== n) throw new CRFInputError(arg, `length ${n}`, `length ${len}`);
    const span = spanOf(typed);
    if (span && (span.shared || avoid.some((s) => s !== null && overlaps(s, span)))) {
      const copy = new Float64Array(n);
      copy.set(typed);
      return copy;
    }
    return typed;
  }
  if (!isArrayLike(g)) throw new CRFInputError(arg, `an array of length ${n} (one per parameter)`, describe(g));
  const len = g.length;
  if (len !== n) throw new CRFInputError(arg, `length ${n}`, `length ${describe(len)}`);
  return copyFinite(g, arg, len);
}

/**
 * The values of an array that is not a typed array, read once into a Float64Array whose size is checked
 * against MAX_VALUES before it is allocated: an array claiming 2^32 entries is refused at once, one
 * claiming fewer with nothing behind them fails at its first hole.
 */
export function copyFinite(g: ArrayLike<unknown>, arg: string, len: number): Float64Array {
  if (!Number.isSafeInteger(len) || len < 0) throw new CRFInputError(arg, 'an array', `an object of length ${describe(len)}`);
  if (len > MAX_VALUES) {
    throw new CRFInputError(
      arg,
      `at most ${MAX_VALUES} values (2^28) in an array that is not a typed array; pass a Float32Array or Float64Array (read in place, any length)`,
      `length ${len}`,
    );
  }
  const out = new Float64Array(len);
  for (let i = 0; i < len; i++) {
    const v = g[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new CRFInputError(arg, `a finite number at [${i}]`, describe(v));
    out[i] = v;
  }
  return out;
}
