// The seed's training helpers over tf tensors: what webcrf's AutomaticWeightedLoss and clipGradNorm
// compute, with tfjs's autograd doing the gradients.
import * as tf from '@tensorflow/tfjs-core';
import { CRFInputError } from '../index.js';
import { isTensor } from './inputs.js';

let instances = 0;

/**
 * Automatic weighting of several task losses by learned uncertainty, over tf scalars (the core's
 * `AutomaticWeightedLoss` in tfjs form): `loss = Σ_i 0.5 / p_i² · L_i + log(1 + p_i²)`, with `p` a
 * trainable tf variable initialised to 1, trained by the same optimizer as the losses' models.
 *
 * @example
 * const awl = new AutomaticWeightedLoss(2);
 * optimizer.minimize(() => awl.forward([crossEntropy, crf.forward(emissions, tags).neg()]));
 */
export class AutomaticWeightedLoss {
  /** The learnable p, `[n]`, named `webcrfAwl<n>/params`. */
  readonly params: tf.Variable<tf.Rank.R1>;

  /**
   * @param n the number of losses combined, a positive integer.
   * @throws `CRFInputError` for a bad `n`.
   */
  constructor(n = 2) {
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 65536) throw new CRFInputError('n', 'an integer in [1, 65536]', String(n));
    this.params = tf.tidy(() => tf.variable<tf.Rank.R1>(tf.ones([n]), true, `webcrfAwl${++instances}/params`));
  }

  /**
   * The weighted sum of the losses, a tf scalar, differentiable with respect to each loss and to p.
   * @param losses n tf scalars.
   * @throws `CRFInputError` for the wrong count or a loss that is not a scalar tensor.
   */
  forward(losses: readonly tf.Tensor[]): tf.Scalar {
    const n = this.params.shape[0];
    if (!Array.isArray(losses) || losses.length !== n)
      throw new CRFInputError('losses', `${n} tf scalars`, Array.isArray(losses) ? `${losses.length}` : typeof losses);
    losses.forEach((l: unknown, i) => {
      if (!isTensor(l)) throw new CRFInputError('losses', `a tf scalar at [${i}]`, typeof l);
      if (l.shape.length !== 0) throw new CRFInputError('losses', `a tf scalar at [${i}]`, `a tensor of shape [${l.shape.join(', ')}]`);
    });
    return tf.tidy(() => {
      const p2 = tf.square(this.params);
      const L = tf.stack(losses as tf.Tensor[]);
      return tf.sum<tf.Scalar>(tf.add(tf.div(L, tf.mul(p2, 2)), tf.log1p(p2)));
    });
  }

  /** Disposes the variable. */
  dispose(): void {
    this.params.dispose();
  }
}

/**
 * Clips gradients by their global norm, as TensorFlow's `clip_by_global_norm` and PyTorch's
 * `clip_grad_norm_`: every gradient is scaled by `maxNorm / max(norm, maxNorm)`, where norm is the L2
 * norm of all of them together (a tagger's and a CRF's alike).
 * @param grads gradients by name, as `tf.variableGrads` returns them (and `optimizer.applyGradients` takes).
 * @param maxNorm the largest norm let through, a positive number.
 * @returns new tensors under the same names, and the norm before clipping (a tf scalar); the caller
 *   disposes them and the inputs (e.g. inside `tf.tidy`).
 * @throws `CRFInputError` for a `maxNorm` that is not a positive finite number or a gradient
 *   that is not a tf tensor.
 */
export function clipByGlobalNorm(
  grads: Record<string, tf.Tensor>,
  maxNorm: number,
): {
  /** The clipped gradients, new tensors under the input's names. */
  grads: Record<string, tf.Tensor>;
  /** The global norm before clipping. */
  norm: tf.Scalar;
} {
  if (typeof maxNorm !== 'number' || !(maxNorm > 0) || !Number.isFinite(maxNorm))
    throw new CRFInputError('maxNorm', 'a positive finite number', String(maxNorm));
  for (const [k, g] of Object.entries(grads)) if (!(g instanceof tf.Tensor)) throw new CRFInputError(`grads.${k}`, 'a tf.Tensor', typeof g);
  return tf.tidy(() => {
    const names = Object.keys(grads);
    const norm = names.length ? tf.sqrt<tf.Scalar>(tf.addN(names.map((k) => tf.sum(tf.square(grads[k]))))) : tf.scalar(0);
    const scale = tf.div(maxNorm, tf.maximum(norm, maxNorm));
    const out: Record<string, tf.Tensor> = {};
    for (const k of names) out[k] = tf.mul(grads[k], scale);
    return { grads: out, norm };
  });
}
