// The numbers at the edges of float32 and float64: the gold path's score and log Z from the same values
// (llh ≤ 0 where mixed precision gave +0.0079), probabilities built from decode's lists (never above 1,
// however large the scores), log Z kept in float64, and the float64 reference's entropy to 1e-9.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CRF } from '../../src/index.js';
import { JsBackend } from '../../src/backends/js/backend.js';
import { listLogProbs } from '../../src/model/probabilities.js';
import { availableBackends, backendVariants, splitEveryCall } from '../backends.js';
import { bruteForce, rng } from '../suites/oracle.js';

const backends = await availableBackends();
const variants = await backendVariants();
let restoreSplit = () => {};
beforeAll(async () => {
  restoreSplit = await splitEveryCall();
});
afterAll(() => restoreSplit());

/** `[B, T, K]` float32 emissions of normal(0, scale), clamped to the supported ±1e20. */
function emissionsAt(seed: number, B: number, T: number, K: number, scale: number) {
  const R = rng(seed);
  return { data: Float32Array.from({ length: B * T * K }, () => Math.max(-1e20, Math.min(1e20, scale * R.normal()))), shape: [B, T, K] };
}

describe.each(backends.map((b) => [b.name, b.options] as const))('%s: score and partition from the same values', (name, options) => {
  it('50 steps of float64 emissions [10000.0004, -10000]: llh ≤ 0, and the float64 llh of the values computed on', async () => {
    const crf = await CRF.create(2, { backend: name, ...options, seed: 1 });
    const ref = await CRF.create(2, { backend: 'js' });
    ref.loadStateDict(crf.stateDict());
    for (const [hi, lo] of [
      [10000.0004, -10000],
      [1e8 + 0.3, -1e8],
      [-3e19 + 12345, 1e19 + 0.5],
    ]) {
      const em = [Array.from({ length: 50 }, () => [hi, lo])];
      const tags = [new Array(50).fill(0)];
      const llh = await crf.forward(em, tags, { reduction: 'none' });
      expect(llh[0]).toBeLessThanOrEqual(0);
      // The values a float32 backend computes on are the float32 roundings of the input.
      const seen = name === 'js' ? em : [em[0].map((r) => r.map(Math.fround))];
      const want = await ref.forward(seen, tags, { reduction: 'none' });
      expect(Math.abs(llh[0] - want[0])).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(want[0])));
    }
  });
});

describe('the float64 reference entropy', () => {
  it('is within 1e-9 of a stable enumeration on confident, mixed and uniform sequences', async () => {
    const js = await JsBackend.create();
    const K = 3;
    const w = {
      K,
      start: Float64Array.of(0.1, -0.2, 0.05),
      end: Float64Array.of(0, 0.1, -0.1),
      trans: Float64Array.of(0.1, -0.05, 0.02, 0.3, 0, -0.1, 0, 0.2, 0.1),
    };
    const cases = [
      Array.from({ length: 6 }, (_, i) => [100, 100 - 16 - (i % 3), 70]),
      Array.from({ length: 5 }, (_, i) => [100, 100 - 24 - (i % 2), 60]),
      Array.from({ length: 7 }, (_, i) => [100, 100 - 3 - (i % 3) * 0.5, 99 - i]),
      Array.from({ length: 4 }, () => [5, 5, 5]),
    ];
    for (const rows of cases) {
      const p = {
        B: 1,
        T: rows.length,
        K,
        emissions: Float64Array.from(rows.flat()),
        lengths: Int32Array.of(rows.length),
        positions: Int32Array.from(rows, (_, t) => t),
      };
      const { entropy } = await js.run('entropy', p, w);
      const want = bruteForce(rows, w).entropy;
      expect(Math.abs(entropy[0] - want)).toBeLessThanOrEqual(1e-9 * want);
    }
  });
});

