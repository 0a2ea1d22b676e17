// The synthetic task the demo trains on: BIO named-entity tagging of made-up sentences, and its
// scores. Names and places are ambiguous ("Jordan", "Georgia" and "Florence" are both), some are
// written in lower case, and the held-out sentences hold names never seen in training, which the
// tagger reads as the unknown word: its emissions alone often get the kind or the B/I of a span wrong
// ("Lee" alone is B-PER, after "Grace" it is I-PER). The CRF's transitions supply that context, which
// is what the demo sets out to show.

export const LABELS = ['O', 'B-PER', 'I-PER', 'B-LOC', 'I-LOC'];
const O = 0,
  B_PER = 1,
  I_PER = 2,
  B_LOC = 3,
  I_LOC = 4;

const FIRST = ['Ada', 'Alan', 'Grace', 'Linus', 'Marie', 'Barbara', 'Edsger', 'Jordan', 'Frances', 'Donald', 'Florence', 'Georgia'];
const LAST = ['Lovelace', 'Turing', 'Hopper', 'Torvalds', 'Curie', 'Liskov', 'Dijkstra', 'Lee', 'Allen', 'Knuth'];
const PLACES = [
  ['Paris'],
  ['London'],
  ['Oslo'],
  ['Lagos'],
  ['Lima'],
  ['Kyoto'],
  ['Jordan'],
  ['Georgia'],
  ['Florence'],
  ['New', 'York'],
  ['New', 'Delhi'],
  ['San', 'Diego'],
  ['Buenos', 'Aires'],
  ['Hong', 'Kong'],
  ['Rio', 'de', 'Janeiro'],
];
// Held out entirely: names and places the tagger never saw, read as the unknown word.
const NEW_LAST = ['Hamilton', 'Ritchie', 'Wirth', 'Goldberg'];
const NEW_PLACES = [['Quito'], ['Accra'], ['Santa', 'Fe'], ['Kuala', 'Lumpur']];
const BEFORE_PER = ['yesterday', 'then', 'and', 'with', 'when', 'professor'];
const AFTER_PER = ['said', 'wrote', 'met', 'visited', 'left', 'argued'];
const BEFORE_LOC = ['in', 'from', 'to', 'near', 'through'];
const FILLER = ['the', 'team', 'a', 'paper', 'on', 'compilers', 'was', 'late', 'again', 'for', 'lunch', 'it', 'rained', 'we'];

export const UNK = '<unk>';

/**
 * Deterministic uniform [0, 1) (an LCG): the same seed gives the same sentences in every browser.
 * @param {number} seed @returns {() => number}
 */
export function rng(seed) {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
}

/** @template T @param {() => number} rand @param {T[]} xs @returns {T} */
function pick(rand, xs) {
  return xs[Math.floor(rand() * xs.length)];
}

/**
 * One sentence: words and their gold tag ids, 5 to 16 tokens.
 * @param {() => number} rand @param {boolean} heldOut
 */
function sentence(rand, heldOut) {
  /** @type {string[]} */
  const words = [];
  /** @type {number[]} */
  const tags = [];
  // Careless writing: a name in lower case loses the capitalisation cue, as in real user text.
  const push = (/** @type {string} */ w, /** @type {number} */ t) => {
    words.push(t !== O && rand() < 0.2 ? w.toLowerCase() : w);
    tags.push(t);
  };
  const person = () => {
    const last = heldOut && rand() < 0.4 ? pick(rand, NEW_LAST) : pick(rand, LAST);
    if (rand() < 0.6) {
      push(pick(rand, FIRST), B_PER);
      push(last, I_PER);
    } else push(last, B_PER);
  };
  const place = () => {
    const p = heldOut && rand() < 0.4 ? pick(rand, NEW_PLACES) : pick(rand, PLACES);
    p.forEach((w, i) => push(w, i === 0 ? B_LOC : I_LOC));
  };
  const target = 5 + Math.floor(rand() * 10);
  while (words.length < target) {
    const r = rand();
    if (r < 0.3) {
      if (rand() < 0.5) push(pick(rand, BEFORE_PER), O);
      person();
      push(pick(rand, AFTER_PER), O);
    } else if (r < 0.6) {
      push(pick(rand, BEFORE_LOC), O);
      place();
    } else {
      push(pick(rand, FILLER), O);
    }
  }
  return { words: words.slice(0, 16), tags: tags.slice(0, 16) };
}

/** @typedef {ReturnType<typeof sentence>} Sentence */

/**
 * `n` sentences from `seed`; `heldOut` mixes in names the training set never has.
 * @param {number} n @param {number} seed
 */
export function makeSentences(n, seed, heldOut = false) {
  const rand = rng(seed);
  return Array.from({ length: n }, () => sentence(rand, heldOut));
}

/** The training vocabulary: every word of the training sentences. @param {Sentence[]} sentences */
export function vocabulary(sentences) {
  return [...new Set(sentences.flatMap((s) => s.words))].sort();
}

/**
 * Entity spans `type@start-end` of a BIO tag sequence; an I without its B opens a span, as conlleval.
 * @param {number[]} tags
 */
export function spans(tags) {
  /** @type {string[]} */
  const out = [];
  /** @type {{ type: string, start: number } | null} */
  let open = null;
  const close = (/** @type {number} */ end) => {
    if (open) out.push(`${open.type}@${open.start}-${end}`);
    open = null;
  };
  tags.forEach((id, t) => {
    const l = LABELS[id];
    if (l === 'O') return close(t);
    const [bio, type] = l.split('-');
    if (bio === 'B' || !open || open.type !== type) {
      close(t);
      open = { type, start: t };
    }
  });
  close(tags.length);
  return out;
}

/**
 * Token accuracy and exact-span F1 of predicted against gold tag sequences.
 * @param {number[][]} pred @param {number[][]} gold
 */
export function score(pred, gold) {
  let right = 0,
    all = 0,
    tp = 0,
    np = 0,
    ng = 0;
  pred.forEach((p, s) => {
    p.forEach((y, t) => {
      right += y === gold[s][t] ? 1 : 0;
      all++;
    });
    const ps = new Set(spans(p)),
      gs = spans(gold[s]);
    np += ps.size;
    ng += gs.length;
    for (const x of gs) if (ps.has(x)) tp++;
  });
  const prec = np ? tp / np : 0,
    rec = ng ? tp / ng : 0;
  return { accuracy: right / all, f1: prec + rec ? (2 * prec * rec) / (prec + rec) : 0 };
}
