// Distant supervision with partial annotations (a "fuzzy CRF", as AutoNER trains). Sentences mention
// people and places; a dictionary knows only some of the names. Labelling from the dictionary gives
// spans for the names it knows, and for every other capitalised word nothing: it may be a name the
// dictionary lacks. Two ways to train the same tagger + CRF on that:
//
//   as O:    every token the dictionary did not label is O (the usual shortcut: the names it missed
//            become wrong negatives, and the tagger learns that an unknown capitalised word is O);
//   partial: an unlabelled capitalised word may be any tag ({ allowed }), the rest are O; the
//            log-likelihood sums over every tagging the annotation permits.
//
// Both print their progress per epoch and their held-out span F1 against the true labels.
// Deterministic: fixed seeds.
import { Adam, CRF, allowedFromTags } from 'webcrf';
import { generator } from './random.js';

const TAGS = ['O', 'B-PER', 'I-PER', 'B-LOC', 'I-LOC'];
const K = TAGS.length;
const EPOCHS = 12;
const rng = generator(11);
/** @type {<T>(list: T[]) => T} */
const pick = (list) => list[Math.floor(rng.next() * list.length)];

// ---- the world: names, places, words around them ------------------------------------------------------
const FIRST = [
  'Anna',
  'Boris',
  'Clara',
  'David',
  'Elena',
  'Farid',
  'Greta',
  'Hugo',
  'Ines',
  'Jonas',
  'Karin',
  'Luca',
  'Mira',
  'Nils',
  'Olga',
  'Pavel',
  'Rosa',
  'Sami',
  'Tara',
  'Uwe',
];
const LAST = [
  'Berg',
  'Costa',
  'Dahl',
  'Engel',
  'Fischer',
  'Garcia',
  'Haas',
  'Ivanov',
  'Jensen',
  'Klein',
  'Lund',
  'Moreau',
  'Novak',
  'Olsen',
  'Petrov',
  'Quist',
  'Rossi',
  'Stein',
];
const PLACES = [
  ['Oslo'],
  ['Lima'],
  ['Porto'],
  ['Graz'],
  ['Turku'],
  ['Cork'],
  ['Basel'],
  ['Nantes'],
  ['Bergen'],
  ['Varna'],
  ['New', 'Haven'],
  ['San', 'Remo'],
  ['Le', 'Havre'],
  ['Rio', 'Claro'],
  ['Santa', 'Fe'],
  ['Port', 'Louis'],
];
const BEFORE_PER = ['said', 'met', 'asked', 'thanked', 'called', 'with'];
const BEFORE_LOC = ['in', 'at', 'from', 'to', 'near', 'visited'];
const FILLER = [
  'the',
  'a',
  'report',
  'was',
  'late',
  'today',
  'and',
  'then',
  'we',
  'they',
  'left',
  'early',
  'it',
  'rained',
  'on',
  'monday',
  'news',
  'came',
  'quickly',
  'after',
  'dinner',
];

/** One sentence: words and their true BIO tags. */
function sentence() {
  /** @type {string[]} */
  const words = [];
  /** @type {number[]} */
  const tags = [];
  const put = (/** @type {string} */ w, /** @type {number} */ t) => {
    words.push(w);
    tags.push(t);
  };
  const n = 2 + Math.floor(rng.next() * 3);
  for (let i = 0; i < n; i++) {
    const r = rng.next();
    if (r < 0.35) {
      put(pick(BEFORE_PER), 0);
      const name = rng.next() < 0.5 ? [pick(FIRST)] : [pick(FIRST), pick(LAST)];
      name.forEach((w, k) => put(w, k === 0 ? 1 : 2));
    } else if (r < 0.7) {
      put(pick(BEFORE_LOC), 0);
      pick(PLACES).forEach((w, k) => put(w, k === 0 ? 3 : 4));
    } else {
      put(pick(FILLER), 0);
    }
    put(pick(FILLER), 0);
  }
  return { words, tags };
}

