// The demo's model: a tfjs tagger (each word's window, the word and the two before it, embedded, with
// its capitalisation, through a tanh layer to a dense layer that scores the tags) under webcrf/tfjs's
// CRF, trained together by one tfjs Adam: each step is one optimizer.minimize of the CRF's negative
// log-likelihood, whose gradient tfjs's tape carries through crf.forward into the tagger. This module
// is the one place to swap the model; main.js uses only the members it returns.
//
// tfjs runs on its 'cpu' backend: a tagger this small is bound by per-op dispatch, which a GPU backend
// only adds to.
import * as tf from '@tensorflow/tfjs';
import { CRF } from 'webcrf/tfjs';
import { LABELS, UNK, vocabulary } from './task.js';

/** The window the tagger sees: the word and the two before it (none after, as a reader left to right). */
const WINDOW = 3;

/**
 * The words of each window, embedded and laid side by side: ids `[B, T, WINDOW]` to `[B, T, WINDOW * dim]`.
 * It is tf.layers.embedding with another gradient: tfjs's for a gather (unsortedSegmentSum) makes, on
 * the cpu backend, one masked pass over the batch per word of the vocabulary; tf.scatterND sums the
 * rows into the words they came from in one pass.
 */
export class WindowEmbedding extends tf.layers.Layer {
  static className = 'WindowEmbedding';

  /** @param {{ inputDim: number, outputDim: number, seed: number }} config */
  constructor({ inputDim, outputDim, seed }) {
    super({});
    this.inputDim = inputDim;
    this.outputDim = outputDim;
    this.seed = seed;
    /** @type {tf.LayerVariable | null} */
    this.embeddings = null;
  }

  build() {
    const init = tf.initializers.randomUniform({ minval: -0.05, maxval: 0.05, seed: this.seed });
    this.embeddings = this.addWeight('embeddings', [this.inputDim, this.outputDim], 'float32', init);
    this.built = true;
  }

  /** @param {tf.Shape | tf.Shape[]} shape */
  computeOutputShape(shape) {
    const [b, t, w] = /** @type {tf.Shape} */ (shape);
    return [b, t, w === null ? null : w * this.outputDim];
  }

  /** @param {tf.Tensor | tf.Tensor[]} inputs */
  call(inputs) {
    const ids = Array.isArray(inputs) ? inputs[0] : inputs;
    const [b, t, w] = ids.shape;
    const D = this.outputDim,
      V = this.inputDim;
    const rows = tf.reshape(ids, [-1, 1]);
    const lookup = tf.customGrad((...args) => ({
      value: tf.reshape(tf.gather(/** @type {tf.Tensor} */ (args[0]), tf.reshape(rows, [-1])), [b, t, w * D]),
      gradFunc: (dy) => tf.scatterND(rows, tf.reshape(dy, [-1, D]), [V, D]),
    }));
    return /** @type {tf.Tensor} */ (lookup(/** @type {tf.LayerVariable} */ (this.embeddings).read()));
  }
}

/**
 * A padded batch: each word's window as word ids and capitalisation `[B, T, WINDOW]` for the tagger,
 * tags and mask `[B, T]` as the CRF takes them (tags -1 and mask 0 past a sentence's end).
 * @typedef {{ B: number, T: number, ids: Int32Array, caps: Float32Array,
 *   tags: { data: Int32Array, shape: number[] }, mask: { data: Uint8Array, shape: number[] } }} Batch
 */
/**
 * @typedef {{ crf: CRF, vocab: Map<string, number>, optimizer: string, backend: string,
 *   encode: (sentences: import('./task.js').Sentence[], rand?: (() => number) | null, dropout?: number) => Batch,
 *   step: (batch: Batch) => Promise<number>, emissions: (batch: Batch) => { data: Float32Array, shape: number[] },
 *   liveTensors: () => number }} Model
 *   `encode` turns sentences into a padded batch (`dropout` replaces words by the unknown word at random,
 *   so that its embedding learns what an unseen word looks like); `step` trains on one and returns its
 *   loss (nats per token); `emissions` are the tagger's scores under the CRF; `vocab` the words seen in
 *   training; `backend` where the tagger runs; `liveTensors` how many tensors tfjs holds.
 */

/**
 * @param {import('./task.js').Sentence[]} trainSet
 * @returns {Promise<Model>}
 */
