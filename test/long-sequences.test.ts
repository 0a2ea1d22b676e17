// Long chains and larger K on every backend against the float64 reference: the GPU's time loop and
// the WASM scaling across thousands of steps.
import { expect, it } from 'vitest';
import * as lib from '../src/index.js';
import { availableBackends } from './backends.js';
import { rng } from './suites/oracle.js';

const backends = (await availableBackends()).filter((b) => b.name !== 'js');

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