const train = Array.from({ length: 400 }, sentence);
const test = Array.from({ length: 150 }, sentence);

// The dictionary: half the first names, a third of the surnames, half the places.
const knownPer = new Set([...FIRST.filter((_, i) => i % 2 === 0), ...LAST.filter((_, i) => i % 3 === 0)]);
const knownLoc = PLACES.filter((_, i) => i % 2 === 0);

/**
 * Distant labels of one sentence: the dictionary's spans as tags, every other capitalised word -1
 * (unknown), the rest O. `-1` is what allowedFromTags reads as "any tag".
 * @param {string[]} words
 */
function distant(words) {
  /** @type {number[]} */
  const out = words.map((w) => (/^[A-Z]/.test(w) ? -1 : 0));
  for (let t = 0; t < words.length; t++) {
    for (const place of knownLoc) {
      if (place.every((w, k) => words[t + k] === w))
        place.forEach((_, k) => {
          out[t + k] = k === 0 ? 3 : 4;
        });
    }
    if (knownPer.has(words[t]) && /^[A-Z]/.test(words[t])) {
      const start = t === 0 || !/^[A-Z]/.test(words[t - 1]) || out[t - 1] === 0;
      out[t] = start ? 1 : 2;
    }
  }
  return out;
}

// ---- the tagger: emissions = word + previous word + shape features -----------------------------------
/** @typedef {ReturnType<typeof sentence>} Sentence */
/** @type {Map<string, number>} */
const vocab = new Map();
for (const s of [...train, ...test]) for (const w of s.words) if (!vocab.has(w)) vocab.set(w, vocab.size);
const V = vocab.size;

/** @param {Sentence} s */
function features(s) {
  // Every word of train and test is in the vocabulary.
  return s.words.map((w, t) => ({
    word: /** @type {number} */ (vocab.get(w)),
    prev: t === 0 ? -1 : /** @type {number} */ (vocab.get(s.words[t - 1])),
    cap: /^[A-Z]/.test(w) ? 1 : 0,
    prevCap: t > 0 && /^[A-Z]/.test(s.words[t - 1]) ? 1 : 0,
  }));
}

function makeTagger() {
  return { word: new Float32Array(V * K), prev: new Float32Array(V * K), shape: new Float32Array(4 * K), bias: new Float32Array(K) };
}

/** @typedef {ReturnType<typeof makeTagger>} Tagger */

/**
 * Emissions [B, T, K] (padded to the longest sentence) for a batch.
 * @param {Tagger} tagger @param {Sentence[]} batch @param {number} T
 */
function emissionsOf(tagger, batch, T) {
  const data = new Float32Array(batch.length * T * K);
  batch.forEach((s, b) =>
    features(s).forEach((f, t) => {
      const o = (b * T + t) * K;
      for (let j = 0; j < K; j++) {
        data[o + j] =
          tagger.bias[j] + tagger.shape[(f.cap * 2 + f.prevCap) * K + j] + tagger.word[f.word * K + j] + (f.prev >= 0 ? tagger.prev[f.prev * K + j] : 0);
      }
    }),
  );
  return { data, shape: [batch.length, T, K] };
}

/**
 * The chain rule through the linear tagger: d llh / d tagger from d llh / d emissions.
 * @param {Sentence[]} batch @param {number} T @param {Float32Array} dE
 */
function taggerGrads(batch, T, dE) {
  const g = makeTagger();
  batch.forEach((s, b) =>
    features(s).forEach((f, t) => {
      const o = (b * T + t) * K;
      for (let j = 0; j < K; j++) {
        const d = dE[o + j];
        g.bias[j] += d;
        g.shape[(f.cap * 2 + f.prevCap) * K + j] += d;
        g.word[f.word * K + j] += d;
        if (f.prev >= 0) g.prev[f.prev * K + j] += d;
      }
    }),
  );
  return g;
}

