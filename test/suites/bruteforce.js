// Every op against enumeration of every path, for small K and T, random masks with gaps and leading
// offs, both layouts, with and without constraints.
import { bruteForce, rng } from './oracle.js';
import { check, close, create, equal, tolerance } from './util.js';

/** @typedef {import('./util.js').Ctx} Ctx */
/** @typedef {import('webcrf').ConstraintsInput} ConstraintsInput */
/** @typedef {NonNullable<import('./oracle.js').Params['allowed']>} AllowedBits */

/**
 * A random batch: params, emissions, mask (gaps, leading offs, all-off rows), padded tags.
 * @param {import('./oracle.js').Rng} R
 * @param {{ K: number, T: number, B: number, batchFirst: boolean, scale?: number }} shape
 */
export function randomCase(R, { K, T, B, batchFirst, scale = 1 }) {
  const start = Array.from({ length: K }, () => R.normal());
  const end = Array.from({ length: K }, () => R.normal());
  const trans = Array.from({ length: K * K }, () => R.normal());
  /** @type {number[][][]} */
  const em = [];
  /** @type {number[][]} */
  const mask = [],
    tags = [];
  for (let b = 0; b < B; b++) {
    em.push(Array.from({ length: T }, () => Array.from({ length: K }, () => scale * R.normal())));
    const all = R.next() < 0.15;
    mask.push(Array.from({ length: T }, () => (all || R.next() < 0.7 ? 1 : 0)));
    tags.push(mask[b].map((m) => (m ? R.int(K) : [-100, -1, 7.5, K][R.int(4)])));
  }
  /** @type {<V>(x: V[][]) => V[][]} */
  const lay = (x) => (batchFirst ? x : x[0].map((_, t) => x.map((row) => row[t])));
  return { K, T, B, batchFirst, start, end, trans, em, mask, tags, input: { em: lay(em), mask: lay(mask), tags: lay(tags) } };
}

/** @typedef {ReturnType<typeof randomCase>} Case */

/**
 * Per sequence: its compacted emissions and tags (the on positions, in order).
 * @param {Pick<Case, 'T' | 'em' | 'mask' | 'tags'>} c @param {number} b
 */
export function compact(c, b) {
  /** @type {number[][]} */
  const rows = [];
  /** @type {number[]} */
  const tags = [],
    at = [];
  for (let t = 0; t < c.T; t++)
    if (c.mask[b][t]) {
      rows.push(c.em[b][t]);
      tags.push(c.tags[b][t]);
      at.push(t);
    }
  return { rows, tags, at };
}

/**
 * @param {Ctx} ctx @param {Case} c
 * @param {{ instance: ConstraintsInput, bits: AllowedBits } | null} allowed @param {string} label
 */
