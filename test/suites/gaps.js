// Masks with gaps: each sequence's results equal those on its compacted on positions.
import { rng } from './oracle.js';
import { randomCase, compact } from './bruteforce.js';
import { close, create, equal, tolerance } from './util.js';

/** @param {import('./util.js').Ctx} ctx */
export async function gapMasks(ctx) {
  const R = rng(4242);
  const r = tolerance(ctx.backend);
  for (let trial = 0; trial < 6; trial++) {
    const K = [2, 5, 9, 16, 3, 7][trial],
      T = 3 + R.int(14),
      B = 1 + R.int(5);
    const c = randomCase(R, { K, T, B, batchFirst: trial % 2 === 0 });
    const crf = await create(ctx, K, { batchFirst: true, seed: trial });
    crf.loadStateDict({ start_transitions: c.start, end_transitions: c.end, transitions: c.trans });
    const seqs = Array.from({ length: B }, (_, b) => compact(c, b));
    const Tc = Math.max(1, ...seqs.map((s) => s.rows.length));
    // The compacted batch: right-padded, batch-first, first step on (pytorch-crf's setting).
    const em = seqs.map((s) => Array.from({ length: Tc }, (_, t) => s.rows[t] ?? new Array(K).fill(0)));
    const mask = seqs.map((s) => Array.from({ length: Tc }, (_, t) => (t < s.rows.length ? 1 : 0)));
    const tags = seqs.map((s) => Array.from({ length: Tc }, (_, t) => s.tags[t] ?? -100));
    const gapped = await create(ctx, K, { batchFirst: c.batchFirst });
    gapped.loadStateDict(crf.stateDict());
    const g = c.input;
    const label = `gap trial ${trial} K=${K} T=${T} B=${B}`;
    equal(await gapped.decode(g.em, { mask: g.mask }), await crf.decode(em, { mask }), `${label} decode`);
    close(await gapped.forward(g.em, g.tags, { mask: g.mask, reduction: 'none' }), await crf.forward(em, tags, { mask, reduction: 'none' }), r, `${label} llh`);
    close(await gapped.logPartition(g.em, { mask: g.mask }), await crf.logPartition(em, { mask }), r, `${label} logZ`);
    close(await gapped.entropy(g.em, { mask: g.mask }), await crf.entropy(em, { mask }), r * 10, `${label} entropy`);
    const top = (/** @type {import('webcrf').ScoredPath[][]} */ x) => x.map((l) => l.map((p) => p.path));
    equal(top(await gapped.decode(g.em, { mask: g.mask, topK: 3 })), top(await crf.decode(em, { mask, topK: 3 })), `${label} top-3`);
    // Draws are keyed by the sequence's index and the step among its on positions: the same on the compacted batch.
    const drawn = { numSamples: 5, seed: 3 + trial };
    equal(await gapped.sample(g.em, { mask: g.mask, ...drawn }), await crf.sample(em, { mask, ...drawn }), `${label} sample`);
    // Scatter the compacted marginals and gradients back to the gapped positions.
    const scatter = (/** @type {ArrayLike<number>} */ src) => {
      const out = new Float64Array(B * T * K);
      seqs.forEach((s, b) =>
        s.at.forEach((t, i) => {
          const dst = (c.batchFirst ? b * T + t : t * B + b) * K;
          for (let j = 0; j < K; j++) out[dst + j] = src[(b * Tc + i) * K + j];
        }),
      );
      return out;
    };
    close(await gapped.marginals(g.em, { mask: g.mask }), scatter(await crf.marginals(em, { mask })), r, `${label} marginals`);
    const a = await gapped.forwardBackward(g.em, g.tags, { mask: g.mask, reduction: 'token_mean' });
    const b = await crf.forwardBackward(em, tags, { mask, reduction: 'token_mean' });
    close([a.logLikelihood], [b.logLikelihood], r, `${label} fb llh`);
    close(a.grads.emissions, scatter(b.grads.emissions), r, `${label} grad emissions`);
    for (const k of /** @type {const} */ (['startTransitions', 'endTransitions', 'transitions'])) close(a.grads[k], b.grads[k], r, `${label} grad ${k}`);
    crf.dispose();
    gapped.dispose();
  }
}