/** Spans (type, start, end) of a BIO tag sequence. @param {number[]} tags */
function spans(tags) {
  /** @type {string[]} */
  const out = [];
  for (let t = 0; t < tags.length; t++) {
    if (tags[t] === 1 || tags[t] === 3 || ((tags[t] === 2 || tags[t] === 4) && (t === 0 || tags[t - 1] === 0))) {
      let e = t + 1;
      while (e < tags.length && tags[e] === (tags[t] % 2 === 1 ? tags[t] + 1 : tags[t])) e++;
      out.push(`${tags[t] <= 2 ? 'PER' : 'LOC'}:${t}:${e}`);
      t = e - 1;
    }
  }
  return out;
}

/** @param {number[][]} pred @param {number[][]} gold */
function f1(pred, gold) {
  let tp = 0,
    np = 0,
    ng = 0;
  pred.forEach((p, i) => {
    const g = new Set(spans(gold[i]));
    const q = spans(p);
    np += q.length;
    ng += g.size;
    for (const s of q) if (g.has(s)) tp++;
  });
  const precision = np ? tp / np : 0,
    recall = ng ? tp / ng : 0;
  return precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
}

/** @param {'as O' | 'partial'} mode */
async function run(mode) {
  const tagger = makeTagger();
  const crf = await CRF.create(K, { seed: 5 });
  const adam = new Adam({ ...crf.parameters(), ...tagger }, { lr: 0.05, maximize: true });
  const batchSize = 50;
  for (let epoch = 1; epoch <= EPOCHS; epoch++) {
    let llh = 0;
    for (let i = 0; i < train.length; i += batchSize) {
      const batch = train.slice(i, i + batchSize);
      const T = Math.max(...batch.map((s) => s.words.length));
      const em = emissionsOf(tagger, batch, T);
      const labels = batch.map((s) => {
        const d = distant(s.words);
        const row = mode === 'partial' ? d : d.map((y) => (y < 0 ? 0 : y));
        return [...row, ...new Array(T - row.length).fill(0)];
      });
      const mask = batch.map((s) => Array.from({ length: T }, (_, t) => t < s.words.length));
      const gold = mode === 'partial' ? { allowed: allowedFromTags(labels, K) } : labels;
      const { logLikelihood, grads } = await crf.forwardBackward(em, gold, { mask, reduction: 'mean' });
      const { emissions: dE, ...crfGrads } = grads;
      adam.step({ ...crfGrads, ...taggerGrads(batch, T, dE) });
      llh += logLikelihood;
    }
    if (epoch % 3 === 0 || epoch === 1) {
      const score = await heldOut(crf, tagger);
      console.log(
        `${mode.padEnd(7)} epoch ${String(epoch).padStart(2)}: log-likelihood ${(llh / Math.ceil(train.length / batchSize)).toFixed(3)}, held-out span F1 ${score.toFixed(3)}`,
      );
    }
  }
  const score = await heldOut(crf, tagger);
  crf.dispose();
  return score;
}

/** @param {import('webcrf').CRF} crf @param {Tagger} tagger */
async function heldOut(crf, tagger) {
  const T = Math.max(...test.map((s) => s.words.length));
  const mask = test.map((s) => Array.from({ length: T }, (_, t) => t < s.words.length));
  const paths = await crf.decode(emissionsOf(tagger, test, T), { mask });
  return f1(
    paths,
    test.map((s) => s.tags),
  );
}

const known = train.reduce((n, s) => n + s.tags.filter((y, t) => y > 0 && distant(s.words)[t] === y).length, 0);
const all = train.reduce((n, s) => n + s.tags.filter((y) => y > 0).length, 0);
console.log(`the dictionary labels ${known} of the ${all} entity tokens in training (${((100 * known) / all).toFixed(0)} %)`);
const asO = await run('as O');
const partial = await run('partial');
console.log(`held-out span F1: unlabelled as O ${asO.toFixed(3)}, partial annotations ${partial.toFixed(3)}`);
