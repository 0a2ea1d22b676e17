// Long chains and larger K on every backend against the float64 reference: the GPU's time loop and
// the WASM scaling across thousands of steps, and an entropy whose error does not grow with T.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as lib from '../../src/index.js';
import { ENTROPY_MAX_T } from '../../src/backends/webgpu/ops/entropy.js';
import { availableBackends, backendVariants, splitEveryCall } from '../backends.js';
import { rng } from '../suites/oracle.js';

const backends = (await availableBackends()).filter((b) => b.name !== 'js');
const variants = (await backendVariants()).filter((v) => v.name !== 'js');

it.each(
  backends.flatMap(
    (b) =>
      [
        [b.name, 3, 2048, 9, b.options],
        [b.name, 2, 300, 128, b.options],
      ] as const,
  ),
)(
  '%s: B=%i T=%i K=%i agrees with js',
  async (name, B, T, K, options) => {
    const R = rng(B * T + K);
    const data = Float32Array.from({ length: B * T * K }, () => 3 * R.normal());
    const mask = Uint8Array.from({ length: B * T }, (_, i) => (i % T < T - ((i / T) | 0) * 17 ? 1 : 0));
    const tags = Int32Array.from({ length: B * T }, () => R.int(K));
    const args = [{ data, shape: [B, T, K] }, { mask: { data: mask, shape: [B, T] } }] as const;
    const ref = await lib.CRF.create(K, { backend: 'js', seed: 3 });
    const crf = await lib.CRF.create(K, { backend: name, seed: 3, ...options });
    const llh = async (c: lib.CRF) => Array.from((await c.forward(args[0], { data: tags, shape: [B, T] }, { ...args[1], reduction: 'none' })) as Float32Array);
    const want = await llh(ref);
    (await llh(crf)).forEach((v, i) => expect(Math.abs(v - want[i])).toBeLessThan(1e-4 * Math.abs(want[i]) + 1e-2));
    expect(await crf.decode(...args)).toEqual(await ref.decode(...args));
    const m = await crf.marginals(...args);
    const mr = await ref.marginals(...args);
    let worst = 0;
    for (let i = 0; i < m.length; i++) worst = Math.max(worst, Math.abs(m[i] - mr[i]));
    expect(worst).toBeLessThan(2e-3);
    crf.dispose();
    ref.dispose();
  },
  300_000,
);

it.each(backends.filter((b) => b.name === 'webgpu').map((b) => [b.name, b.options] as const))(
  '%s: K = 1800 (and 800 for entropy), beyond the workgroup memory of one chain kernel, still agrees with js',
  async (name, options) => {
    const K = 1800,
      B = 1,
      T = 3;
    const R = rng(1600);
    const em = { data: Float32Array.from({ length: B * T * K }, () => R.normal()), shape: [B, T, K] };
    const ref = await lib.CRF.create(K, { backend: 'js', seed: 5 });
    const crf = await lib.CRF.create(K, { backend: name, seed: 5, ...options });
    const z = (await crf.logPartition(em))[0];
    expect(Math.abs(z - (await ref.logPartition(em))[0])).toBeLessThan(1e-3);
    expect(await crf.decode(em)).toEqual(await ref.decode(em));
    crf.dispose();
    ref.dispose();
    const K2 = 800;
    const em2 = { data: Float32Array.from({ length: 2 * 4 * K2 }, () => R.normal()), shape: [2, 4, K2] };
    const g2 = await lib.CRF.create(K2, { backend: name, seed: 6, ...options });
    const j2 = await lib.CRF.create(K2, { backend: 'js', seed: 6 });
    const [hg, hj] = [await g2.entropy(em2), await j2.entropy(em2)];
    hg.forEach((h, b) => expect(Math.abs(h - hj[b])).toBeLessThanOrEqual(1e-3 * hj[b] + 1e-6));
    g2.dispose();
    j2.dispose();
  },
  300_000,
);

it.each(backends.map((b) => [b.name, b.options] as const))(
  '%s: a −1e20 transition (the edge of the range) is a score, not a forbidden step; beyond it is refused',
  async (name, options) => {
    const sd = {
      start_transitions: [0, 0],
      end_transitions: [0, 0],
      transitions: [
        [-1e20, 0],
        [0, -1e20],
      ],
    };
    const em = [
      [
        [1, 0],
        [0, 1],
        [1, 0],
      ],
    ];
    const ref = await lib.CRF.create(2, { backend: 'js' });
    const crf = await lib.CRF.create(2, { backend: name, ...options });
    ref.loadStateDict(sd);
    crf.loadStateDict(sd);
    expect((await crf.logPartition(em))[0]).toBeCloseTo((await ref.logPartition(em))[0], 4);
    expect(await crf.decode(em)).toEqual(await ref.decode(em));
    // Only the alternating paths are finite: constraining away 0→1 leaves none of them, a score of about −1e20.
    const c = {
      transitions: [
        [true, false],
        [true, true],
      ],
    };
    const score = (await crf.decode(em, { constraints: c, topK: 1 }))[0][0].score;
    expect(score).toBeCloseTo((await ref.decode(em, { constraints: c, topK: 1 }))[0][0].score, -15);
    expect(score).toBeLessThan(-9e19);
    // Beyond the range: refused when loaded, and when written into the live array between calls.
    expect(() =>
      crf.loadStateDict({
        ...sd,
        transitions: [
          [-1.0001e20, 0],
          [0, 0],
        ],
      }),
    ).toThrow(lib.CRFInputError);
    crf.transitions[0] = -1.0001e20;
    await expect(crf.logPartition(em)).rejects.toThrow(/transitions: expected a finite number within ±1e20 .* at \[0\]\[0\]/);
    crf.dispose();
    ref.dispose();
  },
);

