// Property tests (fast-check) on every backend: invariants that must hold for any input.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as lib from '../../src/index.js';
import { nodeBackends } from '../../scripts/node-backends.js';
import { backendVariants, splitEveryCall } from '../backends.js';

const backends: { name: lib.BackendName; options: object }[] = await nodeBackends(lib);
const variants = await backendVariants();
const tol = (b: string) => (b === 'js' ? 1e-6 : 2e-3);

const caseArb = fc.record({ K: fc.integer({ min: 1, max: 6 }), T: fc.integer({ min: 1, max: 8 }), B: fc.integer({ min: 1, max: 4 }) }).chain(({ K, T, B }) =>
  fc.record({
    K: fc.constant(K),
    T: fc.constant(T),
    B: fc.constant(B),
    em: fc.array(fc.float({ min: -5, max: 5, noNaN: true, noDefaultInfinity: true }), { minLength: B * T * K, maxLength: B * T * K }),
    mask: fc.array(fc.array(fc.boolean(), { minLength: T, maxLength: T }), { minLength: B, maxLength: B }),
    params: fc.array(fc.float({ min: -3, max: 3, noNaN: true, noDefaultInfinity: true }), { minLength: 2 * K + K * K, maxLength: 2 * K + K * K }),
    samples: fc.array(fc.array(fc.array(fc.nat(K - 1), { minLength: T, maxLength: T }), { minLength: B, maxLength: B }), { minLength: 1, maxLength: 5 }),
    perm: fc.shuffledSubarray(
      Array.from({ length: B }, (_, i) => i),
      { minLength: B, maxLength: B },
    ),
  }),
);

type Case = { K: number; T: number; B: number; em: number[]; mask: boolean[][]; params: number[]; samples: number[][][]; perm: number[] };

const nested = (c: Case) =>
  Array.from({ length: c.B }, (_, b) => Array.from({ length: c.T }, (_, t) => c.em.slice((b * c.T + t) * c.K, (b * c.T + t + 1) * c.K)));

async function make(backend: { name: lib.BackendName; options: object }, c: Case) {
  const crf = await lib.CRF.create(c.K, { backend: backend.name, ...backend.options });
  const K = c.K;
  crf.loadStateDict({ start_transitions: c.params.slice(0, K), end_transitions: c.params.slice(K, 2 * K), transitions: c.params.slice(2 * K) });
  return crf;
}

