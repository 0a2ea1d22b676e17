import { CRFInputError, describe, reading, shapeStr } from '../errors.js';
import { claimedRank, isArrayLike, readEach, readFinite } from '../call/inputs.js';
import { MAX_LOSSES, MAX_VALUES } from '../limits.js';
import { isCRFGradients, isEmissionsGradient } from '../api/marks.js';
import { readOptions } from '../call/options.js';
import { type Span, overlaps, spanOf } from '../call/spans.js';
import { typedArrayKind, typedLength, viewBytes } from '../call/typed.js';

/**
 * Training utilities that mirror PyTorch's: an Adam optimizer, gradient-norm clipping, token-level
 * cross-entropy and the automatic (uncertainty) weighting of several losses.
 *
 * Gradients here are values, not accumulators: whatever produced them (a CRF's `forwardBackward`,
 * `crossEntropy`, your own chain rule) hands a fresh record to `step`, so there is no `zeroGrad`.
 */

/** A parameter or gradient array that can be updated in place. */
export type MutableNumbers = Float32Array | Float64Array | number[];

/** A named set of parameter arrays, e.g. `crf.parameters()` (interfaces welcome: no index signature needed). */
export type ParamRecord<P = Record<string, unknown>> = { [K in keyof P]: Float32Array | Float64Array };

/** Gradients for the parameters `P`: an array under each of its keys; further keys are allowed. */
export type GradRecord<P = Record<string, unknown>> = { readonly [K in keyof P]: ArrayLike<number> };

function finiteNumber(v: unknown, arg: string, expected: string, ok: (x: number) => boolean): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) throw new CRFInputError(arg, expected, describe(v));
  return v;
}

/** Options of {@link Adam}; defaults are `torch.optim.Adam`'s. */
export interface AdamOptions {
  /** Learning rate, ≥ 0. Default 1e-3. */
  lr?: number | undefined;
  /** Decay rates of the first and second moment estimates, each in [0, 1). Default [0.9, 0.999]. */
  betas?: readonly [number, number] | undefined;
  /** Added to the denominator for stability, ≥ 0. Default 1e-8. */
  eps?: number | undefined;
  /** L2 penalty added to the gradient (`g + weightDecay · θ`, as torch's Adam, not AdamW), ≥ 0. Default 0. */
  weightDecay?: number | undefined;
  /** Use the running maximum of the second moment (AMSGrad). Default false. */
  amsgrad?: boolean | undefined;
  /**
   * Ascend instead of descend, as torch's `maximize`: `step` then takes the gradients of an objective
   * to maximise, such as the log-likelihood gradients a CRF's `forwardBackward` returns, unchanged.
   * Default false (the gradients are of a loss).
   */
  maximize?: boolean | undefined;
}

/**
 * Adam, step for step as `torch.optim.Adam` (single tensor path, no `foreach`/`fused` differences):
 *
 *     g ← ±grad + weightDecay · θ        (− when maximize)
 *     m ← β1 m + (1 − β1) g
 *     v ← β2 v + (1 − β2) g²             (AMSGrad: v̂ ← max(v̂, v), used below in place of v)
 *     θ ← θ − lr / (1 − β1^t) · m / (√v / √(1 − β2^t) + eps)
 *
 * The moments are kept in float64; the parameters are updated in place.
 *
 * Unlike torch, a step never writes a non-finite value: a step that would (a learning rate whose step
 * overflows a float32 parameter, a weight decay whose penalty overflows, a gradient whose square does)
 * throws before any parameter, moment or the step count changes. Where the first moment is 0 the
 * parameter does not move, also with `eps: 0` (torch writes 0/0 = NaN there).
 *
 * @example
 * const adam = new Adam(crf.parameters(), { lr: 0.05, maximize: true });
 * const { grads } = await crf.forwardBackward(emissions, tags);
 * adam.step(grads); // extra keys such as `emissions` are ignored
 */
export class Adam<P extends ParamRecord<P> = Record<string, Float32Array | Float64Array>> {
  #lr = 0;
  /** [β1, β2]. */
  readonly betas: readonly [number, number];
  /** Term added to the denominator for numerical stability. */
  readonly eps: number;
  /** L2 penalty coefficient (torch's `weight_decay`). */
  readonly weightDecay: number;
  /** Whether the AMSGrad variant (running max of the second moment) is used. */
  readonly amsgrad: boolean;
  /** Whether `step` ascends the given gradients instead of descending them. */
  readonly maximize: boolean;
  readonly #params: Param[];
  #t = 0;

