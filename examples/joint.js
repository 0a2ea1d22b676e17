// Joint training of a tagger and its CRF, the way a BiLSTM-CRF or BERT-CRF is trained in PyTorch,
// with the network shrunk to a linear layer so the whole chain rule fits on one screen:
//
//   emissions = features · Wᵀ + b                              (the "tagger", per token)
//   loss      = AutomaticWeightedLoss(crossEntropy(emissions, tags), −crf.forward(emissions, tags))
//
// The task is BIO tagging of PER and LOC spans where each token's features are ambiguous: its type is
// shown correctly only 75% of the time, and B looks like I apart from a weak cue. Per token, the best a
// tagger can do is guess; the CRF's transitions know that I-PER only follows B-PER or I-PER, that a
// span keeps its type, and so recover what the features alone cannot. Deterministic: fixed seeds.
import { Adam, AutomaticWeightedLoss, CRF, clipGradNorm, crossEntropy, maskFromTags } from 'webcrf';
import { generator } from './random.js';

const TAGS = ['O', 'B-PER', 'I-PER', 'B-LOC', 'I-LOC'];
const K = TAGS.length;
const D = 7; // features: 3 type scores (O, PER, LOC), a boundary cue, 2 distractors, a constant
const PAD = -100; // PyTorch's ignore_index: labels past a sentence's end

const rng = generator(7);

/**
 * Sentences of 8–20 tokens padded to 20: tags (PAD beyond the end) and features [n, 20, D].
 * @param {number} n
 */
function makeData(n, maxLen = 20) {
  /** @type {number[][]} */
  const tags = [];
  const features = new Float32Array(n * maxLen * D);
  for (let s = 0; s < n; s++) {
    const len = 8 + Math.floor(rng.next() * (maxLen - 7));
    /** @type {number[]} */
    const y = [];
    while (y.length < len) {
      if (rng.next() < 0.35) {
        const type = rng.next() < 0.5 ? 1 : 3; // B-PER or B-LOC
        const spanLen = 1 + Math.floor(rng.next() * 4);
        for (let i = 0; i < spanLen && y.length < len; i++) y.push(i === 0 ? type : type + 1);
      } else {
        y.push(0);
      }
    }
    while (y.length < maxLen) y.push(PAD);
    tags.push(y);
    for (let t = 0; t < len; t++) {
      const f = features.subarray((s * maxLen + t) * D, (s * maxLen + t + 1) * D);
      const type = y[t] === 0 ? 0 : y[t] <= 2 ? 1 : 2;
      const shown = rng.next() < 0.75 ? type : Math.floor(rng.next() * 3);
      for (let c = 0; c < 3; c++) f[c] = (c === shown ? 1 : 0) + 0.4 * rng.randn();
      const isB = y[t] === 1 || y[t] === 3;
      f[3] = (isB && rng.next() < 0.35 ? 1 : 0) + 0.4 * rng.randn();
      f[4] = rng.randn();
      f[5] = rng.randn();
      f[6] = 1;
    }
  }
  return { tags, features, n, T: maxLen, mask: maskFromTags(tags, PAD) };
}

/**
 * The linear tagger: emissions [n, T, K] = features · Wᵀ (the constant feature is the bias).
 * @param {Float32Array} W @param {Float32Array} X @param {number} n @param {number} T
 */
function emissionsOf(W, X, n, T) {
  const out = new Float32Array(n * T * K);
  for (let r = 0; r < n * T; r++) {
    for (let k = 0; k < K; k++) {
      let v = 0;
      for (let d = 0; d < D; d++) v += X[r * D + d] * W[k * D + d];
      out[r * K + k] = v;
    }
  }
  return { data: out, shape: [n, T, K] };
}

/**
 * Token accuracy of paths (one per sentence, its real tokens only) against the padded tags.
 * @param {number[][]} paths @param {number[][]} tags
 */
function accuracy(paths, tags) {
  let right = 0,
    all = 0;
  paths.forEach((p, s) =>
    p.forEach((y, t) => {
      right += y === tags[s][t] ? 1 : 0;
      all++;
    }),
  );
  return right / all;
}

/** @typedef {ReturnType<typeof makeData>} Data */

/** @param {ReturnType<typeof emissionsOf>} em @param {Pick<Data, 'tags' | 'T'>} data */
function argmaxPaths(em, data) {
  return data.tags.map((y, s) => {
    /** @type {number[]} */
    const path = [];
    for (let t = 0; t < data.T && y[t] !== PAD; t++) {
      const row = em.data.subarray((s * data.T + t) * K, (s * data.T + t + 1) * K);
      path.push(row.indexOf(Math.max(...row)));
    }
    return path;
  });
}

