// Adam, step for step as torch.optim.Adam. Gradients here are values, not accumulators: whatever produced
// them (a CRF's forwardBackward, crossEntropy, your own chain rule) hands a fresh record to `step`, so
// there is no zeroGrad.
import { CRFInputError, describe, reading } from '../errors.js';
import { isArrayLike } from '../call/inputs.js';
import { readOptions } from '../call/options.js';
import { type Span, overlaps, spanOf } from '../call/spans.js';
import { typedArrayKind, typedLength, viewBytes } from '../call/typed.js';
import { finiteNumber, numbersOf } from './numbers.js';

/** A named set of parameter arrays, e.g. `crf.parameters()` (interfaces welcome: no index signature needed). */
export type ParamRecord<P = Record<string, unknown>> = { [K in keyof P]: Float32Array | Float64Array };

/** Gradients for the parameters `P`: an array under each of its keys; further keys are allowed. */
export type GradRecord<P = Record<string, unknown>> = { readonly [K in keyof P]: ArrayLike<number> };

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
