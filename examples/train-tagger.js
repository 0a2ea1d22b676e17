// Trains a CRF's transitions on a synthetic BIO tagging task, then decodes held-out sentences.
// The emissions come from a fixed, noisy "tagger" that confuses B with I; the CRF learns that I
// only follows B or I, and fixes what the tagger gets wrong. Deterministic: same output every run.
import { CRF, maskFromTags } from 'webcrf';

const TAGS = ['O', 'B', 'I'];
let state = 42;
const rand = () => (state = (state * 1664525 + 1013904223) >>> 0) / 4294967296;
const normal = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());

/**
 * A batch of sentences of random lengths, labels padded with -1, and the tagger's emissions.
 * @param {number} size @param {number} maxLen
 */
function makeBatch(size, maxLen) {
  const tags = [],
    emissions = [];
  for (let s = 0; s < size; s++) {
    const len = 4 + Math.floor(rand() * (maxLen - 3));
    /** @type {number[]} */
    const y = [];
    for (let t = 0; t < maxLen; t++) {
      if (t >= len) {
        y.push(-1);
        continue;
      }
      const prev = t ? y[t - 1] : 0;
      // Spans start with B and continue with I about 70% of the time.
      y.push(prev === 0 ? (rand() < 0.35 ? 1 : 0) : rand() < 0.7 ? 2 : rand() < 0.3 ? 1 : 0);
    }
    tags.push(y);
    emissions.push(
      y.map((g) =>
        TAGS.map((_, j) => {
          const signal = g === j ? 1.2 : g > 0 && j > 0 ? 0.9 : 0; // B and I look alike
          return g < 0 ? 0 : signal + 0.7 * normal();
        }),
      ),
    );
  }
  return { tags, emissions, mask: maskFromTags(tags) };
}

/** @param {number[][]} paths @param {number[][]} tags */
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

const crf = await CRF.create(TAGS.length, { seed: 7 });
console.log(`backend: ${crf.backend}`);
const train = makeBatch(256, 20);
const test = makeBatch(128, 20);
const argmax = test.emissions.map((s, i) => s.filter((_, t) => test.mask[i][t]).map((e) => e.indexOf(Math.max(...e))));
console.log(`held-out accuracy before training: CRF ${accuracy(await crf.decode(test.emissions, { mask: test.mask }), test.tags).toFixed(3)}`);

// Plain gradient ascent on the mean log-likelihood; the emissions stay fixed.
const lr = 0.1;
for (let epoch = 1; epoch <= 60; epoch++) {
  const { logLikelihood, grads } = await crf.forwardBackward(train.emissions, train.tags, { mask: train.mask, reduction: 'mean' });
  for (const [name, p] of Object.entries(crf.parameters())) p.forEach((_, i) => (p[i] += lr * grads[/** @type {keyof typeof grads} */ (name)][i]));
  if (epoch % 10 === 0) console.log(`epoch ${epoch}: loss ${(-logLikelihood).toFixed(4)}`);
}

const decoded = await crf.decode(test.emissions, { mask: test.mask });
console.log('learned transitions (from row to column):');
TAGS.forEach((from, i) => console.log(`  ${from} → ${TAGS.map((to, j) => `${to} ${crf.transitions[i * 3 + j].toFixed(2)}`).join('  ')}`));
console.log(
  `first held-out sentence: gold ${test.tags[0]
    .filter((y) => y >= 0)
    .map((y) => TAGS[y])
    .join(' ')}`,
);
console.log(`                         CRF  ${decoded[0].map((y) => TAGS[y]).join(' ')}`);
console.log(`held-out token accuracy: emissions argmax ${accuracy(argmax, test.tags).toFixed(3)}, CRF decode ${accuracy(decoded, test.tags).toFixed(3)}`);
