// The CRF's share of a tfjs BiLSTM-CRF training step on tfjs's cpu backend: webcrf/tfjs (one tagger
// pass, one optimizer, crf.forward differentiated by tfjs) against the glue a user wrote before it
// (the tagger run for the emissions, `await t.data()`, the core's forwardBackward, the tagger run again
// under tf.variableGrads with the emission gradient put in by a customGrad, the CRF's parameters
// stepped by a second optimizer). The CRF's share is a step's time minus that of the same step with
// the tagger's cross-entropy alone, over the step's time. The vocabulary is kept small: tfjs's cpu
// kernel for the embedding's gradient takes time in proportion to it. Run `npm run build` first.
//   node bench/tfjs-step.js [--shape=32x20x9] [--steps=20] [--vocab=64]
import * as tf from '@tensorflow/tfjs';
import { Adam, CRF as CoreCRF } from 'webcrf';
import { CRF } from 'webcrf/tfjs';
import { generator } from '../examples/random.js';

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
const [B, T, K] = (args.shape ?? '32x20x9').split('x').map(Number);
const STEPS = Number(args.steps ?? 20);
// tfjs's wasm backend has no gradient kernel for the embedding (UnsortedSegmentSum): cpu only.
const backend = 'cpu';
await tf.setBackend(backend);
const VOCAB = Number(args.vocab ?? 64),
  EMB = 32,
  UNITS = 32;

const rng = generator(1);
const ids = tf.tensor2d(
  Int32Array.from({ length: B * T }, () => Math.floor(rng.next() * VOCAB)),
  [B, T],
  'int32',
);
const tagsArr = Int32Array.from({ length: B * T }, () => Math.floor(rng.next() * K));
const tags = tf.tensor2d(tagsArr, [B, T], 'int32');
const mask = tf.ones([B, T], 'int32');

function makeTagger() {
  return tf.sequential({
    layers: [
      tf.layers.embedding({ inputDim: VOCAB, outputDim: EMB, inputLength: T }),
      tf.layers.bidirectional({ layer: tf.layers.lstm({ units: UNITS, returnSequences: true }) }),
      tf.layers.timeDistributed({ layer: tf.layers.dense({ units: K }) }),
    ],
  });
}
/** The model's emissions for the batch, in training mode. @param {tf.Sequential} m @returns {tf.Tensor} */
const emissionsOf = (m) => /** @type {tf.Tensor} */ (m.apply(ids, { training: true }));
/** Every trainable weight of the model. @param {tf.Sequential} m */
const varsOf = (m) => m.trainableWeights.map((w) => /** @type {tf.Variable} */ (/** @type {unknown} */ (w.read())));

/**
 * Median ms per step of each variant, after two warm-up steps each. The variants take turns step by
 * step, so that a change in the machine's load falls on all of them alike.
 * @param {(() => unknown)[]} steps
 */
async function time(steps) {
  for (const step of steps) for (let i = 0; i < 2; i++) await step();
  /** @type {number[][]} */
  const ms = steps.map(() => []);
  for (let i = 0; i < STEPS; i++) {
    for (const [j, step] of steps.entries()) {
      const t0 = performance.now();
      await step();
      ms[j].push(performance.now() - t0);
    }
  }
  return ms.map((m) => m.sort((a, b) => a - b)[m.length >> 1]);
}

// The tagger's cross-entropy alone: the step without a CRF.
const ceTagger = makeTagger();
const ceOpt = tf.train.adam(0.01);
const ceStep = () =>
  tf.tidy(() => {
    ceOpt.minimize(() => tf.losses.softmaxCrossEntropy(tf.oneHot(tags, K), emissionsOf(ceTagger)), false, varsOf(ceTagger));
  });

// webcrf/tfjs: one tagger pass, one optimizer.
const tagger = makeTagger();
const crf = await CRF.create(K, { seed: 1 });
const opt = tf.train.adam(0.01);
const adapterStep = () =>
  tf.tidy(() => {
    opt.minimize(() => tf.neg(/** @type {tf.Scalar} */ (crf.forward(emissionsOf(tagger), tags, { mask, reduction: 'mean' }))), false, [
      ...varsOf(tagger),
      ...Object.values(crf.variables),
    ]);
  });

// The glue: two tagger passes, an await, a second optimizer.
const glueTagger = makeTagger();
const core = await CoreCRF.create(K, { seed: 1 });
const glueOpt = tf.train.adam(0.01);
const coreAdam = new Adam(core.parameters(), { lr: 0.01 });
const tagsRows = Array.from({ length: B }, (_, b) => Array.from(tagsArr.subarray(b * T, (b + 1) * T)));
const glueStep = async () => {
  const em = emissionsOf(glueTagger);
  const data = /** @type {Float32Array} */ (await em.data());
  em.dispose();
  const { grads } = await core.forwardBackward({ data, shape: [B, T, K] }, tagsRows, { reduction: 'mean' });
  tf.tidy(() => {
    const inject = tf.customGrad((e) => ({
      value: tf.sum(tf.mul(/** @type {tf.Tensor} */ (e), 0)),
      gradFunc: (dy) => [tf.mul(tf.tensor(grads.emissions, [B, T, K]), tf.neg(/** @type {tf.Tensor} */ (dy)))],
    }));
    glueOpt.minimize(() => /** @type {tf.Scalar} */ (inject(emissionsOf(glueTagger))), false, varsOf(glueTagger));
  });
  const neg = (/** @type {Float32Array} */ g) => g.map((v) => -v);
  coreAdam.step({ startTransitions: neg(grads.startTransitions), endTransitions: neg(grads.endTransitions), transitions: neg(grads.transitions) });
};
const [ceOnly, adapter, glue] = await time([ceStep, adapterStep, glueStep]);

const share = (/** @type {number} */ ms) => `${(ms - ceOnly).toFixed(1)} ms (${((100 * (ms - ceOnly)) / ms).toFixed(0)} %)`;
console.log(`tfjs ${backend}, BiLSTM tagger (embedding ${EMB}, ${UNITS} units each way), B=${B} T=${T} K=${K}, ${STEPS} steps each, median`);
console.log(`| step | ms per step | CRF's share |`);
console.log(`|---|---:|---:|`);
console.log(`| tagger cross-entropy alone | ${ceOnly.toFixed(1)} | – |`);
console.log(`| webcrf/tfjs (one tagger pass) | ${adapter.toFixed(1)} | ${share(adapter)} |`);
console.log(`| glue (await data, forwardBackward, customGrad, second optimizer, tagger twice) | ${glue.toFixed(1)} | ${share(glue)} |`);
