// The demo's model: the linear tagger of task.js under a CRF, both trained by Adam on the gradients of
// crf.forwardBackward (the tagger's through its emission gradients). This module is the one place to
// swap the model: a tfjs tagger trained through webcrf/tfjs (one optimizer.minimize per step) only
// has to return the same members; main.js uses nothing else of it.
import { LABELS, LinearTagger, vocabulary } from './task.js';

/**
 * @typedef {ReturnType<LinearTagger['encode']>} Batch
 * @typedef {{ crf: import('webcrf').CRF, vocab: Map<string, number>, optimizer: string,
 *   encode: LinearTagger['encode'], step: (batch: Batch) => Promise<number>,
 *   emissions: (batch: Batch) => { data: Float32Array, shape: number[] } }} Model
 *   `encode` turns sentences into a padded batch; `step` trains on one and returns its loss (nats per
 *   token); `emissions` are the tagger's scores under the CRF; `vocab` the words seen in training.
 */

/**
 * @param {typeof import('webcrf')} lib the package
 * @param {import('./task.js').Sentence[]} trainSet
 * @returns {Promise<Model>}
 */
export async function createModel(lib, trainSet) {
  const tagger = new LinearTagger(vocabulary(trainSet), LABELS.length);
  const crf = await lib.CRF.create(LABELS.length, { seed: 7 });
  const params = { ...crf.parameters(), ...tagger.weights };
  // maximize: the CRF hands back gradients of the log-likelihood.
  const opt = new lib.Adam(params, { lr: 0.05, maximize: true });
  return {
    crf,
    vocab: tagger.vocab,
    optimizer: 'Adam (lr 0.05)',
    encode: (sentences, rand, dropout) => tagger.encode(sentences, rand, dropout),
    emissions: (batch) => tagger.emissions(batch),
    async step(batch) {
      const { logLikelihood, grads } = await crf.forwardBackward(tagger.emissions(batch), batch.tags, { mask: batch.mask, reduction: 'token_mean' });
      opt.step({ ...grads, ...tagger.backward(batch, grads.emissions) });
      return -logLikelihood;
    },
  };
}
