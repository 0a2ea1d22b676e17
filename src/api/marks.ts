/**
 * Objects the package handed out and recognises when they come back: the `grads` that
 * `CRF.forwardBackward` returns, so that the training helpers can tell its `emissions` gradient (which
 * flows back into the tagger and is no parameter) from the gradients of parameters. WeakSets: nothing
 * shows on the objects, and a mark never keeps one alive.
 */

const records = new WeakSet<object>();
const emissionGradients = new WeakSet<object>();

/** Marks a `grads` record of `forwardBackward`, and its `emissions` array; returns the record. */
export function markGradients<G extends { emissions: Float32Array }>(grads: G): G {
  records.add(grads);
  emissionGradients.add(grads.emissions);
  return grads;
}

/** Whether `x` is a `grads` record that `forwardBackward` returned. */
export function isCRFGradients(x: unknown): boolean {
  return typeof x === 'object' && x !== null && records.has(x);
}

/** Whether `x` is the `emissions` array of such a record, wherever it is found now. */
export function isEmissionsGradient(x: unknown): boolean {
  return typeof x === 'object' && x !== null && emissionGradients.has(x);
}