describe('entropy on long chains', () => {
  let restoreSplit = () => {};
  beforeAll(async () => {
    restoreSplit = await splitEveryCall();
  });
  afterAll(() => restoreSplit());

  /** B sequences of T steps, K = `K`, emissions uniform in ±`scale` (float32). */
  const chain = (seed: number, B: number, T: number, K: number, scale: number) => {
    const R = rng(seed);
    return { data: Float32Array.from({ length: B * T * K }, () => scale * (2 * R.next() - 1)), shape: [B, T, K] };
  };
  const reference = async (em: { data: Float32Array; shape: number[] }, sd: lib.StateDictInput, K: number) => {
    const ref = await lib.CRF.create(K, { backend: 'js' });
    ref.loadStateDict(sd);
    const h = await ref.entropy(em);
    ref.dispose();
    return h;
  };

  // Nearly uniform: the entropy is nearly T·ln 2 and every step adds ln 2 to it. On the GPU (SwiftShader
  // here) a chain is one sequence's serial loop: checked at a quarter of the longest it takes (ENTROPY_MAX_T).
  it.each(variants.map((v) => [v.label, v] as const))(
    '%s: K = 2, emissions within ±1e-6, within 1e-6 relative of the float64 reference at the longest T tested',
    async (_label, v) => {
      const T = v.name === 'webgpu' ? 2048 : v.label === 'wasm threads' ? 200_000 : 1_000_000;
      const B = v.label === 'wasm threads' ? 3 : 1;
      const em = chain(41, B, T, 2, 1e-6);
      const sd = {
        start_transitions: [0.1, -0.05],
        end_transitions: [0, 0.02],
        transitions: [
          [0.01, -0.02],
          [0.03, 0],
        ],
      };
      const crf = await lib.CRF.create(2, { backend: v.name, ...v.options });
      crf.loadStateDict(sd);
      const [h, want] = [await crf.entropy(em), await reference(em, sd, 2)];
      h.forEach((x, b) => expect(Math.abs(x - want[b]) / want[b], `sequence ${b}: ${x} vs ${want[b]}`).toBeLessThanOrEqual(1e-6));
      crf.dispose();
    },
    60_000,
  );

  // Five tags under BIO-style constraints (I-X only after B-X or I-X), transitions and emissions of
  // scale 1: the paths mix, and H grows by about 1.2 nats a step.
  it.each(variants.map((v) => [v.label, v] as const))(
    '%s: K = 5 under constraints, emissions of scale 1, within 1e-6 relative of the float64 reference at the longest T tested',
    async (_label, v) => {
      const T = v.name === 'webgpu' ? 2048 : v.label === 'wasm threads' ? 50_000 : 100_000;
      const B = v.label === 'wasm threads' ? 3 : 1;
      const em = chain(43, B, T, 5, 1);
      const R = rng(44);
      const NO = -Infinity;
      const transitions = Array.from({ length: 5 }, (_, i) =>
        Array.from({ length: 5 }, (_, j) => ((j === 2 && i !== 1 && i !== 2) || (j === 4 && i !== 3 && i !== 4) ? NO : R.next() - 0.5)),
      );
      const sd = { start_transitions: [0, 0, NO, 0.1, NO], end_transitions: [0, 0.2, 0, 0, -0.1], transitions };
      const crf = await lib.CRF.create(5, { backend: v.name, ...v.options });
      crf.loadStateDict(sd);
      const [h, want] = [await crf.entropy(em), await reference(em, sd, 5)];
      h.forEach((x, b) => expect(Math.abs(x - want[b]) / want[b], `sequence ${b}: ${x} vs ${want[b]}`).toBeLessThanOrEqual(1e-6));
      crf.dispose();
    },
    60_000,
  );

  it.each(variants.filter((v) => v.name === 'webgpu').map((v) => [v.label, v] as const))(
    '%s: chains longer than the GPU takes for entropy (ENTROPY_MAX_T) run on the CPU kernels, within 1e-6 relative at T = 1e5',
    async (_label, v) => {
      const T = 100_000;
      expect(T).toBeGreaterThan(ENTROPY_MAX_T);
      const em = chain(45, 1, T, 2, 1e-6);
      const sd = {
        start_transitions: [0, 0],
        end_transitions: [0, 0],
        transitions: [
          [0.01, 0],
          [0, 0.02],
        ],
      };
      const crf = await lib.CRF.create(2, { backend: v.name, ...v.options });
      crf.loadStateDict(sd);
      const [h, want] = [await crf.entropy(em), await reference(em, sd, 2)];
      expect(Math.abs(h[0] - want[0]) / want[0], `${h[0]} vs ${want[0]}`).toBeLessThanOrEqual(1e-6);
      crf.dispose();
    },
    60_000,
  );
});
