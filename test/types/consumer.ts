// Written as a user would write it (the README's snippets), checked by tsc in strict mode under
// nodenext and bundler resolution, and in a Node project without the DOM's types (test/api/types.test.ts):
// it must compile with no casts.
import {
  Adam,
  AutomaticWeightedLoss,
  CRF,
  CRFInputError,
  WasmLoadError,
  allowedTransitions,
  clipGradNorm,
  crossEntropy,
  maskFromTags,
  type Gradients,
  type ScoredPath,
  type StateDict,
} from 'webcrf';

const numTags = 5;
const crf = await CRF.create(numTags, { batchFirst: true, seed: 100 });
const emissions = [
  [
    [0.1, 0.4, -0.2, 0.0, 0.3],
    [1.0, -0.5, 0.2, 0.1, 0.0],
    [0.2, 0.2, 0.9, -1.0, 0.0],
  ],
  [
    [0.0, 0.1, 0.2, 0.3, 0.4],
    [0.5, 0.4, 0.3, 0.2, 0.1],
    [0.0, 0.0, 0.0, 0.0, 0.0],
  ],
];
const tags = [
  [1, 0, 2],
  [4, 3, -1],
];
const mask = maskFromTags(tags);

const llh = await crf.forward(emissions, tags, { mask });
const loss: number = -llh;
console.log(llh.toFixed(3), loss);
const perSequence = await crf.forward(emissions, tags, { mask, reduction: 'none' });
console.log(perSequence[0].toFixed(3), perSequence.length);
const meanLlh: number = await crf.forward(emissions, tags, { mask, reduction: 'mean' });

const { logLikelihood, grads } = await crf.forwardBackward(emissions, tags, { mask, reduction: 'mean' });
console.log(logLikelihood.toFixed(3) + meanLlh);
const g: Gradients = grads;
const perSeq = await crf.forwardBackward(emissions, tags, { reduction: 'none' });
console.log(perSeq.logLikelihood[1].toFixed(2), g.emissions.length);

const best: number[][] = await crf.decode(emissions, { mask });
const top3: ScoredPath[][] = await crf.decode(emissions, { mask, topK: 3 });
console.log(best[0].join(' '), top3[0][0].score.toFixed(2), Math.exp(top3[0][0].logProb).toFixed(3), top3[0][0].path.length);

const sd: StateDict = crf.stateDict();
crf.loadStateDict(sd);
crf.loadStateDict(crf.stateDict());
crf.loadStateDict({ start_trans: new Float32Array(numTags), end_trans: [0, 0, 0, 0, 0], trans_matrix: new Float32Array(numTags * numTags) });
const z: Float64Array = await crf.logPartition(emissions, { mask });
const m: Float32Array = await crf.marginals({ data: new Float32Array(2 * 3 * numTags), shape: [2, 3, numTags] });
const h: Float32Array = await crf.entropy(emissions);
console.log(z[0], m[0], h[0], crf.backend, crf.backendReason);

const labels = ['O', 'B-PER', 'I-PER', 'B-LOC', 'I-LOC'];
const constrained = await CRF.create(labels.length, { constraints: allowedTransitions('BIO', labels) });
await constrained.decode(emissions, { mask, constraints: allowedTransitions('BIO', labels) });

const adam = new Adam(crf.parameters(), { lr: 0.05, maximize: true });
adam.step(grads);
adam.lr = 0.01;
const { emissions: _e, ...paramGrads } = grads;
const norm: number = clipGradNorm(paramGrads, 5);
const whole: number = clipGradNorm(grads, 5); // forwardBackward's grads as they are: emissions left out
const ce = crossEntropy(emissions, tags, { ignoreIndex: -1 });
const ceNone = crossEntropy(emissions, tags, { ignoreIndex: -1, reduction: 'none' });
const awl = new AutomaticWeightedLoss(2);
const combined = awl.forward([ce.loss, -llh]);
console.log(norm, whole, ceNone.loss[0], combined.loss, combined.grads.params[0]);

const bytes: Uint8Array = crf.toSafetensors({ prefix: 'crf.' });
const again: CRF = await CRF.fromSafetensors(bytes, { prefix: 'crf.', backend: 'wasm' });
try {
  await crf.decode([[[Number.NaN, 0, 0, 0, 0]]]);
} catch (e) {
  if (e instanceof CRFInputError) console.log(e.argument, e.message);
  if (e instanceof WasmLoadError) console.log(e.failures.join('; '));
}
again.dispose();
constrained.dispose();
crf.dispose();
