// Clipping gradients by their total norm, as torch.nn.utils.clip_grad_norm_.
import { CRFInputError, describe, reading } from '../errors.js';
import { isArrayLike } from '../call/inputs.js';
import { isCRFGradients, isEmissionsGradient } from '../api/marks.js';
import { readOptions } from '../call/options.js';
import { type Span, overlaps, spanOf } from '../call/spans.js';
import { typedArrayKind, typedLength, viewBytes } from '../call/typed.js';
import { copyFinite, finiteNumber, type MutableNumbers } from './numbers.js';

/** Options of {@link clipGradNorm}. */
export interface ClipOptions {
  /** The p of the p-norm, > 0, or `Infinity` for the max norm. Default 2. */
  normType?: number | undefined;
}

/**
 * Clips gradients by their total norm, as `torch.nn.utils.clip_grad_norm_`: the norm is taken over all
 * arrays together (as if concatenated); with `coef = maxNorm / (norm + 1e-6)`, every value is multiplied
 * by `coef` in place when `coef < 1`.
 *
 * Unlike torch (whose `error_if_nonfinite` defaults to false), a non-finite gradient, or a total norm
 * beyond the largest double, throws rather than turning every gradient into NaN or 0.
 *
 * The `grads` a CRF's `forwardBackward` returns can be passed as they are: their `emissions` (the
 * gradient for the tagger underneath, no parameter) is left out, so `clipGradNorm(grads, 5)` clips
 * `startTransitions`, `endTransitions` and `transitions` as torch's `clip_grad_norm_(crf.parameters(), 5)`
 * does. That `emissions` array found in any other record or list is refused: pass the gradients of what
 * is trained only (`const { emissions, ...params } = grads`).
 *
 * @param grads a record or list of gradient arrays (Float32Array, Float64Array or number[]), scaled in
 *   place; typed arrays are read in place, at any length; a number[] is read once into a copy (at most
 *   2^28 values). No two may share memory.
 * @param maxNorm the largest total norm allowed, a finite number ≥ 0.
 * @returns the total norm before clipping.
 * @throws CRFInputError for a bad `grads`, `maxNorm` or `normType`, a non-finite gradient value, a
 *   total norm that is no finite number, or arrays that share memory; nothing is scaled then.
 */
export function clipGradNorm<G extends { [K in keyof G]: MutableNumbers }>(
  grads: G | readonly MutableNumbers[],
  maxNorm: number,
  options: ClipOptions = {},
): number {
  if (grads === null || typeof grads !== 'object') throw new CRFInputError('grads', 'a record or array of gradient arrays', describe(grads));
  finiteNumber(maxNorm, 'maxNorm', 'a finite number ≥ 0', (x) => x >= 0);
  const { normType = 2 } = readOptions(options, 'options', ['normType']);
  if (typeof normType !== 'number' || !(normType > 0)) throw new CRFInputError('normType', 'a number > 0 or Infinity', describe(normType));
  const fromCRF = isCRFGradients(grads);
  const entries: [string, unknown][] = reading('grads', () => {
    if (!Array.isArray(grads)) {
      const all = Object.entries(grads as Record<string, unknown>);
      return (fromCRF ? all.filter(([k]) => k !== 'emissions') : all).map(([k, g]): [string, unknown] => [`grads.${k}`, g]);
    }
    // A loop, not map: a sparse or Proxy list stops at its first entry that is no gradient array.
    const list: [string, unknown][] = [];
    for (let i = 0; i < grads.length; i++) {
      const g: unknown = grads[i];
      if (!isArrayLike(g)) throw new CRFInputError(`grads[${i}]`, 'a Float32Array, Float64Array or number[] (scaled in place)', describe(g));
      list.push([`grads[${i}]`, g]);
    }
    return list;
  });
  // Each array with the values to read: itself (a typed array, in place) or a copy read once.
  const arrays: ClipArray[] = [];
  const spans: [string, Span][] = [];
  const plain = new Map<unknown, string>();
  for (const [arg, g] of entries) arrays.push(reading(arg, () => clipArray(arg, g, spans, plain)));
  let top = 0;
  for (const { arg, values, n } of arrays) {
    for (let i = 0; i < n; i++) {
      const a = Math.abs(values[i]);
      if (!(a <= Number.MAX_VALUE)) throw new CRFInputError(arg, `a finite number at [${i}]`, describe(values[i]));
      if (a > top) top = a;
    }
  }
  // The norm of x/s times s. For p ≤ 64, s is the power of two at or above the largest |x|, but at most
  // 2^1023, the largest finite one (dividing by it is exact, and every (x/s)^p lies in [2^-64, 2^64] for
  // the largest), else s is the largest |x| itself: no power of a finite gradient overflows (3e200
  // squared would) or underflows the norm to 0. Only a norm that is itself beyond the doubles is refused.
  let total = top;
  if (top > 0 && normType !== Infinity) {
    const s = normType <= 64 ? 2 ** Math.min(Math.ceil(Math.log2(top)), 1023) : top;
    let sum = 0;
    for (const { values, n } of arrays) for (let i = 0; i < n; i++) sum += (Math.abs(values[i]) / s) ** normType;
    total = s * sum ** (1 / normType);
    if (!Number.isFinite(total)) {
      throw new CRFInputError(
        'grads',
        `gradients whose total ${normType}-norm is a finite number`,
        `a norm beyond ${Number.MAX_VALUE} (the largest |value| is ${top})`,
      );
    }
  }
  const coef = maxNorm / (total + 1e-6);
  if (coef < 1) {
    // Typed arrays first: writing to a copied array may run a Proxy's trap, which must find them done.
    for (const copied of [false, true]) {
      for (const { g, values, n } of arrays) if ((values !== g) === copied) for (let i = 0; i < n; i++) g[i] = values[i] * coef;
    }
  }
  return total;
}

