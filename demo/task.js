// The synthetic task the demo trains on: BIO named-entity tagging of made-up sentences, with a small
// linear tagger under the CRF. The tagger sees only the current word, the previous word and whether
// the word is capitalised, so it cannot tell the first word of a name from the second on its own
// ("Lee" alone is B-PER, after "Grace" it is I-PER; unknown capitalised words could be anything).
// The CRF's transitions supply that context, which is what the demo sets out to show.

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

/**
 * A linear tagger: emission[t][j] = cur[w_t][j] + prev[w_{t-1}][j] + cap(w_t)·capital[j] + bias[j].
 * Its weights are Float32Arrays so an optimizer can update them in place beside the CRF's.
 */
export class LinearTagger {
  /** @param {string[]} vocab @param {number} K */
  constructor(vocab, K) {
    this.vocab = new Map(vocab.map((w, i) => /** @type {[string, number]} */ ([w, i])));
    if (!this.vocab.has(UNK)) this.vocab.set(UNK, this.vocab.size);
    this.BOS = this.vocab.size; // the "previous word" of the first token
    this.K = K;
    const V = this.vocab.size + 1;
    this.weights = { cur: new Float32Array(V * K), prev: new Float32Array(V * K), capital: new Float32Array(K), bias: new Float32Array(K) };
  }

  /** Word ids of a batch of sentences, padded to the longest; `dropout` replaces words by UNK at random
   * during training so the UNK row learns what an unseen word looks like.
   * @param {Sentence[]} sentences @param {(() => number) | null} [rand]
   */
  encode(sentences, rand = null, dropout = 0) {
    const T = Math.max(...sentences.map((s) => s.words.length));
    const B = sentences.length;
    const ids = new Int32Array(B * T).fill(-1),
      caps = new Uint8Array(B * T);
    const tags = new Int32Array(B * T).fill(-1),
      mask = new Uint8Array(B * T);
    sentences.forEach((s, b) =>
      s.words.forEach((w, t) => {
        // UNK is always in the vocabulary.
        const unk = /** @type {number} */ (this.vocab.get(UNK));
        const id = this.vocab.get(w) ?? unk;
        ids[b * T + t] = rand && rand() < dropout ? unk : id;
        caps[b * T + t] = w[0] >= 'A' && w[0] <= 'Z' ? 1 : 0;
        tags[b * T + t] = s.tags[t];
        mask[b * T + t] = 1;
      }),
    );
    return { B, T, ids, caps, tags: { data: tags, shape: [B, T] }, mask: { data: mask, shape: [B, T] } };
  }

  /**
   * Emissions `{data, shape: [B, T, K]}` for an encoded batch; 0 at padding (the mask hides it).
   * @param {ReturnType<LinearTagger['encode']>} enc
   */
  emissions(enc) {
    const { B, T, ids, caps } = enc,
      K = this.K,
      { cur, prev, capital, bias } = this.weights;
    const out = new Float32Array(B * T * K);
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) {
        const i = b * T + t;
        if (ids[i] < 0) continue;
        const p = t === 0 ? this.BOS : ids[i - 1];
        for (let j = 0; j < K; j++) out[i * K + j] = cur[ids[i] * K + j] + prev[p * K + j] + caps[i] * capital[j] + bias[j];
      }
    }
    return { data: out, shape: [B, T, K] };
  }

  /**
   * Chain rule: the CRF's ∂llh/∂emissions into gradients of the tagger's weights (same keys).
   * @param {ReturnType<LinearTagger['encode']>} enc @param {ArrayLike<number>} gEm
   */
  backward(enc, gEm) {
    const { B, T, ids, caps } = enc,
      K = this.K,
      w = this.weights;
    const g = { cur: new Float32Array(w.cur.length), prev: new Float32Array(w.prev.length), capital: new Float32Array(K), bias: new Float32Array(K) };
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) {
        const i = b * T + t;
        if (ids[i] < 0) continue;
        const p = t === 0 ? this.BOS : ids[i - 1];
        for (let j = 0; j < K; j++) {
          const d = gEm[i * K + j];
          g.cur[ids[i] * K + j] += d;
          g.prev[p * K + j] += d;
          g.capital[j] += caps[i] * d;
          g.bias[j] += d;
        }
      }
    }
    return g;
  }
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
