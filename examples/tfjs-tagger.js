// The seed's training in TensorFlow.js: an embedding + BiLSTM tagger (tf.layers) whose emissions feed
// webcrf's CRF, trained together by one Adam optimizer on
//
//   loss = AutomaticWeightedLoss(tagger's token cross-entropy, CRF negative log-likelihood)
//
// with the gradients of the tagger and the CRF clipped by their global norm. One tagger pass per step:
// `crf.forward` is synchronous and differentiable, so tfjs's tape sees the whole chain.
//
// The task: BIO tagging of PER and LOC spans in sentences of word ids. Names are ambiguous (most
// occur in both kinds of span), and the kind is shown by a cue word before the span only most of the
// time, so the tagger alone often mislabels part of a span; the CRF's transitions keep a span's tags
// of one kind. Seeded data; runs on tfjs's cpu backend (its wasm backend has no gradient for the
// embedding).
import * as tf from '@tensorflow/tfjs';
import { AutomaticWeightedLoss, CRF, clipByGlobalNorm } from 'webcrf/tfjs';
import { generator } from './random.js';

await tf.setBackend('cpu');

const TAGS = ['O', 'B-PER', 'I-PER', 'B-LOC', 'I-LOC'];
const K = TAGS.length;
const T = 10;
// Word ids: 0 pads; 1–12 ordinary words; 13 and 14 cue a PER or a LOC span; 15–18 PER-only names,
// 19–22 LOC-only names, 23–34 names of either kind.
const VOCAB = 35;
const rng = generator(20);
const pick = (/** @type {number} */ from, /** @type {number} */ n) => from + Math.floor(rng.next() * n);

/** @param {number} n */
function makeData(n) {
  const ids = new Int32Array(n * T);
  const tags = new Int32Array(n * T);
  const mask = new Int32Array(n * T);
  for (let s = 0; s < n; s++) {
    const len = 6 + Math.floor(rng.next() * (T - 5));
    let t = 0;
    const put = (/** @type {number} */ id, /** @type {number} */ tag) => {
      if (t < len) [ids[s * T + t], tags[s * T + t], mask[s * T + t++]] = [id, tag, 1];
    };
    while (t < len) {
      if (rng.next() < 0.3 && t + 2 < len) {
        const loc = rng.next() < 0.5;
        const cue = rng.next() < 0.7;
        put(cue ? (loc ? 14 : 13) : pick(1, 12), 0);
        const spanLen = 1 + Math.floor(rng.next() * 3);
        for (let i = 0; i < spanLen; i++) {
          const own = rng.next() < 0.25;
          put(own ? pick(loc ? 19 : 15, 4) : pick(23, 12), (loc ? 3 : 1) + (i > 0 ? 1 : 0));
        }
      } else {
        put(pick(1, 12), 0);
      }
    }
  }
  return { n, ids: tf.tensor2d(ids, [n, T], 'int32'), tags: tf.tensor2d(tags, [n, T], 'int32'), mask: tf.tensor2d(mask, [n, T], 'int32') };
}

const train = makeData(160);
const test = makeData(120);

const init = (/** @type {number} */ seed) => tf.initializers.glorotUniform({ seed });
const tagger = tf.sequential({
  layers: [
    tf.layers.embedding({
      inputDim: VOCAB,
      outputDim: 16,
      inputLength: T,
      embeddingsInitializer: tf.initializers.randomUniform({ minval: -0.05, maxval: 0.05, seed: 1 }),
    }),
    tf.layers.bidirectional({
      layer: tf.layers.lstm({ units: 12, returnSequences: true, kernelInitializer: init(2), recurrentInitializer: tf.initializers.orthogonal({ seed: 3 }) }),
      mergeMode: 'concat',
    }),
    tf.layers.timeDistributed({ layer: tf.layers.dense({ units: K, kernelInitializer: init(4) }) }),
  ],
});
const crf = await CRF.create(K, { seed: 5 });
const awl = new AutomaticWeightedLoss(2);
const optimizer = tf.train.adam(0.03);

/**
 * The joint loss of a batch: the tagger's masked token cross-entropy and the CRF's NLL, weighted.
 * @param {tf.Tensor} ids @param {tf.Tensor} tags @param {tf.Tensor} mask
 */
function loss(ids, tags, mask) {
  const emissions = /** @type {tf.Tensor} */ (tagger.apply(ids, { training: true }));
  const ce = tf.losses.softmaxCrossEntropy(tf.oneHot(tags, K), emissions, tf.cast(mask, 'float32'));
  const nll = tf.neg(crf.forward(emissions, tags, { mask, reduction: 'mean' }));
  return awl.forward([ce, nll]);
}

/**
 * One Adam step on a batch: the tagger's and the CRF's gradients clipped together to norm 5 (the
 * trainable variables are the tagger's, the CRF's and the loss weights').
 * @param {tf.Tensor} ids @param {tf.Tensor} tags @param {tf.Tensor} mask
 */
function step(ids, tags, mask) {
  return tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => loss(ids, tags, mask));
    const { [awl.params.name]: awlGrad, ...model } = grads;
    const { grads: clipped } = clipByGlobalNorm(model, 5);
    optimizer.applyGradients([...Object.entries(clipped).map(([name, tensor]) => ({ name, tensor })), { name: awl.params.name, tensor: awlGrad }]);
    return value.dataSync()[0];
  });
}

/** Token accuracy on the held-out set: the tagger's argmax, and the CRF's Viterbi paths. */
async function accuracy() {
  const emissions = /** @type {tf.Tensor} */ (tagger.predict(test.ids));
  const best = tf.argMax(emissions, -1);
  const argmax = /** @type {number[][]} */ (await best.array());
  best.dispose();
  const paths = await crf.decode(emissions, { mask: test.mask });
  const gold = /** @type {number[][]} */ (await test.tags.array());
  const mask = /** @type {number[][]} */ (await test.mask.array());
  emissions.dispose();
  let on = 0,
    rightArgmax = 0,
    rightCrf = 0;
  for (let s = 0; s < test.n; s++) {
    for (let t = 0; t < T; t++) {
      if (!mask[s][t]) continue;
      on++;
      if (argmax[s][t] === gold[s][t]) rightArgmax++;
      if (paths[s][t] === gold[s][t]) rightCrf++;
    }
  }
  return { argmax: rightArgmax / on, crf: rightCrf / on };
}

const BATCH = 32;
for (let epoch = 1; epoch <= 8; epoch++) {
  let sum = 0;
  for (let b = 0; b < train.n; b += BATCH) {
    const [ids, tags, mask] = [train.ids, train.tags, train.mask].map((x) => x.slice([b, 0], [BATCH, T]));
    sum += step(ids, tags, mask);
    tf.dispose([ids, tags, mask]);
  }
  const acc = epoch % 4 === 0 ? await accuracy() : null;
  console.log(
    `epoch ${epoch}: loss ${(sum / (train.n / BATCH)).toFixed(4)}${acc ? `, held-out accuracy argmax ${acc.argmax.toFixed(3)}, CRF ${acc.crf.toFixed(3)}` : ''}`,
  );
}
const acc = await accuracy();
console.log(`tensors: ${tf.memory().numTensors}`);
console.log(`held-out token accuracy: emissions argmax ${acc.argmax.toFixed(3)}, CRF decode ${acc.crf.toFixed(3)}`);
