// Partial annotations (`allowed`): every op that takes one against enumeration of the permitted paths,
// the gradients against the expectations of that enumeration and against finite differences, the
// one-hot and all-allowed identities, masks with gaps, constraints, and annotations permitting no path.
import { bruteForce, rng } from './oracle.js';
import { randomCase, compact } from './bruteforce.js';
import { check, close, create, equal, tolerance } from './util.js';
import { emissionDifferences, parameterDifferences } from './finitediff.js';

/** @typedef {import('./util.js').Ctx} Ctx */
/** @typedef {import('./bruteforce.js').Case} Case */

/**
 * A random annotation in the case's layout: per on position unknown, one tag, or a random subset.
 * @param {import('./oracle.js').Rng} R @param {Case} c @param {{ dead?: boolean }} [options]
 */
function randomAllowed(R, c, { dead = false } = {}) {
  const { K, T, B } = c;
  const dense = Array.from({ length: B }, () =>
    Array.from({ length: T }, () => {
      const kind = R.int(3);
      if (kind === 0) return new Array(K).fill(true);
      if (kind === 1) {
        const y = R.int(K);
        return Array.from({ length: K }, (_, j) => j === y);
      }
      const set = Array.from({ length: K }, () => R.next() < 0.5);
      set[R.int(K)] = true;
      return set;
    }),
  );
  if (dead) {
    // One on position of the last sequence permits nothing.
    const b = B - 1,
      t = c.mask[b].findIndex(Boolean);
    if (t >= 0) dense[b][t] = new Array(K).fill(false);
  }
  return { dense, input: c.batchFirst ? dense : dense[0].map((_, t) => dense.map((row) => row[t])) };
}

/**
 * Per sequence: its compacted annotation rows (on positions, in order).
 * @type {(c: Case, dense: boolean[][][], b: number) => boolean[][]}
 */
const compactAllowed = (c, dense, b) => c.mask[b].flatMap((on, t) => (on ? [dense[b][t]] : []));

/**
 * The enumeration restricted to the paths the annotation permits.
 * @typedef {object} Truth
 * @property {number} logZ
 * @property {ReturnType<typeof bruteForce>} full every path
 * @property {{ path: number[], score: number }[]} paths the permitted ones
 * @property {{ path: number[], score: number }[]} sorted the permitted ones, best first
 * @property {number[][]} marginals
 * @property {number[]} pairs
 * @property {number} entropy
 */

/**
 * @param {number[][]} rows @param {boolean[][]} allowedRows @param {import('./oracle.js').Params} w
 * @returns {Truth}
 */
function restrictedTruth(rows, allowedRows, w) {
  const all = bruteForce(rows, w);
  const ok = (/** @type {{ path: number[] }} */ p) => p.path.every((y, t) => allowedRows[t][y]);
  const kept = all.paths.filter(ok);
  const K = w.K,
    L = rows.length;
  if (L === 0) return { logZ: 0, full: all, paths: kept, marginals: [], pairs: new Array(K * K).fill(0), entropy: 0, sorted: [{ path: [], score: 0 }] };
  // No permitted path: the marginals, pairs and entropy are never read.
  if (kept.length === 0) return /** @type {Truth} */ (/** @type {Partial<Truth>} */ ({ logZ: -Infinity, full: all, paths: kept, sorted: [] }));
  let m = -Infinity;
  for (const p of kept) m = Math.max(m, p.score);
  const z = m + Math.log(kept.reduce((a, p) => a + Math.exp(p.score - m), 0));
  const marg = rows.map(() => new Array(K).fill(0));
  const pairs = new Array(K * K).fill(0);
  let entropy = 0;
  for (const p of kept) {
    const q = Math.exp(p.score - z);
    p.path.forEach((y, t) => {
      marg[t][y] += q;
      if (t > 0) pairs[p.path[t - 1] * K + y] += q;
    });
    if (q > 0) entropy -= q * (p.score - z);
  }
  return { logZ: z, full: all, paths: kept, marginals: marg, pairs, entropy, sorted: [...kept].sort((a, b) => b.score - a.score) };
}

/**
 * @param {Ctx} ctx @param {Case} c @param {string} label
 * @param {{ instance: import('webcrf').ConstraintsInput, bits: import('./bruteforce.js').AllowedBits } | null} constraints
 */