async function runCase(ctx, c, allowed, label) {
  const r = tolerance(ctx.backend);
  const { K, T, B, batchFirst } = c;
  const crf = await create(ctx, K, { batchFirst, ...(allowed?.instance ? { constraints: allowed.instance } : {}) });
  crf.loadStateDict({ start_transitions: c.start, end_transitions: c.end, transitions: c.trans });
  // Float32 parameters are what every backend uses; the oracle must use the same values.
  const w = { K, start: crf.startTransitions, end: crf.endTransitions, trans: crf.transitions, allowed: allowed?.bits };
  const seqs = Array.from({ length: B }, (_, b) => compact(c, b)).map((s) => ({ ...s, bf: bruteForce(s.rows, w) }));
  const { em, mask, tags } = c.input;
  const noPath = seqs.some((s) => s.rows.length > 0 && s.bf.paths.length === 0);
  if (noPath) {
    let threw = null;
    try {
      await crf.logPartition(em, { mask });
    } catch (e) {
      threw = e;
    }
    check(
      threw instanceof ctx.lib.CRFInputError && threw.argument === 'constraints',
      `${label}: no allowed path should throw CRFInputError(constraints), got ${threw}`,
    );
    crf.dispose();
    return;
  }
  const at = (/** @type {number} */ b, /** @type {number} */ t) => (batchFirst ? b * T + t : t * B + b) * K;

  close(
    await crf.logPartition(em, { mask }),
    seqs.map((s) => s.bf.logZ),
    r,
    `${label} logZ`,
  );
  const llh = seqs.map((s) => (s.rows.length ? s.bf.scoreOf(s.tags) - s.bf.logZ : 0));
  close(await crf.forward(em, tags, { mask, reduction: 'none' }), llh, r, `${label} llh`);
  const sum = llh.reduce((a, b) => a + b, 0);
  const n = seqs.reduce((a, s) => a + s.rows.length, 0);
  close([await crf.forward(em, tags, { mask })], [sum], r, `${label} sum`);
  close([await crf.forward(em, tags, { mask, reduction: 'mean' })], [sum / B], r, `${label} mean`);
  close([await crf.forward(em, tags, { mask, reduction: 'token_mean' })], [n ? sum / n : 0], r, `${label} token_mean`);

  equal(
    await crf.decode(em, { mask }),
    seqs.map((s) => s.bf.sorted[0].path),
    `${label} decode`,
  );
  const k = 1 + ((K * T) % 6);
  const top = await crf.decode(em, { mask, topK: k });
  top.forEach((list, b) => {
    const want = seqs[b].bf.sorted.slice(0, k);
    equal(
      list.map((x) => x.path),
      want.map((x) => x.path),
      `${label} top-${k} paths of ${b}`,
    );
    close(
      list.map((x) => x.score),
      want.map((x) => x.score),
      r,
      `${label} top-${k} scores of ${b}`,
    );
    // log p(y | x) = score − log Z over every allowed path, as probabilities (tiny ones are all alike).
    close(
      list.map((x) => Math.exp(x.logProb)),
      want.map((x) => (seqs[b].rows.length ? Math.exp(x.score - seqs[b].bf.logZ) : 1)),
      r,
      `${label} top-${k} probabilities of ${b}`,
    );
  });

  const marg = new Float64Array(B * T * K);
  const gradE = new Float64Array(B * T * K);
  const gStart = new Float64Array(K),
    gEnd = new Float64Array(K),
    gTrans = new Float64Array(K * K);
  seqs.forEach((s, b) => {
    const L = s.rows.length;
    s.at.forEach((t, i) => {
      for (let j = 0; j < K; j++) {
        marg[at(b, t) + j] = s.bf.marginals[i][j];
        gradE[at(b, t) + j] = (s.tags[i] === j ? 1 : 0) - s.bf.marginals[i][j];
      }
    });
    if (!L) return;
    for (let j = 0; j < K; j++) {
      gStart[j] += (s.tags[0] === j ? 1 : 0) - s.bf.marginals[0][j];
      gEnd[j] += (s.tags[L - 1] === j ? 1 : 0) - s.bf.marginals[L - 1][j];
    }
    for (let i = 1; i < L; i++) gTrans[s.tags[i - 1] * K + s.tags[i]] += 1;
    for (let q = 0; q < K * K; q++) gTrans[q] -= s.bf.pairs[q];
  });
  close(await crf.marginals(em, { mask }), marg, r, `${label} marginals`);
  close(
    await crf.entropy(em, { mask }),
    seqs.map((s) => s.bf.entropy),
    r * 10,
    `${label} entropy`,
  );
  const g = await crf.forwardBackward(em, tags, { mask, reduction: 'mean' });
  close([g.logLikelihood], [sum / B], r, `${label} fb llh`);
  close(
    g.grads.emissions,
    gradE.map((v) => v / B),
    r,
    `${label} grad emissions`,
  );
  close(
    g.grads.startTransitions,
    gStart.map((v) => v / B),
    r,
    `${label} grad start`,
  );
  close(
    g.grads.endTransitions,
    gEnd.map((v) => v / B),
    r,
    `${label} grad end`,
  );
  close(
    g.grads.transitions,
    gTrans.map((v) => v / B),
    r,
    `${label} grad transitions`,
  );
  crf.dispose();
}

/** @type {[import('webcrf').TaggingScheme, string[]][]} */
const SCHEMES = [
  ['BIO', ['O', 'B-X', 'I-X']],
  ['BIO', ['B-X', 'I-X', 'B-Y', 'I-Y']],
  ['IOB1', ['O', 'I-X', 'B-X']],
  ['BMES', ['B-X', 'M-X', 'E-X', 'S-X']],
  ['BIOES', ['O', 'B-X', 'I-X', 'E-X', 'S-X']],
  ['BIOUL', ['O', 'B-X', 'I-X', 'L-X', 'U-X']],
];

/**
 * What the oracle takes: constraints as flat bits.
 * @param {{ transitions: boolean[][], start?: boolean[], end?: boolean[] }} c @param {number} K
 * @returns {AllowedBits}
 */