/** @type {(data: Data, from: number, to: number) => Data} */
const slice = (data, from, to) => ({
  tags: data.tags.slice(from, to),
  features: data.features.subarray(from * data.T * D, to * data.T * D),
  mask: data.mask.slice(from, to),
  n: to - from,
  T: data.T,
});

const train = makeData(600);
const heldOut = makeData(300);

const crf = await CRF.create(K, { seed: 3, backend: 'js' });
const W = Float32Array.from({ length: K * D }, () => 0.1 * rng.randn());
const awl = new AutomaticWeightedLoss(2);
// One optimizer over the tagger, the CRF and the loss weights; all gradients below are of the loss.
const adam = new Adam({ W, ...crf.parameters(), ...awl.parameters() }, { lr: 0.03 });

const BATCH = 30;
for (let epoch = 1; epoch <= 12; epoch++) {
  let total = 0,
    ceSum = 0,
    nllSum = 0,
    steps = 0;
  for (let from = 0; from < train.n; from += BATCH) {
    const batch = slice(train, from, Math.min(from + BATCH, train.n));
    const em = emissionsOf(W, batch.features, batch.n, batch.T);
    const ce = crossEntropy(em, batch.tags, { ignoreIndex: PAD });
    const crfOut = await crf.forwardBackward(em, batch.tags, { mask: batch.mask, reduction: 'mean' });
    const nll = -crfOut.logLikelihood;
    const {
      loss,
      lossGrads: [wCe, wCrf],
      grads: awlGrads,
    } = awl.forward([ce.loss, nll]);

    // Chain rule. ∂loss/∂emissions = w_ce · ∂CE/∂e + w_crf · ∂NLL/∂e, with ∂NLL/∂e = −∂llh/∂e.
    const dEm = new Float32Array(em.data.length);
    for (let i = 0; i < dEm.length; i++) dEm[i] = wCe * ce.grad[i] - wCrf * crfOut.grads.emissions[i];
    // emissions = X · Wᵀ, so ∂loss/∂W[k][d] = Σ_tokens ∂loss/∂e[k] · X[d].
    const dW = new Float32Array(K * D);
    for (let r = 0; r < batch.n * batch.T; r++) {
      for (let k = 0; k < K; k++) {
        const g = dEm[r * K + k];
        if (g !== 0) for (let d = 0; d < D; d++) dW[k * D + d] += g * batch.features[r * D + d];
      }
    }
    const scale = (/** @type {Float32Array} */ a) => a.map((v) => -wCrf * v);
    const grads = {
      W: dW,
      startTransitions: scale(crfOut.grads.startTransitions),
      endTransitions: scale(crfOut.grads.endTransitions),
      transitions: scale(crfOut.grads.transitions),
      params: awlGrads.params,
    };
    clipGradNorm(grads, 5);
    adam.step(grads);
    total += loss;
    ceSum += ce.loss;
    nllSum += nll;
    steps++;
  }
  const em = emissionsOf(W, train.features, train.n, train.T);
  const argAcc = accuracy(argmaxPaths(em, train), train.tags);
  const crfAcc = accuracy(await crf.decode(em, { mask: train.mask }), train.tags);
  console.log(
    `epoch ${epoch}: loss ${(total / steps).toFixed(4)} (cross-entropy ${(ceSum / steps).toFixed(4)}, CRF NLL ${(nllSum / steps).toFixed(4)}, ` +
      `p ${Array.from(awl.params, (p) => p.toFixed(3)).join('/')}), train accuracy argmax ${argAcc.toFixed(3)}, CRF ${crfAcc.toFixed(3)}`,
  );
}

console.log('learned transitions (row → column):');
console.log(`          ${TAGS.map((t) => t.padStart(7)).join('')}`);
TAGS.forEach((from, i) => console.log(`  ${from.padEnd(7)} ${TAGS.map((_, j) => crf.transitions[i * K + j].toFixed(2).padStart(7)).join('')}`));

const em = emissionsOf(W, heldOut.features, heldOut.n, heldOut.T);
const argmax = argmaxPaths(em, heldOut);
const decoded = await crf.decode(em, { mask: heldOut.mask });
const show = (/** @type {number[]} */ p) => p.map((y) => TAGS[y]).join(' ');
console.log(`held-out sentence: gold   ${show(heldOut.tags[0].filter((y) => y !== PAD))}`);
console.log(`                   argmax ${show(argmax[0])}`);
console.log(`                   CRF    ${show(decoded[0])}`);
console.log(`held-out token accuracy: emissions argmax ${accuracy(argmax, heldOut.tags).toFixed(3)}, CRF decode ${accuracy(decoded, heldOut.tags).toFixed(3)}`);