async function checkCase(ctx, c, constraints, label) {
  const R = rng(label.length * 7919 + c.K);
  const r = tolerance(ctx.backend);
  const { K, T, B, batchFirst } = c;
  const crf = await create(ctx, K, { batchFirst, ...(constraints ? { constraints: constraints.instance } : {}) });
  crf.loadStateDict({ start_transitions: c.start, end_transitions: c.end, transitions: c.trans });
  const w = { K, start: crf.startTransitions, end: crf.endTransitions, trans: crf.transitions, allowed: constraints?.bits };
  const { em, mask } = c.input;
  const a = randomAllowed(R, c);
  const seqs = Array.from({ length: B }, (_, b) => {
    const s = compact(c, b);
    return { ...s, truth: restrictedTruth(s.rows, compactAllowed(c, a.dense, b), w) };
  });
  if (seqs.some((s) => s.rows.length && s.truth.full.paths.length === 0)) {
    crf.dispose();
    return;
  } // no path at all: the constraints' own test
  const allowed = a.input;
  const llh = seqs.map((s) => (s.rows.length ? s.truth.logZ - s.truth.full.logZ : 0));
  close(await crf.forward(em, { allowed }, { mask, reduction: 'none' }), llh, r, `${label} llh`);
  for (const v of await crf.forward(em, { allowed }, { mask, reduction: 'none' })) check(v <= 0, `${label}: llh ${v} > 0`);
  const live = seqs.every((s) => !s.rows.length || s.truth.paths.length > 0);
  if (live) {
    close(
      await crf.logPartition(em, { mask, allowed }),
      seqs.map((s) => s.truth.logZ),
      r,
      `${label} restricted logZ`,
    );
    close(
      await crf.entropy(em, { mask, allowed }),
      seqs.map((s) => s.truth.entropy),
      r * 10,
      `${label} restricted entropy`,
    );
    equal(
      await crf.decode(em, { mask, allowed }),
      seqs.map((s) => s.truth.sorted[0].path),
      `${label} decode`,
    );
    const top = await crf.decode(em, { mask, allowed, topK: 3 });
    equal(
      top.map((l) => l.map((x) => x.path)),
      seqs.map((s) => s.truth.sorted.slice(0, 3).map((x) => x.path)),
      `${label} top-3`,
    );
  }
  // Marginals and gradients, scattered to the input layout.
  const at = (/** @type {number} */ b, /** @type {number} */ t) => (batchFirst ? b * T + t : t * B + b) * K;
  const margR = new Float64Array(B * T * K),
    gradE = new Float64Array(B * T * K);
  const gS = new Float64Array(K),
    gE = new Float64Array(K),
    gT = new Float64Array(K * K);
  seqs.forEach((s, b) => {
    const L = s.rows.length;
    if (!L || !s.truth.paths.length) return;
    s.at.forEach((t, i) => {
      for (let j = 0; j < K; j++) {
        margR[at(b, t) + j] = s.truth.marginals[i][j];
        gradE[at(b, t) + j] = s.truth.marginals[i][j] - s.truth.full.marginals[i][j];
      }
    });
    for (let j = 0; j < K; j++) {
      gS[j] += s.truth.marginals[0][j] - s.truth.full.marginals[0][j];
      gE[j] += s.truth.marginals[L - 1][j] - s.truth.full.marginals[L - 1][j];
    }
    for (let q = 0; q < K * K; q++) gT[q] += s.truth.pairs[q] - s.truth.full.pairs[q];
  });
  if (live) close(await crf.marginals(em, { mask, allowed }), margR, r, `${label} restricted marginals`);
  const fb = await crf.forwardBackward(em, { allowed }, { mask, reduction: 'sum' });
  close([fb.logLikelihood], [llh.reduce((x, y) => x + y, 0)], r, `${label} fb llh`);
  if (live) {
    close(fb.grads.emissions, gradE, r, `${label} grad emissions`);
    close(fb.grads.startTransitions, gS, r, `${label} grad start`);
    close(fb.grads.endTransitions, gE, r, `${label} grad end`);
    close(fb.grads.transitions, gT, r, `${label} grad transitions`);
  }
  crf.dispose();
}