describe.each(backends.map((b) => [b.name, b] as const))('properties on %s', (_name, backend) => {
  const run = (prop: (c: Case) => Promise<void>, numRuns = 40) => fc.assert(fc.asyncProperty(caseArb, prop), { numRuns, seed: 2026 });

  it('marginals sum to 1 at every on position and are 0 elsewhere', () =>
    run(async (c) => {
      const crf = await make(backend, c);
      const m = await crf.marginals(nested(c), { mask: c.mask });
      for (let b = 0; b < c.B; b++)
        for (let t = 0; t < c.T; t++) {
          let s = 0;
          for (let j = 0; j < c.K; j++) s += m[(b * c.T + t) * c.K + j];
          expect(Math.abs(s - (c.mask[b][t] ? 1 : 0))).toBeLessThan(tol(backend.name) * 10);
        }
      crf.dispose();
    }));

  it('log-likelihood ≤ 0, and the decoded path has the highest score and log-likelihood among samples', () =>
    run(async (c) => {
      const crf = await make(backend, c);
      const em = nested(c);
      const best = await crf.decode(em, { mask: c.mask });
      // Decoded paths padded back to the dense layout, tags at off positions arbitrary.
      const dense = best.map((p, b) => {
        let i = 0;
        return c.mask[b].map((on) => (on ? p[i++] : -100));
      });
      const bestLlh = (await crf.forward(em, dense, { mask: c.mask, reduction: 'none' })) as Float32Array;
      for (const sample of c.samples) {
        const llh = (await crf.forward(em, sample, { mask: c.mask, reduction: 'none' })) as Float32Array;
        for (let b = 0; b < c.B; b++) {
          expect(llh[b]).toBeLessThanOrEqual(tol(backend.name));
          expect(bestLlh[b]).toBeGreaterThanOrEqual(llh[b] - tol(backend.name) * (1 + Math.abs(llh[b])));
        }
      }
      crf.dispose();
    }));

  it('permuting the batch permutes the results', () =>
    run(async (c) => {
      const crf = await make(backend, c);
      const em = nested(c);
      const pem = c.perm.map((i) => em[i]);
      const pmask = c.perm.map((i) => c.mask[i]);
      const tags = c.samples[0];
      const ptags = c.perm.map((i) => tags[i]);
      const a = (await crf.forward(em, tags, { mask: c.mask, reduction: 'none' })) as Float32Array;
      const b = (await crf.forward(pem, ptags, { mask: pmask, reduction: 'none' })) as Float32Array;
      c.perm.forEach((i, k) => expect(b[k]).toBeCloseTo(a[i], 4));
      const d = await crf.decode(em, { mask: c.mask });
      expect(await crf.decode(pem, { mask: pmask })).toEqual(c.perm.map((i) => d[i]));
      crf.dispose();
    }));

  it('padding with extra masked steps changes nothing', () =>
    run(async (c) => {
      const crf = await make(backend, c);
      const em = nested(c);
      const pad = 1 + (c.K % 3);
      const em2 = em.map((row) => [...row, ...Array.from({ length: pad }, () => new Array(c.K).fill(7))]);
      const mask2 = c.mask.map((row) => [...row, ...new Array(pad).fill(false)]);
      const tags2 = c.samples[0].map((row) => [...row, ...new Array(pad).fill(-100)]);
      expect(await crf.decode(em2, { mask: mask2 })).toEqual(await crf.decode(em, { mask: c.mask }));
      const a = (await crf.forward(em, c.samples[0], { mask: c.mask, reduction: 'none' })) as Float32Array;
      const b = (await crf.forward(em2, tags2, { mask: mask2, reduction: 'none' })) as Float32Array;
      a.forEach((v, i) => expect(b[i]).toBeCloseTo(v, 4));
      crf.dispose();
    }));

  it('memoryUsage() counts what the calls keep: the same after the same calls again, and 0 once disposed', () =>
    run(async (c) => {
      const crf = await make(backend, c);
      const em = nested(c);
      const calls = async () => {
        await crf.forwardBackward(em, c.samples[0], { mask: c.mask });
        await crf.decode(em, { mask: c.mask, topK: 2 });
        await crf.entropy(em, { mask: c.mask });
        return crf.memoryUsage();
      };
      const first = await calls();
      // What a call keeps (at least its potentials and input arrays) is counted.
      expect(first.cacheBytes).toBeGreaterThan(0);
      expect(await calls()).toEqual(first);
      crf.dispose();
      expect(crf.memoryUsage()).toEqual({ wasmBytes: 0, gpuBytes: 0, cacheBytes: 0 });
    }, 12));
});

/**
 * Probabilities built from the documented outputs, at emission scales from 1e-3 to the supported 1e20:
 * decode's top-k `logProb` (each exp ≤ 1, a list's sum ≤ 1), `forward`'s log-likelihood of any path and
 * of a partial annotation (≤ 0), marginals in [0, 1]; and, where float32 (or float64) resolves the
 * scores, the same probabilities as the float64 reference's.
 */
