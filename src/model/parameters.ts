import type { Allowed } from './constraints.js';
import { CRFInputError, describe } from '../errors.js';
import { MAX_MAGNITUDE, MAX_MAGNITUDE_TEXT } from '../limits.js';
import { typedArrayKind, typedLength, viewWords } from '../call/typed.js';

/**
 * The CRF's parameters: their names, what a value may be, and the potentials a call computes on. One
 * rule everywhere (loadStateDict, safetensors, the live arrays at every call): a parameter is a float32
 * within ±1e20, or −Infinity, which forbids that start, end or transition exactly as a constraint does.
 * (Their names in PyTorch's state dicts are state-dict.ts's.)
 */

/**
 * The parameters' names on a CRF (its properties, `parameters()`, the gradients). Every list of the
 * parameters follows this order (start, end, transitions), so lists of other names pair with it by
 * position.
 */
export const PARAMETER_NAMES = ['startTransitions', 'endTransitions', 'transitions'] as const;
type ParameterName = (typeof PARAMETER_NAMES)[number];

/** The one K × K parameter; the others are length K. */
export function isMatrix(name: ParameterName): boolean {
  return name === 'transitions';
}

/** A parameter's number of values with K tags. */
export function parameterLength(name: ParameterName, K: number): number {
  return isMatrix(name) ? K * K : K;
}

/** One value per parameter, made in PARAMETER_NAMES' order. */
export function perParameter<T>(make: (name: ParameterName, n: number) => T): Record<ParameterName, T> {
  return Object.fromEntries(PARAMETER_NAMES.map((name, n) => [name, make(name, n)])) as Record<ParameterName, T>;
}

const EXPECTED = `a finite number within ${MAX_MAGNITUDE_TEXT} in float32, or -Infinity (forbidden)`;

/** Whether a float32 parameter value is one this package computes with. */
function usable(v: number): boolean {
  return v === -Infinity || (v <= MAX_MAGNITUDE && v >= -MAX_MAGNITUDE);
}

/**
 * A value for a parameter array, rounded to float32 as it will be stored; throws naming `arg` when it
 * is not a number, is NaN or +Infinity, or lies (after rounding) beyond the supported range.
 */
export function parameterValue(x: unknown, arg: string, at: string): number {
  const f = typeof x === 'number' ? Math.fround(x) : NaN;
  // -1e39 rounds to -Infinity in float32; only an explicit -Infinity means "forbidden".
  if (typeof x !== 'number' || !usable(f) || (f === -Infinity && x !== -Infinity)) {
    throw new CRFInputError(arg, `${EXPECTED} at ${at}`, describe(x));
  }
  return f;
}

/** Named position of flat index i in a length-K vector or a K × K matrix. */
export function positionOf(i: number, K: number, matrix: boolean): string {
  return matrix ? `[${Math.floor(i / K)}][${i % K}] (from tag ${Math.floor(i / K)} to tag ${i % K})` : `[${i}]`;
}

/** Parameters with constraints folded in, in float64: a forbidden start, end or transition is −∞. */
export interface Potentials {
  K: number;
  start: Float64Array;
  end: Float64Array;
  /** Row-major `[from * K + to]`. */
  trans: Float64Array;
}

/** The live parameter arrays, by name. */
export type ParameterArrays = Record<ParameterName, Float32Array>;

/**
 * Throws naming the first live array that no longer holds its K or K² values. The arrays cannot be
 * replaced, but their buffer can be transferred away (detached: length 0), so every reader and writer
 * of them checks all three first: a load must not write start and end and then fail on transitions.
 */
export function checkParameterArrays(params: ParameterArrays, K: number): void {
  for (const name of PARAMETER_NAMES) {
    const src = params[name];
    const len = parameterLength(name, K);
    if (typedArrayKind(src) !== 'Float32Array' || typedLength(src) !== len) {
      throw new CRFInputError(name, `a Float32Array of ${len} values`, `${describe(src)} (was its buffer transferred?)`);
    }
  }
}

/**
 * The potentials of one call: the live parameters (checked now, since optimizers and users write them
 * between calls) with the constraints folded in as −Infinity.
 */
export function potentials(params: ParameterArrays, K: number, c: Allowed | null): Potentials {
  checkParameterArrays(params, K);
  const allowed = [c?.start, c?.end, c?.trans];
  const [start, end, trans] = PARAMETER_NAMES.map((name, n) => {
    const src = params[name];
    const ok = allowed[n];
    const len = parameterLength(name, K);
    const out = new Float64Array(len);
    for (let i = 0; i < len; i++) {
      const v = src[i];
      if (!usable(v)) throw new CRFInputError(name, `${EXPECTED} at ${positionOf(i, K, isMatrix(name))}`, describe(v));
      out[i] = !ok || ok[i] ? v : -Infinity;
    }
    return out;
  });
  return { K, start, end, trans };
}

/**
 * The potentials of a CRF's live parameters, recomputed only when a parameter's bits or the constraints
 * changed since the last call. Optimizers and users write the arrays between calls, so every call still
 * compares each value (2K + K² words, bit for bit: -0 and 0 differ); a call that finds them as they
 * were skips three float64 copies and their checks, and hands the backend the same Potentials object,
 * which lets the WASM backend keep the tables it built from it. Nothing may write into a Potentials.
 */
export class LivePotentials {
  readonly #params: ParameterArrays;
  readonly #K: number;
  /** The live arrays' words and their values when `#last` was computed, per parameter. */
  #words: (Uint32Array | null)[] = [];
  #seen: Uint32Array[] = [];
  #last: Potentials | null = null;
  #constraints: Allowed | null = null;

  constructor(params: ParameterArrays, K: number) {
    this.#params = params;
    this.#K = K;
  }

  /** The potentials now, with `c` folded in; throws as {@link potentials} for a bad value. */
  get(c: Allowed | null): Potentials {
    if (this.#last && c === this.#constraints && this.#unchanged()) return this.#last;
    this.#last = null;
    const w = potentials(this.#params, this.#K, c);
    this.#words = PARAMETER_NAMES.map((name) => viewWords(this.#params[name]));
    this.#seen = this.#words.map((v) => (v ? v.slice() : new Uint32Array(0)));
    this.#last = w;
    this.#constraints = c;
    return w;
  }

  /** Bytes kept between calls: the potentials and the copy of the parameters' bits they were made from. */
  get bytes(): number {
    const w = this.#last;
    const arrays = w ? [w.start, w.end, w.trans, ...this.#seen] : this.#seen;
    return arrays.reduce((n, a) => n + a.byteLength, 0);
  }

  /** Lets go of them; the next call computes them afresh. */
  clear(): void {
    this.#last = null;
    this.#words = [];
    this.#seen = [];
  }

  #unchanged(): boolean {
    for (let n = 0; n < this.#seen.length; n++) {
      const live = this.#words[n];
      const seen = this.#seen[n];
      // A transferred buffer leaves the view empty: recompute, and let potentials() say what is wrong.
      if (!live || live.length !== seen.length) return false;
      // Four words a step, their differences or-ed with no branch: every call reads all 2K + K² words,
      // and a compare and branch per word costs more than the or.
      const len = seen.length,
        len4 = len & ~3;
      let diff = 0;
      for (let i = 0; i < len4; i += 4) diff |= (live[i] ^ seen[i]) | (live[i + 1] ^ seen[i + 1]) | (live[i + 2] ^ seen[i + 2]) | (live[i + 3] ^ seen[i + 3]);
      for (let i = len4; i < len; i++) diff |= live[i] ^ seen[i];
      if (diff !== 0) return false;
    }
    return true;
  }
}