export async function createModel(trainSet) {
  await tf.setBackend('cpu');
  const vocab = new Map(vocabulary(trainSet).map((w, i) => /** @type {[string, number]} */ ([w, i])));
  if (!vocab.has(UNK)) vocab.set(UNK, vocab.size);
  const unk = /** @type {number} */ (vocab.get(UNK));
  // Not a word: what the window of a sentence's first words holds before them.
  const start = vocab.size;
  const K = LABELS.length;

  // Two dense layers over the window: its embedded words (one matrix) and its capitalisation (another),
  // added before the tanh; the sum instead of a concatenation, whose gradient (a split) is slow on
  // tfjs's cpu backend.
  const ids = tf.input({ shape: [null, WINDOW], dtype: 'int32', name: 'ids' });
  const caps = tf.input({ shape: [null, WINDOW], name: 'caps' });
  const words = new WindowEmbedding({ inputDim: vocab.size + 1, outputDim: 8, seed: 1 }).apply(ids);
  const fromWords = tf.layers.dense({ units: 16, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }).apply(words);
  const fromCaps = tf.layers.dense({ units: 16, useBias: false, kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }).apply(caps);
  const hidden = tf.layers
    .activation({ activation: 'tanh' })
    .apply(tf.layers.add().apply([/** @type {tf.SymbolicTensor} */ (fromWords), /** @type {tf.SymbolicTensor} */ (fromCaps)]));
  const scores = tf.layers.dense({ units: K, kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }).apply(hidden);
  const tagger = tf.model({ inputs: [ids, caps], outputs: /** @type {tf.SymbolicTensor} */ (scores) });

  const crf = await CRF.create(K, { seed: 7 });
  const optimizer = tf.train.adam(0.05);

  /** The tagger's inputs as tensors. @param {Batch} batch */
  const inputs = (batch) => [tf.tensor3d(batch.ids, [batch.B, batch.T, WINDOW], 'int32'), tf.tensor3d(batch.caps, [batch.B, batch.T, WINDOW])];

  return {
    crf,
    vocab,
    optimizer: 'tfjs Adam (lr 0.05)',
    backend: `tfjs ${tf.getBackend()}`,
    encode(sentences, rand = null, dropout = 0) {
      const T = Math.max(...sentences.map((s) => s.words.length));
      const B = sentences.length;
      // Past a sentence's end the windows hold the unknown word: the mask hides them from the CRF.
      const ids = new Int32Array(B * T * WINDOW).fill(unk),
        caps = new Float32Array(B * T * WINDOW);
      const tags = new Int32Array(B * T).fill(-1),
        mask = new Uint8Array(B * T);
      sentences.forEach((s, b) => {
        const id = s.words.map((w) => (rand && rand() < dropout ? unk : (vocab.get(w) ?? unk)));
        const cap = s.words.map((w) => (w[0] >= 'A' && w[0] <= 'Z' ? 1 : 0));
        s.words.forEach((_, t) => {
          // Window slot WINDOW - 1 is the word itself, slot 0 the word WINDOW - 1 before it.
          for (let k = 0; k < WINDOW; k++) {
            const u = t - (WINDOW - 1) + k;
            ids[(b * T + t) * WINDOW + k] = u < 0 ? start : id[u];
            caps[(b * T + t) * WINDOW + k] = u < 0 ? 0 : cap[u];
          }
          tags[b * T + t] = s.tags[t];
          mask[b * T + t] = 1;
        });
      });
      return { B, T, ids, caps, tags: { data: tags, shape: [B, T] }, mask: { data: mask, shape: [B, T] } };
    },
    async step(batch) {
      const x = inputs(batch);
      const tags = tf.tensor2d(batch.tags.data, [batch.B, batch.T], 'int32');
      const mask = tf.tensor2d(batch.mask.data, [batch.B, batch.T], 'bool');
      const loss = optimizer.minimize(
        () =>
          /** @type {tf.Scalar} */ (crf.forward(/** @type {tf.Tensor} */ (tagger.apply(x, { training: true })), tags, { mask, reduction: 'token_mean' }).neg()),
        true,
      );
      tf.dispose([...x, tags, mask]);
      // returnCost is true: minimize returns the loss.
      const value = (await /** @type {tf.Scalar} */ (loss).data())[0];
      /** @type {tf.Scalar} */ (loss).dispose();
      return value;
    },
    emissions(batch) {
      const em = tf.tidy(() => /** @type {tf.Tensor} */ (tagger.predict(inputs(batch))));
      const data = /** @type {Float32Array} */ (em.dataSync());
      em.dispose();
      return { data, shape: [batch.B, batch.T, K] };
    },
    liveTensors: () => tf.memory().numTensors,
  };
}