/** @param {Ctx} ctx */
export async function partialAnnotations(ctx) {
  const R = rng(2024);
  for (let trial = 0; trial < 12; trial++) {
    const K = 2 + (trial % 3),
      T = 1 + R.int(5),
      B = 1 + R.int(3);
    await checkCase(ctx, randomCase(R, { K, T, B, batchFirst: trial % 2 === 0 }), null, `partial trial ${trial} K=${K} T=${T} B=${B}`);
  }
  const labels = ['O', 'B-X', 'I-X'];
  const con = ctx.lib.allowedTransitions('BIO', labels);
  const bits = { trans: con.transitions.flat(), start: con.start, end: con.end };
  for (let trial = 0; trial < 6; trial++) {
    const c = randomCase(R, { K: 3, T: 2 + R.int(4), B: 2, batchFirst: trial % 2 === 1 });
    await checkCase(ctx, c, { instance: con, bits }, `partial BIO trial ${trial}`);
  }
}

/**
 * One-hot annotations are the tags; all-allowed ones give llh 0 and zero gradients; no path gives −∞.
 * @param {Ctx} ctx
 */
export async function partialIdentities(ctx) {
  const R = rng(77);
  const r = tolerance(ctx.backend);
  for (let trial = 0; trial < 4; trial++) {
    const K = 3 + trial,
      T = 3 + R.int(5),
      B = 3;
    const c = randomCase(R, { K, T, B, batchFirst: trial % 2 === 0 });
    const crf = await create(ctx, K, { batchFirst: c.batchFirst, seed: trial });
    const { em, mask, tags } = c.input;
    // The tags as a one-hot annotation (off positions: anything).
    const oneHot = tags.map((row) => row.map((y) => Array.from({ length: K }, (_, j) => j === y)));
    const label = `identity trial ${trial}`;
    close(
      await crf.forward(em, { allowed: oneHot }, { mask, reduction: 'none' }),
      await crf.forward(em, tags, { mask, reduction: 'none' }),
      r,
      `${label} one-hot llh`,
    );
    const a = await crf.forwardBackward(em, { allowed: oneHot }, { mask, reduction: 'mean' });
    const b = await crf.forwardBackward(em, tags, { mask, reduction: 'mean' });
    close(a.grads.emissions, b.grads.emissions, r, `${label} one-hot grad emissions`);
    close(a.grads.transitions, b.grads.transitions, r, `${label} one-hot grad transitions`);
    close(a.grads.startTransitions, b.grads.startTransitions, r, `${label} one-hot grad start`);
    // The helper builds the same annotation from tags with an unknown marker.
    const fromHelper = ctx.lib.allowedFromTags(
      tags.map((row) => row.map((y) => (Number.isInteger(y) && y >= 0 && y < K ? y : -1))),
      K,
    );
    close(
      await crf.forward(em, { allowed: fromHelper }, { mask, reduction: 'none' }),
      await crf.forward(em, tags, { mask, reduction: 'none' }),
      r,
      `${label} allowedFromTags`,
    );
    const all = tags.map((row) => row.map(() => new Array(K).fill(true)));
    const z = await crf.forwardBackward(em, { allowed: all }, { mask, reduction: 'none' });
    for (const v of z.logLikelihood) check(Math.abs(v) <= r, `${label}: all-allowed llh ${v}`);
    for (const v of z.grads.emissions) check(Math.abs(v) <= r, `${label}: all-allowed grad ${v}`);
    // A position that permits nothing: llh −Infinity in forward, no gradient from that sequence, and
    // CRFInputError(allowed) from the ops that take it as an option.
    const dead = oneHot.map((row) => row.map((set) => set.slice()));
    const b0 = c.mask.findIndex((m) => m.some(Boolean));
    const t0 = c.mask[b0].findIndex(Boolean);
    const cell = c.batchFirst ? dead[b0][t0] : dead[t0][b0];
    cell.fill(false);
    const llh = await crf.forward(em, { allowed: dead }, { mask, reduction: 'none' });
    check(llh[b0] === -Infinity, `${label}: dead annotation llh ${llh[b0]}`);
    const fb = await crf.forwardBackward(em, { allowed: dead }, { mask, reduction: 'none' });
    check(fb.logLikelihood[b0] === -Infinity, `${label}: dead annotation fb llh`);
    for (const v of fb.grads.emissions) check(Number.isFinite(v), `${label}: dead annotation grad ${v}`);
    for (const call of [
      () => crf.decode(em, { mask, allowed: dead }),
      () => crf.marginals(em, { mask, allowed: dead }),
      () => crf.logPartition(em, { mask, allowed: dead }),
    ]) {
      let err = null;
      try {
        await call();
      } catch (e) {
        err = e;
      }
      check(err instanceof ctx.lib.CRFInputError && err.argument === 'allowed', `${label}: dead annotation gave ${err}`);
    }
    // Gold tags the constraints forbid (sequence b0's first tag may not start a path): −Infinity, and the
    // gradients of score(y) − log Z term by term, as pytorch-crf's autograd gives them: the gold one-hot
    // minus the constrained marginals, every sequence. The same tags as a one-hot annotation: −Infinity
    // and no gradient from b0 (docs/training.md).
    const at = (/** @type {any[]} */ a, /** @type {number} */ b, /** @type {number} */ t) => (c.batchFirst ? a[b][t] : a[t][b]);
    const y0 = at(tags, b0, t0);
    const start = Array.from({ length: K }, (_, j) => j !== y0);
    const transitions = Array.from({ length: K }, () => new Array(K).fill(true));
    const ruled = await create(ctx, K, { batchFirst: c.batchFirst, seed: trial, constraints: { transitions, start } });
    const gold = await ruled.forwardBackward(em, tags, { mask });
    check(gold.logLikelihood === -Infinity, `${label}: forbidden gold llh ${gold.logLikelihood}`);
    const p = await ruled.marginals(em, { mask });
    const offset = (/** @type {number} */ b, /** @type {number} */ t) => (c.batchFirst ? b * T + t : t * B + b) * K;
    for (let b = 0; b < B; b++)
      for (let t = 0; t < T; t++) {
        const on = c.mask[b][t];
        for (let j = 0; j < K; j++) {
          const want = on ? (at(tags, b, t) === j ? 1 : 0) - p[offset(b, t) + j] : 0;
          check(
            Math.abs(gold.grads.emissions[offset(b, t) + j] - want) <= r,
            `${label}: forbidden gold grad [${b}][${t}][${j}] ${gold.grads.emissions[offset(b, t) + j]} vs ${want}`,
          );
        }
      }
    // The forbidden start tag's gradient too: its gold count, where the constrained expectation is 0.
    const startWant = new Array(K).fill(0);
    for (let b = 0; b < B; b++) {
      const first = c.mask[b].findIndex(Boolean);
      if (first < 0) continue;
      startWant[at(tags, b, first)] += 1;
      for (let j = 0; j < K; j++) startWant[j] -= p[offset(b, first) + j];
    }
    check(startWant[y0] >= 1 - r, `${label}: the forbidden start's gold count ${startWant[y0]}`);
    for (let j = 0; j < K; j++)
      check(
        Math.abs(gold.grads.startTransitions[j] - startWant[j]) <= r * B,
        `${label}: forbidden gold start grad [${j}] ${gold.grads.startTransitions[j]} vs ${startWant[j]}`,
      );
    const asAnnotation = await ruled.forwardBackward(em, { allowed: oneHot }, { mask, reduction: 'none' });
    check(asAnnotation.logLikelihood[b0] === -Infinity, `${label}: forbidden annotation llh`);
    for (let t = 0; t < T; t++)
      for (let j = 0; j < K; j++) check(asAnnotation.grads.emissions[offset(b0, t) + j] === 0, `${label}: forbidden annotation grad at [${t}][${j}]`);
    ruled.dispose();
    crf.dispose();
  }
}

/**
 * The partial log-likelihood's gradients against central finite differences of the float64 reference.
 * @param {Ctx} ctx
 */
export async function partialFiniteDifferences(ctx) {
  const R = rng(4711);
  const K = 3,
    T = 4,
    B = 2;
  const c = randomCase(R, { K, T, B, batchFirst: true });
  const a = randomAllowed(R, c);
  const ref = await ctx.lib.CRF.create(K, { backend: 'js' });
  ref.loadStateDict({ start_transitions: c.start, end_transitions: c.end, transitions: c.trans });
  const crf = await create(ctx, K);
  crf.loadStateDict(ref.stateDict());
  const { em, mask } = c.input;
  const allowed = a.input;
  const g = (await crf.forwardBackward(em, { allowed }, { mask, reduction: 'sum' })).grads;
  const f = () => ref.forward(em, { allowed }, { mask, reduction: 'sum' });
  close(g.emissions, await emissionDifferences(em, f), 1e-3, 'partial fd emissions');
  close(g.transitions, await parameterDifferences(ref.transitions, f), 2e-3, 'partial fd transitions');
  ref.dispose();
  crf.dispose();
}
