// pytorch-crf 0.7.2 reference vectors (float64): every backend, both layouts.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CRF } from '../src/index.js';
import { availableBackends } from './backends.js';

interface Case {
  num_tags: number; batch_first: boolean;
  start_transitions: number[]; end_transitions: number[]; transitions: number[][];
  emissions: number[][][]; tags: number[][]; mask: number[][];
  log_likelihood: number[]; log_partition: number[]; reductions: Record<string, number>;
  decode: number[][]; marginals: number[][][];
  grads_of_sum_llh: { emissions: number[][][]; start_transitions: number[]; end_transitions: number[]; transitions: number[][] };
  top_k?: { score: number; path: number[] }[][];
}
const vectors = JSON.parse(readFileSync(new URL('./fixtures/pytorch-crf-vectors.json', import.meta.url), 'utf8')) as { cases: Case[] };
const backends = await availableBackends();
const tol = (b: string) => (b === 'js' ? 1e-9 : 2e-3);

const swap = <T>(x: T[][]): T[][] => x[0].map((_, t) => x.map((row) => row[t]));
function close(a: ArrayLike<number>, b: ArrayLike<number>, rel: number) {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThanOrEqual(rel * (1 + Math.abs(b[i])));
}

describe.each(backends)('pytorch-crf vectors on %s', (backend) => {
  describe.each([true, false])('batchFirst %s', (batchFirst) => {
    it.each(vectors.cases.map((c, i) => [i, c] as const))('case %i', async (_i, c) => {
      const crf = await CRF.create(c.num_tags, { backend, batchFirst });
      crf.loadStateDict({ start_transitions: c.start_transitions, end_transitions: c.end_transitions, transitions: c.transitions });
      const em = batchFirst ? c.emissions : swap(c.emissions);
      const tags = batchFirst ? c.tags : swap(c.tags);
      const mask = batchFirst ? c.mask : swap(c.mask);
      const r = tol(backend);
      close((await crf.forward(em, tags, { mask, reduction: 'none' })) as Float32Array, c.log_likelihood, Math.max(r, 1e-6));
      for (const red of ['sum', 'mean', 'token_mean'] as const) {
        expect(Math.abs((await crf.forward(em, tags, { mask, reduction: red })) as number - c.reductions[red])).toBeLessThanOrEqual(Math.max(r, 1e-6) * (1 + Math.abs(c.reductions[red])));
      }
      close(await crf.logPartition(em, { mask }), c.log_partition, Math.max(r, 1e-6));
      expect(await crf.decode(em, { mask })).toEqual(c.decode);
      expect(await crf.viterbiDecode(em, mask)).toEqual(c.decode);
      const K = c.num_tags;
      const marg = await crf.marginals(em, { mask });
      const B = c.emissions.length, T = c.emissions[0].length;
      const at = (b: number, t: number, j: number) => ((batchFirst ? b * T + t : t * B + b) * K + j);
      const g = await crf.forwardBackward(em, tags, { mask });
      for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) for (let j = 0; j < K; j++) {
        expect(Math.abs(marg[at(b, t, j)] - c.marginals[b][t][j])).toBeLessThanOrEqual(Math.max(r, 1e-6));
        expect(Math.abs(g.grads.emissions[at(b, t, j)] - c.grads_of_sum_llh.emissions[b][t][j])).toBeLessThanOrEqual(Math.max(r, 1e-6));
      }
      close(g.grads.startTransitions, c.grads_of_sum_llh.start_transitions, Math.max(r, 1e-6));
      close(g.grads.endTransitions, c.grads_of_sum_llh.end_transitions, Math.max(r, 1e-6));
      close(g.grads.transitions, c.grads_of_sum_llh.transitions.flat(), Math.max(r, 1e-5));
      expect(Math.abs((g.logLikelihood as number) - c.reductions.sum)).toBeLessThanOrEqual(Math.max(r, 1e-6) * (1 + Math.abs(c.reductions.sum)));
      if (c.top_k) {
        const k = Math.max(...c.top_k.map((l) => l.length));
        const got = await crf.decode(em, { mask, topK: k });
        got.forEach((list, b) => {
          expect(list.map((x) => x.path)).toEqual(c.top_k![b].map((x) => x.path));
          close(list.map((x) => x.score), c.top_k![b].map((x) => x.score), Math.max(r, 1e-6));
        });
      }
      crf.dispose();
    });
  });
});