/** One of clipGradNorm's arrays, with the values to read: itself (a typed array, read in place) or a copy. */
interface ClipArray {
  arg: string;
  g: MutableNumbers;
  values: ArrayLike<number>;
  n: number;
}

/**
 * `g` as one of clipGradNorm's arrays; refused when it is forwardBackward's emissions gradient or shares
 * memory with one before it (`spans`, `plain`: what came before), which would be counted and scaled twice.
 */
function clipArray(arg: string, g: unknown, spans: [string, Span][], plain: Map<unknown, string>): ClipArray {
  if (isEmissionsGradient(g)) {
    throw new CRFInputError(
      arg,
      "the gradients of parameters only: this is forwardBackward's gradient of the emissions, for the tagger underneath; pass forwardBackward's grads as they are (which leaves it out), or `const { emissions, ...params } = grads` and clip params",
      describe(g),
    );
  }
  const twice = (other: string) => new CRFInputError(arg, 'an array of its own (it would be counted and scaled twice)', `one sharing memory with ${other}`);
  const kind = typedArrayKind(g);
  if (kind === 'Float32Array' || kind === 'Float64Array') {
    const typed = g as Float32Array | Float64Array;
    // Read as empty, it would be left out of the norm without a word.
    if (viewBytes(typed) === 'detached') throw new CRFInputError(arg, 'an array of numbers', `${describe(typed)} whose buffer was transferred away`);
    const span = spanOf(typed);
    if (span) {
      const other = spans.find(([, s]) => overlaps(s, span));
      if (other) throw twice(other[0]);
      spans.push([arg, span]);
    }
    return { arg, g: typed, values: typed, n: typedLength(typed) };
  }
  // A number[] (or a Proxy passing for an array or typed array): read once into a copy, whose scaled
  // values are written back.
  if (!Array.isArray(g) && !(g instanceof Float32Array) && !(g instanceof Float64Array)) {
    throw new CRFInputError(arg, 'a Float32Array, Float64Array or number[] (scaled in place)', describe(g));
  }
  const other = plain.get(g);
  if (other) throw twice(other);
  plain.set(g, arg);
  const values = copyFinite(g as ArrayLike<unknown>, arg, (g as ArrayLike<unknown>).length);
  return { arg, g: g as MutableNumbers, values, n: values.length };
}
