// Automatic (uncertainty) weighting of several task losses.
import { CRFInputError, describe, reading } from '../errors.js';
import { isArrayLike } from '../call/inputs.js';
import { MAX_LOSSES } from '../limits.js';
import { numbersOf } from './numbers.js';

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