  /**
   * @param params named arrays updated in place by {@link Adam.step}, e.g. `crf.parameters()` or
   *   `{ ...crf.parameters(), weight, bias }`; at least one, no two sharing memory.
   * @param options see {@link AdamOptions}.
   * @throws CRFInputError for params that are not a non-empty record of Float32Array/Float64Array
   *   (two that share memory included), or an option out of range.
   */
  constructor(params: P, options: AdamOptions = {}) {
    const entries = reading('params', () => {
      if (params === null || typeof params !== 'object' || Array.isArray(params)) {
        throw new CRFInputError('params', 'a record of Float32Array or Float64Array', describe(params));
      }
      return Object.entries(params);
    });
    if (entries.length === 0) throw new CRFInputError('params', 'at least one parameter array', 'an empty record');
    const arrays: [string, Float32Array | Float64Array, boolean][] = [];
    const spans: [string, Span][] = [];
    for (const [k, a] of entries) {
      const kind = typedArrayKind(a);
      if (kind !== 'Float32Array' && kind !== 'Float64Array') {
        throw new CRFInputError(`params.${k}`, 'a Float32Array or Float64Array (updated in place; not a Proxy)', describe(a));
      }
      if (viewBytes(a) === 'detached') {
        throw new CRFInputError(`params.${k}`, 'an array to update in place', `${describe(a)} whose buffer was transferred away`);
      }
      // Two names for the same memory would be stepped twice, each with its own moments.
      const span = spanOf(a);
      if (span) {
        const other = spans.find(([, s]) => overlaps(s, span));
        if (other) throw new CRFInputError(`params.${k}`, 'an array of its own', `one sharing memory with params.${other[0]}`);
        spans.push([k, span]);
      }
      arrays.push([k, a as Float32Array | Float64Array, kind === 'Float32Array']);
    }
    const o = readOptions(options, 'options', ['lr', 'betas', 'eps', 'weightDecay', 'amsgrad', 'maximize']);
    const { lr = 1e-3, betas = [0.9, 0.999], eps = 1e-8, weightDecay = 0, amsgrad = false, maximize = false } = o;
    this.lr = lr;
    if (!isArrayLike(betas) || betas.length !== 2) throw new CRFInputError('betas', 'a pair [β1, β2]', describe(betas));
    const b1 = finiteNumber(betas[0], 'betas[0]', 'a number in [0, 1)', (x) => x >= 0 && x < 1);
    const b2 = finiteNumber(betas[1], 'betas[1]', 'a number in [0, 1)', (x) => x >= 0 && x < 1);
    this.betas = [b1, b2];
    this.eps = finiteNumber(eps, 'eps', 'a finite number ≥ 0', (x) => x >= 0);
    this.weightDecay = finiteNumber(weightDecay, 'weightDecay', 'a finite number ≥ 0', (x) => x >= 0);
    if (typeof amsgrad !== 'boolean') throw new CRFInputError('amsgrad', 'a boolean', describe(amsgrad));
    if (typeof maximize !== 'boolean') throw new CRFInputError('maximize', 'a boolean', describe(maximize));
    this.amsgrad = amsgrad;
    this.maximize = maximize;
    this.#params = arrays.map(([key, p, f32]) => {
      const n = typedLength(p);
      try {
        return { key, p, f32, n, m: new Float64Array(n), v: new Float64Array(n), vMax: amsgrad ? new Float64Array(n) : null };
      } catch (e) {
        if (!(e instanceof RangeError)) throw e;
        throw new CRFInputError(`params.${key}`, `an array whose float64 moments (${amsgrad ? 24 : 16} bytes per value) can be allocated`, describe(p));
      }
    });
  }

  /**
   * The learning rate, a finite number ≥ 0; may be changed between steps (a schedule).
   * @throws CRFInputError when set to anything else.
   */
  get lr(): number {
    return this.#lr;
  }

  /**
   * Sets the learning rate for the next steps.
   * @param v a finite number ≥ 0.
   * @throws CRFInputError for anything else; the rate is then unchanged.
   */
  set lr(v: number) {
    this.#lr = finiteNumber(v, 'lr', 'a finite number ≥ 0', (x) => x >= 0);
  }

  /** How many steps have been taken (torch's `state['step']`). */
  get stepCount(): number {
    return this.#t;
  }

  /**
   * One update of every parameter. The whole step is computed and checked before anything is written.
   * @param grads for every parameter key, an array of the same length with finite values (typed arrays
   *   are read in place); keys that are not parameters (such as a CRF's `emissions` gradient) are ignored.
   * @throws CRFInputError for a missing key, a length mismatch or a non-finite gradient; for a parameter
   *   that holds NaN or +Infinity, or whose buffer was transferred; and for a step that would write a
   *   non-finite parameter or moment (naming `lr`, `weightDecay`, `eps` or the gradient that causes it).
   *   Nothing has changed then.
   */
  step(grads: GradRecord<P>): void {
    if (grads === null || typeof grads !== 'object') throw new CRFInputError('grads', 'a record of gradient arrays', describe(grads));
    const spans = this.#params.map((q) => spanOf(q.p));
    const gs = this.#params.map((q) => {
      const arg = `grads.${q.key}`;
      // Own keys only: a gradient inherited from a polluted Object.prototype is no gradient.
      return reading(arg, () => numbersOf(Object.hasOwn(grads, q.key) ? (grads as Record<string, unknown>)[q.key] : undefined, arg, q.n, spans));
    });
    // Checked after the gradients were read (a getter among them could have transferred a buffer); no
    // code of the caller's runs from here on.
    for (const q of this.#params) {
      const now = typedLength(q.p);
      if (now !== q.n) {
        throw new CRFInputError(
          `params.${q.key}`,
          `the ${q.n} values it had when the optimizer was created`,
          `length ${now} (its buffer was transferred or resized)`,
        );
      }
    }
    const t = this.#t + 1;
    this.#pass(gs, t, false);
    this.#pass(gs, t, true);
    this.#t = t;
  }

  /**
   * Step t over every parameter: with `write` false it only checks that every value it would write is
   * finite (throwing otherwise); with `write` true it writes them. Both compute the same numbers from
   * the same inputs: the gradients are not parameters' memory (numbersOf copies those that are).
   */
  #pass(gs: ArrayLike<number>[], t: number, write: boolean): void {
    const [b1, b2] = this.betas;
    const bc1 = 1 - b1 ** t;
    const bc2Sqrt = Math.sqrt(1 - b2 ** t);
    const stepSize = this.lr / bc1;
    const sign = this.maximize ? -1 : 1;
    const { weightDecay, eps } = this;
    this.#params.forEach(({ p, f32, n, m, v, vMax }, k) => {
      const g = gs[k];
      for (let i = 0; i < n; i++) {
        const theta = p[i];
        const gRaw = g[i];
        // A −Infinity parameter is a forbidden transition (its gradient is 0): it stays forbidden.
        if (theta === -Infinity) {
          if (!write && !Number.isFinite(gRaw)) this.#refuse(this.#params[k], i, gRaw, NaN, NaN);
          continue;
        }
        const gi = sign * gRaw + weightDecay * theta;
        const mi = b1 * m[i] + (1 - b1) * gi;
        const vi = b2 * v[i] + (1 - b2) * gi * gi;
        const second = vMax ? Math.max(vMax[i], vi) : vi;
        // No first moment, no move: also where the denominator is 0 (eps 0), which would give 0/0.
        const next = mi === 0 ? theta : theta - (stepSize * mi) / (Math.sqrt(second) / bc2Sqrt + eps);
        if (write) {
          m[i] = mi;
          v[i] = vi;
          if (vMax) vMax[i] = second;
          p[i] = next;
        } else if (!Number.isFinite(vi) || !Number.isFinite(f32 ? Math.fround(next) : next)) {
          this.#refuse(this.#params[k], i, gRaw, gi, Math.sqrt(second) / bc2Sqrt + eps);
        }
      }
    });
  }

  /** The CRFInputError for a step that would write a non-finite value at `q.p[i]`: the first cause found. */
  #refuse(q: Param, i: number, g: number, gi: number, denominator: number): never {
    const theta = q.p[i];
    const at = `params.${q.key}[${i}]`;
    if (!Number.isFinite(g)) throw new CRFInputError(`grads.${q.key}`, `a finite number at [${i}]`, describe(g));
    if (!Number.isFinite(theta)) throw new CRFInputError(`params.${q.key}`, `finite values or -Infinity (forbidden) at [${i}]`, describe(theta));
    if (!Number.isFinite(gi)) {
      throw new CRFInputError(
        'weightDecay',
        `a weight decay whose penalty weightDecay · θ stays finite (θ = ${at} = ${describe(theta)})`,
        describe(this.weightDecay),
      );
    }
    if (!Number.isFinite(gi * gi)) {
      throw new CRFInputError(
        `grads.${q.key}`,
        `a gradient whose square (Adam's second moment) is finite at [${i}]: |g + weightDecay · θ| below 1.3e154`,
        describe(g),
      );
    }
    if (denominator === 0) {
      throw new CRFInputError(
        'eps',
        `eps > 0, since the second moment at ${at} is 0 (its gradient ${describe(g)} squares to 0) while the first is not`,
        describe(this.eps),
      );
    }
    throw new CRFInputError(
      'lr',
      `a learning rate whose step leaves ${at} (${describe(theta)}) finite as a ${q.f32 ? 'Float32Array' : 'Float64Array'} stores it`,
      describe(this.lr),
    );
  }
}