describe('probabilities from documented outputs', () => {
  const SCALES = [1e-3, 1, 1e3, 1e6, 1e12, 1e20];
  const probArb = fc.record({ K: fc.integer({ min: 1, max: 6 }), T: fc.integer({ min: 1, max: 8 }), B: fc.integer({ min: 1, max: 4 }) }).chain(({ K, T, B }) =>
    fc.record({
      K: fc.constant(K),
      T: fc.constant(T),
      B: fc.constant(B),
      scale: fc.constantFrom(...SCALES),
      em: fc.array(fc.float({ min: -1, max: 1, noNaN: true, noDefaultInfinity: true }), { minLength: B * T * K, maxLength: B * T * K }),
      mask: fc.array(fc.array(fc.boolean(), { minLength: T, maxLength: T }), { minLength: B, maxLength: B }),
      params: fc.array(fc.float({ min: -3, max: 3, noNaN: true, noDefaultInfinity: true }), { minLength: 2 * K + K * K, maxLength: 2 * K + K * K }),
      // Forbidden starts, ends and transitions (−Infinity parameters); tag 0 and staying on a tag stay allowed.
      forbid: fc.array(fc.boolean(), { minLength: 2 * K + K * K, maxLength: 2 * K + K * K }),
      topK: fc.integer({ min: 1, max: 6 }),
      annotation: fc.array(fc.nat(K), { minLength: B * T, maxLength: B * T }),
    }),
  );
  type ProbCase = typeof probArb extends fc.Arbitrary<infer C> ? C : never;

  let restoreSplit = () => {};
  const crfs = new Map<string, lib.CRF>();
  beforeAll(async () => {
    restoreSplit = await splitEveryCall();
  });
  afterAll(() => {
    restoreSplit();
    for (const c of crfs.values()) c.dispose();
  });
  /** One instance per backend variant and K (creating one per case would start a worker each time). */
  async function instance(v: { label: string; name: lib.BackendName; options: lib.CRFOptions }, c: ProbCase) {
    const key = `${v.label} ${c.K}`;
    let crf = crfs.get(key);
    if (!crf) crfs.set(key, (crf = await lib.CRF.create(c.K, { backend: v.name, ...v.options })));
    const K = c.K;
    const p = c.params.map((x, i) => {
      const tag = i < 2 * K ? i % K : (i - 2 * K) % K;
      const stay = i >= 2 * K && Math.floor((i - 2 * K) / K) === tag;
      return c.forbid[i] && tag !== 0 && !stay ? -Infinity : x;
    });
    crf.loadStateDict({ start_transitions: p.slice(0, K), end_transitions: p.slice(K, 2 * K), transitions: p.slice(2 * K) });
    return crf;
  }
  const emissions = (c: ProbCase) => ({ data: Float32Array.from(c.em, (x) => x * c.scale), shape: [c.B, c.T, c.K] });
  /** Rounding of a probability built from scores of this case's size, in the backend's precision. */
  const noise = (c: ProbCase, name: string) => {
    const size = c.T * (c.scale + 3) + 6;
    return (name === 'js' ? 2 ** -52 : 6e-8) * 4 * size;
  };

  it.each(variants.map((v) => [v.label, v] as const))(
    "%s: every probability ≤ 1, every list ≤ 1, and the float64 reference's where resolved",
    async (_label, v) => {
      const ref = variants.find((x) => x.name === 'js')!;
      await fc.assert(
        fc.asyncProperty(probArb, async (c) => {
          const em = emissions(c);
          const mask = c.mask;
          const crf = await instance(v, c);
          const lists = await crf.decode(em, { mask, topK: c.topK });
          lists.forEach((list) => {
            let sum = 0;
            for (const x of list) {
              expect(Math.exp(x.logProb)).toBeLessThanOrEqual(1);
              sum += Math.exp(x.logProb);
            }
            expect(sum).toBeLessThanOrEqual(1);
            // In any order.
            expect(list.reduceRight((a, x) => a + Math.exp(x.logProb), 0)).toBeLessThanOrEqual(1);
          });
          // forward's log-likelihood of each listed path, and of a partial annotation.
          for (let r = 0; r < c.topK; r++) {
            const tags = lists.map((list, b) => {
              const path = list[Math.min(r, list.length - 1)].path;
              let i = 0;
              return mask[b].map((on) => (on ? path[i++] : -1));
            });
            for (const llh of await crf.forward(em, tags, { mask, reduction: 'none' })) expect(Math.exp(llh)).toBeLessThanOrEqual(1);
          }
          const allowed = Array.from({ length: c.B }, (_, b) =>
            Array.from({ length: c.T }, (_, t) => Array.from({ length: c.K }, (_, j) => c.annotation[b * c.T + t] === c.K || c.annotation[b * c.T + t] === j)),
          );
          for (const llh of await crf.forward(em, { allowed }, { mask, reduction: 'none' })) expect(Math.exp(llh)).toBeLessThanOrEqual(1);
          for (const m of await crf.marginals(em, { mask })) expect(m >= 0 && m <= 1).toBe(true);
          if (v.name === 'js' || noise(c, v.name) > 0.1) return;
          // The float64 reference's probabilities for the same paths (near-ties may order them apart).
          const want = await (await instance(ref, c)).decode(em, { mask, topK: c.topK });
          want.forEach((list, b) => {
            const mine = new Map(lists[b].map((x) => [x.path.join(), Math.exp(x.logProb)]));
            for (const x of list) {
              const p = mine.get(x.path.join());
              if (p !== undefined) expect(Math.abs(p - Math.exp(x.logProb))).toBeLessThanOrEqual(noise(c, v.name) + 1e-6);
            }
          });
        }),
        // Fewer on webgpu: SwiftShader takes a tenth of a second a call.
        { numRuns: v.name === 'webgpu' ? 6 : 40, seed: 2027 },
      );
    },
  );
});
