import { CRFInputError, describe, reading, shapeStr } from './errors.js';
import { claimedRank, isArrayLike, readEach, readFinite } from './inputs.js';
import { MAX_LOSSES } from './limits.js';
import { readOptions } from './options.js';

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
  readonly #params: [string, Float32Array | Float64Array][];
  readonly #m = new Map<string, Float64Array>();
  readonly #v = new Map<string, Float64Array>();
  readonly #vMax = new Map<string, Float64Array>();
  #t = 0;

  /**
   * @param params named arrays updated in place by {@link Adam.step}, e.g. `crf.parameters()` or
   *   `{ ...crf.parameters(), weight, bias }`; at least one.
   * @param options see {@link AdamOptions}.
   * @throws CRFInputError for params that are not a non-empty record of Float32Array/Float64Array,
   *   or an option out of range.
   */
  constructor(params: P, options: AdamOptions = {}) {
    const entries = reading('params', () => {
      if (params === null || typeof params !== 'object' || Array.isArray(params)) {
        throw new CRFInputError('params', 'a record of Float32Array or Float64Array', describe(params));
      }
      return Object.entries(params);
    });
    if (entries.length === 0) throw new CRFInputError('params', 'at least one parameter array', 'an empty record');
    for (const [k, a] of entries) {
      if (!(a instanceof Float32Array) && !(a instanceof Float64Array)) {
        throw new CRFInputError(`params.${k}`, 'a Float32Array or Float64Array (updated in place)', describe(a));
      }
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
    this.#params = entries as [string, Float32Array | Float64Array][];
    for (const [k, a] of this.#params) {
      this.#m.set(k, new Float64Array(a.length));
      this.#v.set(k, new Float64Array(a.length));
      if (amsgrad) this.#vMax.set(k, new Float64Array(a.length));
    }
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
   * One update of every parameter. All gradients are checked before any parameter changes.
   * @param grads for every parameter key, an array of the same length with finite values; keys that
   *   are not parameters (such as a CRF's `emissions` gradient) are ignored.
   * @throws CRFInputError for a missing key, a length mismatch or a non-finite gradient.
   */
  step(grads: GradRecord<P>): void {
    if (grads === null || typeof grads !== 'object') throw new CRFInputError('grads', 'a record of gradient arrays', describe(grads));
    // Each gradient value is read once, into a copy that is checked and then used.
    const copies = this.#params.map(([k, p]) => readGradient((grads as Record<string, unknown>)[k], `grads.${k}`, p.length));
    this.#t += 1;
    const [b1, b2] = this.betas;
    const bc1 = 1 - b1 ** this.#t;
    const bc2Sqrt = Math.sqrt(1 - b2 ** this.#t);
    const stepSize = this.lr / bc1;
    const sign = this.maximize ? -1 : 1;
    this.#params.forEach(([k, p], n) => {
      const g = copies[n];
      const m = this.#m.get(k)!;
      const v = this.#v.get(k)!;
      const vMax = this.#vMax.get(k);
      for (let i = 0; i < p.length; i++) {
        // A −Infinity parameter is a forbidden transition (its gradient is 0): it stays forbidden.
        if (p[i] === -Infinity) continue;
        const gi = sign * g[i] + this.weightDecay * p[i];
        m[i] = b1 * m[i] + (1 - b1) * gi;
        v[i] = b2 * v[i] + (1 - b2) * gi * gi;
        let second = v[i];
        if (vMax) second = vMax[i] = Math.max(vMax[i], v[i]);
        p[i] -= (stepSize * m[i]) / (Math.sqrt(second) / bc2Sqrt + this.eps);
      }
    });
  }
}

/** n finite numbers of `g`, each read once into a Float64Array, or CRFInputError naming `arg`. */
function readGradient(g: unknown, arg: string, n: number | null): Float64Array {
  return reading(arg, () => {
    if (!isArrayLike(g)) throw new CRFInputError(arg, n === null ? 'an array of numbers' : `an array of length ${n} (one per parameter)`, describe(g));
    const len = g.length;
    if (n !== null && len !== n) throw new CRFInputError(arg, `length ${n}`, `length ${describe(len)}`);
    // Gathered as read: a sparse array claiming 2^32 entries fails at its first hole, unallocated.
    const out: number[] = [];
    for (let i = 0; i < len; i++) {
      const v = g[i];
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new CRFInputError(arg, `a finite number at [${i}]`, describe(v));
      out.push(v);
    }
    return Float64Array.from(out);
  });
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
 * Unlike torch (whose `error_if_nonfinite` defaults to false), a non-finite gradient throws rather than
 * turning every gradient into NaN.
 *
 * Pass only the gradients of what is trained: a CRF's `forwardBackward` grads also hold `emissions`,
 * which is no parameter, so e.g. `const { emissions, ...params } = grads; clipGradNorm(params, 5)`.
 *
 * @param grads a record or list of gradient arrays (Float32Array, Float64Array or number[]), scaled in place.
 * @param maxNorm the largest total norm allowed, a finite number ≥ 0.
 * @returns the total norm before clipping.
 * @throws CRFInputError for a bad `grads`, `maxNorm` or `normType`, or a non-finite gradient value.
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
  const entries: [string, MutableNumbers][] = reading('grads', () => {
    if (!Array.isArray(grads)) return Object.entries(grads as Record<string, MutableNumbers>);
    // A loop, not map: a sparse or Proxy list stops at its first entry that is no gradient array.
    const list: [string, MutableNumbers][] = [];
    for (let i = 0; i < grads.length; i++) {
      const g: unknown = grads[i];
      if (!isArrayLike(g)) throw new CRFInputError(`grads[${i}]`, 'a Float32Array, Float64Array or number[] (scaled in place)', describe(g));
      list.push([`[${i}]`, g as MutableNumbers]);
    }
    return list;
  });
  const values = entries.map(([k, g]) => {
    const arg = `grads${k.startsWith('[') ? k : '.' + k}`;
    if (!(g instanceof Float32Array) && !(g instanceof Float64Array) && !Array.isArray(g)) {
      throw new CRFInputError(arg, 'a Float32Array, Float64Array or number[] (scaled in place)', describe(g));
    }
    return readGradient(g, arg, null);
  });
  // The norm of x/s times s. For p ≤ 64, s is the power of two at or above the largest |x| (dividing by
  // it is exact, and every (x/s)^p lies in [2^-64, 1] for the largest), else s is the largest |x|
  // itself: no power of a finite gradient overflows (3e200 squared would) or underflows the norm to 0.
  let top = 0;
  for (const g of values) for (let i = 0; i < g.length; i++) top = Math.max(top, Math.abs(g[i]));
  let total = top;
  if (top > 0 && normType !== Infinity) {
    const s = normType <= 64 ? 2 ** Math.ceil(Math.log2(top)) : top;
    let sum = 0;
    for (const g of values) for (let i = 0; i < g.length; i++) sum += (Math.abs(g[i]) / s) ** normType;
    total = s * sum ** (1 / normType);
  }
  const coef = maxNorm / (total + 1e-6);
  if (coef < 1) {
    entries.forEach(([, g], n) => {
      const v = values[n];
      for (let i = 0; i < v.length; i++) g[i] = v[i] * coef;
    });
  }
  return total;
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
  const lg = readFinite(logits, rank, 'logits');
  const C = lg.shape[rank - 1];
  const lead = lg.shape.slice(0, -1);
  const N = lead.reduce((a, b) => a * b, 1);
  if (N > 0 && C === 0) throw new CRFInputError('logits', 'at least one class', `shape ${shapeStr(lg.shape)}`);
  const want = `shape ${shapeStr(lead)} to match logits ${shapeStr(lg.shape)}`;
  const y = new Int32Array(N);
  let count = 0;
  readEach(
    labels,
    rank - 1,
    'labels',
    (shape) => {
      if (shape.some((d, i) => d !== lead[i]) && !(N === 0 && shape[0] === 0)) throw new CRFInputError('labels', want, `shape ${shapeStr(shape)}`);
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
   * @throws CRFInputError for the wrong count or a non-finite loss; Error if a p has reached 0, where
   *   the weighting is undefined.
   */
  forward(losses: ArrayLike<number>): WeightedLossResult {
    const n = this.params.length;
    const L = reading('losses', () => {
      if (!isArrayLike(losses) || losses.length !== n) throw new CRFInputError('losses', `${n} numbers`, describe(losses));
      return readGradient(losses, 'losses', n);
    });
    let loss = 0;
    const lossGrads: number[] = [];
    const gp = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const p = this.params[i];
      if (p === 0) throw new Error(`AutomaticWeightedLoss: params[${i}] is 0, where 0.5 / p² is undefined`);
      const p2 = p * p;
      loss += (0.5 / p2) * L[i] + Math.log1p(p2);
      lossGrads.push(0.5 / p2);
      gp[i] = -L[i] / (p2 * p) + (2 * p) / (1 + p2);
    }
    return { loss, lossGrads, grads: { params: gp } };
  }
}