/** One parameter of an {@link Adam}: the array, what it was at construction, and its moments. */
interface Param {
  key: string;
  p: Float32Array | Float64Array;
  f32: boolean;
  /** Its length when the optimizer was created (the moments' length). */
  n: number;
  m: Float64Array;
  v: Float64Array;
  vMax: Float64Array | null;
}

/**
 * The n numbers of `g`, each read once. A genuine typed array is returned as it is, to be read in place,
 * unless something else could change it between a check and a use (another thread, when its buffer is
 * shared; a write to a parameter, when it shares memory with one of `avoid`): that one is copied in
 * bulk. Anything else is read into a Float64Array, checked finite as it is read.
 */
function numbersOf(g: unknown, arg: string, n: number, avoid: readonly (Span | null)[] = []): ArrayLike<number> {
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
function copyFinite(g: ArrayLike<unknown>, arg: string, len: number): Float64Array {
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

/** Class scores: nested `[B][T][C]` (or `[N][C]`) arrays or a flat array with its shape, classes last. */
export type LogitsInput =
  | ArrayLike<ArrayLike<ArrayLike<number>>>
  | ArrayLike<ArrayLike<number>>
  | {
      /** The scores in row-major order. */
      data: Float32Array | Float64Array | ArrayLike<number>;
      /** `[B, T, C]` or `[N, C]`. */
      shape: readonly number[];
    };
/** Class labels: nested `[B][T]` (or `[N]`) integers or a flat array with its shape. */
export type LabelsInput =
  | ArrayLike<ArrayLike<number>>
  | ArrayLike<number>
  | {
      /** The labels in row-major order. */
      data: Int32Array | ArrayLike<number>;
      /** `[B, T]` or `[N]`, the logits' shape without the class dimension. */
      shape: readonly number[];
    };

/** Options of {@link crossEntropy}. */
export interface CrossEntropyOptions {
  /** Labels equal to this contribute neither loss nor gradient. Default -100 (torch's). */
  ignoreIndex?: number | undefined;
  /** `'mean'` (default: over the tokens not ignored), `'sum'` or `'none'` (per token). */
  reduction?: 'mean' | 'sum' | 'none' | undefined;
}

/** What {@link crossEntropy} returns. */
export interface CrossEntropyResult<L> {
  /** The reduced loss; for `'none'` a Float32Array with one loss per token (0 where ignored). */
  loss: L;
  /**
   * ∂loss/∂logits, flat in the logits' row-major layout (`[B, T, C]` or `[N, C]`); 0 at ignored tokens.
   * For `'none'` it is the gradient of the sum of the per-token losses.
   */
  grad: Float32Array;
}

/**
 * Token-level cross-entropy with torch's `F.cross_entropy` semantics (log-softmax over the classes,
 * negative log-probability of the label, `ignore_index`, mean over the tokens not ignored), for logits
 * laid out like a CRF's emissions: classes LAST (`[B, T, C]`, or `[N, C]`), where torch wants
 * `[B, C, T]`, i.e. this equals `F.cross_entropy(logits.view(-1, C), labels.view(-1))`.
 *
 * One deviation: with every label ignored, torch's `'mean'` gives NaN; this gives loss 0 and a zero
 * gradient (as a CRF's empty sequence has log-likelihood 0), so a batch of padding cannot poison training.
 *
 * @param logits `[B, T, C]` or `[N, C]` finite scores, nested arrays or `{ data, shape }`.
 * @param labels `[B, T]` or `[N]` integers in [0, C) or equal to `ignoreIndex`.
 * @returns the loss and its gradient with respect to the logits.
 * @throws CRFInputError for a bad shape, a non-finite logit, a label out of range, or a bad option.
 */
export function crossEntropy(
  logits: LogitsInput,
  labels: LabelsInput,
  options?: CrossEntropyOptions & { reduction?: 'mean' | 'sum' | undefined },
): CrossEntropyResult<number>;
export function crossEntropy(logits: LogitsInput, labels: LabelsInput, options: CrossEntropyOptions & { reduction: 'none' }): CrossEntropyResult<Float32Array>;
export function crossEntropy(logits: LogitsInput, labels: LabelsInput, options: CrossEntropyOptions = {}): CrossEntropyResult<number | Float32Array> {
  const { ignoreIndex = -100, reduction = 'mean' } = readOptions(options, 'options', ['ignoreIndex', 'reduction']);
  if (typeof ignoreIndex !== 'number' || !Number.isInteger(ignoreIndex)) throw new CRFInputError('ignoreIndex', 'an integer', describe(ignoreIndex));
  if (reduction !== 'mean' && reduction !== 'sum' && reduction !== 'none') {
    throw new CRFInputError('reduction', "one of 'mean', 'sum', 'none'", describe(reduction));
  }
  const rank = reading('logits', () => claimedRank(logits, 3));
  if (rank !== 2 && rank !== 3) throw new CRFInputError('logits', 'shape [B, T, C] or [N, C] (classes last)', `rank ${rank}`);
  let C = 0,
    N = 0,
    count = 0;
  let y = new Int32Array(0);
  // The labels are read as soon as the logits' shape is known, before the logits' values are checked:
  // no code of the caller's (a getter among the labels) runs between that check and the reads of
  // logits that are read in place. Within ±MAX_MAGNITUDE, every loss (at most 2e20 + log C a token,
  // even as a float32) and every sum is finite.
  const lg = readFinite(
    logits,
    rank,
    'logits',
    (shape) => {
      if (shape.reduce((a, b) => a * b, 1) > MAX_VALUES) return; // refused by readFinite before any value is read
      C = shape[rank - 1];
      const lead = shape.slice(0, -1);
      N = lead.reduce((a, b) => a * b, 1);
      if (N > 0 && C === 0) throw new CRFInputError('logits', 'at least one class', `shape ${shapeStr(shape)}`);
      const want = `shape ${shapeStr(lead)} to match logits ${shapeStr(shape)}`;
      y = new Int32Array(N);
      readEach(
        labels,
        rank - 1,
        'labels',
        (got) => {
          if (got.some((d, i) => d !== lead[i]) && !(N === 0 && got[0] === 0)) throw new CRFInputError('labels', want, `shape ${shapeStr(got)}`);
        },
        (v, n) => {
          if (v === ignoreIndex) {
            y[n] = -1;
            return;
          }
          if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= C) {
            throw new CRFInputError('labels', `an integer in [0, ${C - 1}] or ignoreIndex ${ignoreIndex} at flat index ${n}`, describe(v));
          }
          y[n] = v;
          count++;
        },
      );
    },
    true,
  );
  const x = lg.data;
  const perToken = new Float64Array(N);
  const grad = new Float32Array(N * C);
  const scale = reduction === 'mean' ? (count === 0 ? 0 : 1 / count) : 1;
  let sum = 0;
  for (let n = 0; n < N; n++) {
    if (y[n] < 0) continue;
    const o = n * C;
    let max = -Infinity;
    for (let c = 0; c < C; c++) max = Math.max(max, x[o + c]);
    let z = 0;
    for (let c = 0; c < C; c++) z += Math.exp(x[o + c] - max);
    const logZ = max + Math.log(z);
    perToken[n] = logZ - x[o + y[n]];
    sum += perToken[n];
    for (let c = 0; c < C; c++) grad[o + c] = scale * (Math.exp(x[o + c] - logZ) - (c === y[n] ? 1 : 0));
  }
  if (reduction === 'none') return { loss: Float32Array.from(perToken), grad };
  return { loss: reduction === 'sum' ? sum : sum * scale, grad };
}

/** What {@link AutomaticWeightedLoss.forward} returns. */
export interface WeightedLossResult {
  /** Σ_i 0.5 / p_i² · L_i + log(1 + p_i²). */
  loss: number;
  /** ∂loss/∂L_i = 0.5 / p_i²: the factor each task's own gradients are multiplied by. */
  lossGrads: number[];
  /** ∂loss/∂p, under the key of {@link AutomaticWeightedLoss.parameters}, ready for {@link Adam.step}. */
  grads: {
    /** ∂loss/∂p_i, length n. */
    params: Float32Array;
  };
}

/**
 * Automatic weighting of several task losses by learned uncertainty (Kendall et al. 2018, in the form
 * of the widely used PyTorch `AutomaticWeightedLoss`):
 * `loss = Σ_i 0.5 / p_i² · L_i + log(1 + p_i²)` with learnable `p`, initialised to 1.
 *
 * @example
 * const awl = new AutomaticWeightedLoss(2);
 * const adam = new Adam({ ...model, ...awl.parameters() }, { lr: 0.01 });
 * const { loss, lossGrads, grads } = awl.forward([ceLoss, crfNll]);
 * // scale each task's gradients by lossGrads[i], then adam.step({ ...taskGrads, ...grads })
 */
export class AutomaticWeightedLoss {
  /** The learnable p, length n, updated in place by an optimizer. */
  readonly params: Float32Array;

  /**
   * @param n the number of losses combined, a positive integer.
   * @throws CRFInputError for a bad `n`.
   */
  constructor(n = 2) {
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_LOSSES) throw new CRFInputError('n', `an integer in [1, ${MAX_LOSSES}]`, describe(n));
    this.params = new Float32Array(n).fill(1);
  }

  /** The live parameter array under the key `params` (torch's name), for {@link Adam}. */
  parameters(): {
    /** The n learnable p_i, updated in place by an optimizer. */
    params: Float32Array;
  } {
    return { params: this.params };
  }

  /**
   * Combines the losses and gives the gradients with respect to each loss and to p.
   * @param losses n finite numbers (the current values of the task losses).
   * @throws CRFInputError for the wrong count or a non-finite loss; for a p at which a result would not
   *   be finite (0, NaN, ±Infinity, or so close to 0 that ∂loss/∂p = −L/p³ overflows the float32
   *   `grads.params`), naming `params[i]`; and for losses whose weighted sum overflows.
   */
  forward(losses: ArrayLike<number>): WeightedLossResult {
    const n = this.params.length;
    const L = reading('losses', () => {
      const len = isArrayLike(losses) ? losses.length : -1;
      if (len !== n) throw new CRFInputError('losses', `${n} numbers`, describe(losses));
      return numbersOf(losses, 'losses', n);
    });
    let loss = 0;
    const lossGrads: number[] = [];
    const gp = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const p = this.params[i];
      const Li = L[i];
      if (!Number.isFinite(Li)) throw new CRFInputError('losses', `a finite number at [${i}]`, describe(Li));
      const p2 = p * p;
      const weight = 0.5 / p2;
      const term = weight * Li + Math.log1p(p2);
      const dp = -Li / (p2 * p) + (2 * p) / (1 + p2);
      if (p === 0 || !Number.isFinite(weight) || !Number.isFinite(term) || !Number.isFinite(Math.fround(dp))) {
        const overflow = Number.isFinite(dp) ? `∂loss/∂p = ${describe(dp)} overflows float32` : 'the results overflow';
        // With |p| ≥ 1 the weighting only shrinks the loss: the loss is what is too large.
        if (Number.isFinite(p) && Math.abs(p) >= 1) {
          throw new CRFInputError(
            'losses',
            `a loss at [${i}] whose weighted value and gradient (a float32) are finite`,
            `${describe(Li)} (with p = ${describe(p)}), where ${overflow}`,
          );
        }
        const why =
          p === 0
            ? 'where 0.5 / p² is undefined'
            : !Number.isFinite(p)
              ? 'which is no weight'
              : `where ${overflow}: p is too close to 0 for this loss (lower the learning rate, or keep p away from 0)`;
        throw new CRFInputError(
          `params[${i}]`,
          'a p at which 0.5 / p² · L + log(1 + p²) and its gradient −L / p³ + 2p / (1 + p²) (a float32) are finite',
          `${describe(p)} with losses[${i}] = ${describe(Li)}, ${why}`,
        );
      }
      // |term| = |p · dp / 2| (up to log1p) ≤ 6e76 with dp a finite float32: n ≤ 2^16 of them cannot overflow.
      loss += term;
      lossGrads.push(weight);
      gp[i] = dp;
    }
    return { loss, lossGrads, grads: { params: gp } };
  }
}