describe.each(variants.map((v) => [v.label, v] as const))('%s: probabilities from decode', (_label, v) => {
  it('top-k lists: each exp(logProb) ≤ 1 and each list sums to ≤ 1, at emission scales 1e-3 to 1e20 (K = 3, T = 40, 50 sequences, with and without BIO constraints)', async () => {
    for (const constraints of [
      undefined,
      {
        transitions: [
          [true, true, false],
          [true, true, true],
          [true, true, true],
        ],
        start: [true, true, false],
        end: [true, true, true],
      },
    ]) {
      const crf = await CRF.create(3, { backend: v.name, ...v.options, seed: 1, constraints });
      for (const scale of [1e-3, 1, 1e3, 1e6, 1e12, 1e20]) {
        const em = emissionsAt(7, 50, 40, 3, scale);
        const mask = { data: Uint8Array.from({ length: 50 * 40 }, (_, i) => (i % 40 < 40 - ((i / 40) | 0) ? 1 : 0)), shape: [50, 40] };
        for (const k of [1, 4]) {
          const lists = await crf.decode(em, { mask, topK: k });
          lists.forEach((list, b) => {
            let sum = 0;
            for (const { logProb } of list) {
              expect(Math.exp(logProb), `scale ${scale} k ${k} sequence ${b}`).toBeLessThanOrEqual(1);
              sum += Math.exp(logProb);
            }
            expect(sum, `scale ${scale} k ${k} sequence ${b}: the list's mass`).toBeLessThanOrEqual(1);
          });
        }
      }
      crf.dispose();
    }
  });

  it('top-k probabilities agree with enumeration (K = 3, T = 6: log p = score − log Z over every path)', async () => {
    const crf = await CRF.create(3, { backend: v.name, ...v.options, seed: 2 });
    const w = { K: 3, start: crf.startTransitions, end: crf.endTransitions, trans: crf.transitions };
    for (const scale of [1e-3, 1, 10]) {
      const em = emissionsAt(11, 4, 6, 3, scale);
      const lists = await crf.decode(em, { topK: 5 });
      lists.forEach((list, b) => {
        const rows = Array.from({ length: 6 }, (_, t) => Array.from(em.data.subarray((b * 6 + t) * 3, (b * 6 + t + 1) * 3)));
        const bf = bruteForce(rows, w);
        list.forEach((p, r) =>
          expect(Math.abs(Math.exp(p.logProb) - Math.exp(bf.sorted[r].score - bf.logZ)), `scale ${scale} [${b}][${r}]`).toBeLessThan(
            v.name === 'js' ? 1e-12 : 1e-5,
          ),
        );
      });
    }
    crf.dispose();
  });

  it('logPartition returns log Z in float64: at emission scale 1e6 within 1e-10 of its size of enumeration on the same values (a float32 log Z is off by up to 1)', async () => {
    const crf = await CRF.create(3, { backend: v.name, ...v.options, seed: 1 });
    const w = { K: 3, start: crf.startTransitions, end: crf.endTransitions, trans: crf.transitions };
    const em = emissionsAt(7, 5, 8, 3, 1e6);
    const z = await crf.logPartition(em);
    expect(z).toBeInstanceOf(Float64Array);
    z.forEach((got, b) => {
      const rows = Array.from({ length: 8 }, (_, t) => Array.from(em.data.subarray((b * 8 + t) * 3, (b * 8 + t + 1) * 3)));
      const want = bruteForce(rows, w).logZ;
      expect(Math.abs(got - want), `sequence ${b}: ${got} vs ${want}`).toBeLessThanOrEqual(1e-10 * Math.abs(want));
    });
    crf.dispose();
  });
});

describe('top-k log-probabilities from scores and log Z', () => {
  it("sum to ≤ 1 in float64 in any order, and stay within 1e-12 of score − max(log Z, the log of the list's mass), for lists of near-ties that hold nearly all the mass", () => {
    const R = rng(5);
    for (let trial = 0; trial < 2000; trial++) {
      const n = 1 + R.int(60);
      const base = [0, 1, 1e3, 1e6, -1e9][trial % 5];
      const scores = Array.from({ length: n }, () => base - (R.next() < 0.5 ? 0 : R.next() * [1e-12, 1e-3, 1, 30][R.int(4)])).sort((a, b) => b - a);
      let lse = 0;
      for (const s of scores) lse += Math.exp(s - scores[0]);
      // log Z as a backend may round it: the list's exact mass, a hair below or above it.
      const logZ = scores[0] + Math.log(lse) + [0, -1e-15, 1e-15, -1e-9, 1e-9][R.int(5)] * (1 + Math.abs(base));
      const out = new Float64Array(n);
      listLogProbs(Float64Array.from(scores), 0, n, logZ, out);
      const p = Array.from(out, Math.exp);
      for (const sum of [p.reduce((a, v) => a + v, 0), p.reduceRight((a, v) => a + v, 0), [...p].sort((a, b) => a - b).reduce((a, v) => a + v, 0)]) {
        expect(sum, `trial ${trial}`).toBeLessThanOrEqual(1);
      }
      const norm = Math.max(logZ - scores[0], Math.log(lse));
      out.forEach((lp, r) => expect(Math.abs(lp - (scores[r] - scores[0] - norm)), `trial ${trial} [${r}]`).toBeLessThanOrEqual(1e-12));
    }
  });
});
