// pytorch-crf 0.7.2 float64 reference vectors, in both layouts.
import { check, close, create, equal, swap, tolerance } from './util.js';

/** @param {import('./util.js').Ctx} ctx */
export async function conformance(ctx) {
  const r = tolerance(ctx.backend);
  for (const [ci, c] of ctx.vectors.cases.entries()) {
    for (const batchFirst of [true, false]) {
      const tag = `case ${ci} batchFirst=${batchFirst}`;
      const crf = await create(ctx, c.num_tags, { batchFirst });
      crf.loadStateDict({ start_transitions: c.start_transitions, end_transitions: c.end_transitions, transitions: c.transitions });
      const em = batchFirst ? c.emissions : swap(c.emissions);
      const tags = batchFirst ? c.tags : swap(c.tags);
      const mask = batchFirst ? c.mask : swap(c.mask);
      close(await crf.forward(em, tags, { mask, reduction: 'none' }), c.log_likelihood, r, `${tag} llh`);
      for (const red of /** @type {const} */ (['sum', 'mean', 'token_mean'])) {
        close([await crf.forward(em, tags, { mask, reduction: red })], [c.reductions[red]], r, `${tag} ${red}`);
      }
      close(await crf.logPartition(em, { mask }), c.log_partition, r, `${tag} logZ`);
      equal(await crf.decode(em, { mask }), c.decode, `${tag} decode`);
      equal(await crf.viterbiDecode(em, mask), c.decode, `${tag} viterbiDecode`);
      const K = c.num_tags,
        B = c.emissions.length,
        T = c.emissions[0].length;
      const toLayout = (/** @type {number[][][]} */ x) => {
        const out = new Float64Array(B * T * K);
        for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) for (let j = 0; j < K; j++) out[(batchFirst ? b * T + t : t * B + b) * K + j] = x[b][t][j];
        return out;
      };
      close(await crf.marginals(em, { mask }), toLayout(c.marginals), r, `${tag} marginals`);
      const g = await crf.forwardBackward(em, tags, { mask });
      close([g.logLikelihood], [c.reductions.sum], r, `${tag} forwardBackward llh`);
      close(g.grads.emissions, toLayout(c.grads_of_sum_llh.emissions), r, `${tag} grad emissions`);
      close(g.grads.startTransitions, c.grads_of_sum_llh.start_transitions, r, `${tag} grad start`);
      close(g.grads.endTransitions, c.grads_of_sum_llh.end_transitions, r, `${tag} grad end`);
      close(g.grads.transitions, c.grads_of_sum_llh.transitions.flat(), r, `${tag} grad transitions`);
      const topK = c.top_k;
      if (topK) {
        const k = Math.max(...topK.map((l) => l.length));
        const got = await crf.decode(em, { mask, topK: k });
        got.forEach((list, b) => {
          equal(
            list.map((x) => x.path),
            topK[b].map((x) => x.path),
            `${tag} top-${k} paths of ${b}`,
          );
          close(
            list.map((x) => x.score),
            topK[b].map((x) => x.score),
            r,
            `${tag} top-${k} scores of ${b}`,
          );
        });
      }
      check(crf.backend === ctx.backend, `${tag}: ran on ${crf.backend}, not ${ctx.backend}`);
      crf.dispose();
    }
  }
}