function bits(c, K) {
  const tr = c.transitions ?? c;
  return { trans: tr.flat().map(Boolean), start: (c.start ?? new Array(K).fill(true)).map(Boolean), end: (c.end ?? new Array(K).fill(true)).map(Boolean) };
}

/** @param {Ctx} ctx */
export async function bruteForceUnconstrained(ctx) {
  const R = rng(1234);
  for (let trial = 0; trial < 24; trial++) {
    const K = 1 + (trial % 4),
      T = 1 + R.int(6),
      B = 1 + R.int(4);
    const c = randomCase(R, { K, T, B, batchFirst: trial % 2 === 0 });
    await runCase(ctx, c, null, `trial ${trial} K=${K} T=${T} B=${B}`);
  }
}

/** @param {Ctx} ctx */
export async function bruteForceConstrained(ctx) {
  const R = rng(99);
  let trial = 0;
  for (const [scheme, labels] of SCHEMES) {
    const con = ctx.lib.allowedTransitions(scheme, labels);
    for (let rep = 0; rep < 3; rep++, trial++) {
      const K = labels.length,
        T = 1 + R.int(K === 5 ? 4 : 5),
        B = 1 + R.int(3);
      const c = randomCase(R, { K, T, B, batchFirst: rep % 2 === 0 });
      await runCase(ctx, c, { instance: con, bits: bits(con, K) }, `${scheme} trial ${trial}`);
    }
  }
  // Hand-made matrices, some of which leave a sequence with no allowed path.
  for (let rep = 0; rep < 10; rep++, trial++) {
    const K = 2 + R.int(3),
      T = 1 + R.int(4),
      B = 1 + R.int(3);
    const m = {
      transitions: Array.from({ length: K }, () => Array.from({ length: K }, () => R.next() < 0.6)),
      start: Array.from({ length: K }, () => R.next() < 0.7),
      end: Array.from({ length: K }, () => R.next() < 0.7),
    };
    const c = randomCase(R, { K, T, B, batchFirst: rep % 2 === 1 });
    await runCase(ctx, c, { instance: m, bits: bits(m, K) }, `hand-made trial ${trial}`);
  }
}

/** @param {Ctx} ctx */
export async function perCallConstraints(ctx) {
  const R = rng(7);
  const [scheme, labels] = SCHEMES[4];
  const con = ctx.lib.allowedTransitions(scheme, labels);
  const K = labels.length;
  for (let rep = 0; rep < 4; rep++) {
    const c = randomCase(R, { K, T: 4, B: 3, batchFirst: rep % 2 === 0 });
    const crf = await create(ctx, K, { batchFirst: c.batchFirst });
    crf.loadStateDict({ start_transitions: c.start, end_transitions: c.end, transitions: c.trans });
    const w = { K, start: crf.startTransitions, end: crf.endTransitions, trans: crf.transitions, allowed: bits(con, K) };
    const want = Array.from({ length: c.B }, (_, b) => bruteForce(compact(c, b).rows, w).sorted);
    equal(
      await crf.decode(c.input.em, { mask: c.input.mask, constraints: con }),
      want.map((s) => s[0].path),
      `per-call decode ${rep}`,
    );
    const top = await crf.decode(c.input.em, { mask: c.input.mask, constraints: con, topK: 3 });
    equal(
      top.map((l) => l.map((x) => x.path)),
      want.map((s) => s.slice(0, 3).map((x) => x.path)),
      `per-call top-3 ${rep}`,
    );
    // The per-call constraints must not stick to the instance.
    const unconstrained = Array.from({ length: c.B }, (_, b) => bruteForce(compact(c, b).rows, { ...w, allowed: undefined }));
    const free = unconstrained.map((bf) => bf.sorted[0].path);
    equal(await crf.decode(c.input.em, { mask: c.input.mask }), free, `unconstrained after per-call ${rep}`);
    // Their probabilities are the model's, p(y | x) over every path the instance allows.
    top.forEach((list, b) =>
      close(
        list.map((x) => Math.exp(x.logProb)),
        list.map((x) => (unconstrained[b].paths.length && compact(c, b).rows.length ? Math.exp(x.score - unconstrained[b].logZ) : 1)),
        tolerance(ctx.backend),
        `per-call top-3 probabilities ${rep} of ${b}`,
      ),
    );
    crf.dispose();
  }
}
