// Behaviour beyond the oracles: initialisation, state dicts, empty batches, masks, layouts.
import { describe, expect, it } from 'vitest';
import { CRF, maskFromTags } from '../../src/index.js';

describe('CRF', () => {
  it('initialises uniform(-0.1, 0.1), deterministically with a seed', async () => {
    const a = await CRF.create(7, { seed: 100, backend: 'js' });
    const b = await CRF.create(7, { seed: 100, backend: 'js' });
    const c = await CRF.create(7, { seed: 101, backend: 'js' });
    expect(a.stateDict()).toEqual(b.stateDict());
    expect(a.stateDict()).not.toEqual(c.stateDict());
    for (const arr of Object.values(a.parameters())) for (const v of arr) expect(Math.abs(v)).toBeLessThan(0.1);
    expect(a.transitions.length).toBe(49);
    expect(a.batchFirst).toBe(true);
    expect(a.numTags).toBe(7);
    expect(a.backend).toBe('js');
  });

  it('round-trips state dicts and accepts TorchCRF names', async () => {
    const a = await CRF.create(3, { seed: 1, backend: 'js' });
    const b = await CRF.create(3, { seed: 2, backend: 'js' });
    b.loadStateDict(a.stateDict());
    expect(b.stateDict()).toEqual(a.stateDict());
    b.loadStateDict({
      start_trans: [1, 2, 3],
      end_trans: Float32Array.of(4, 5, 6),
      trans_matrix: [
        [1, 0, 0],
        [0, 1, 0],
        [0, 0, 1],
      ],
    });
    expect(Array.from(b.startTransitions)).toEqual([1, 2, 3]);
    expect(Array.from(b.endTransitions)).toEqual([4, 5, 6]);
    expect(b.stateDict().transitions).toEqual([
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ]);
    expect(b.parameters().transitions).toBe(b.transitions);
  });

  it('returns empty results for a batch of zero sequences', async () => {
    const crf = await CRF.create(4, { backend: 'js' });
    expect(await crf.decode([])).toEqual([]);
    expect(await crf.forward([], [])).toBe(0);
    expect(await crf.forward({ data: new Float32Array(0), shape: [0, 5, 4] }, { data: new Int32Array(0), shape: [0, 5] }, { reduction: 'none' })).toEqual(
      new Float32Array(0),
    );
    expect((await crf.logPartition([])).length).toBe(0);
    expect((await crf.marginals([])).length).toBe(0);
  });

  it('gives 0, [] and zero marginals for a sequence with no position on', async () => {
    const crf = await CRF.create(2, { seed: 3, backend: 'js' });
    const em = [
      [
        [1, 2],
        [3, 4],
      ],
      [
        [1, 1],
        [2, 2],
      ],
    ];
    const mask = [
      [0, 0],
      [1, 1],
    ];
    const llh = (await crf.forward(
      em,
      [
        [-100, -100],
        [0, 1],
      ],
      { mask, reduction: 'none' },
    )) as Float32Array;
    expect(llh[0]).toBe(0);
    expect(llh[1]).toBeLessThan(0);
    expect((await crf.decode(em, { mask }))[0]).toEqual([]);
    expect((await crf.logPartition(em, { mask }))[0]).toBe(0);
    expect(Array.from((await crf.marginals(em, { mask })).subarray(0, 4))).toEqual([0, 0, 0, 0]);
    expect((await crf.decode(em, { mask, topK: 2 }))[0]).toEqual([{ path: [], score: 0, logProb: 0 }]);
  });

  it('reads typed inputs in both layouts alike', async () => {
    const crf = await CRF.create(3, { seed: 5, backend: 'js' });
    const tm = await CRF.create(3, { seed: 5, backend: 'js', batchFirst: false });
    const em = [
      [
        [0.5, 0.1, -1],
        [2, 0, 1],
        [0, 0, 0],
      ],
      [
        [1, 1, 1],
        [0.3, -0.2, 0.9],
        [1, -1, 0],
      ],
    ];
    const T = (x: number[][][]) => x[0].map((_, t) => x.map((r) => r[t]));
    const data = Float32Array.from(em.flat(2));
    expect(await crf.decode({ data, shape: [2, 3, 3] }, { mask: { data: Uint8Array.of(1, 1, 0, 1, 1, 1), shape: [2, 3] } })).toEqual(
      await tm.decode(T(em), {
        mask: [
          [true, true],
          [true, true],
          [false, true],
        ],
      }),
    );
    expect(await crf.forward(em, { data: Int32Array.of(0, 1, 2, 2, 1, 0), shape: [2, 3] })).toBeCloseTo(
      (await tm.forward(T(em), [
        [0, 2],
        [1, 1],
        [2, 0],
      ])) as number,
      5,
    );
  });

  it('builds masks from padded labels', () => {
    expect(
      maskFromTags([
        [1, 2, -1],
        [0, -1, -1],
      ]),
    ).toEqual([
      [true, true, false],
      [true, false, false],
    ]);
    expect(maskFromTags([[1, -100]], -100)).toEqual([[true, false]]);
  });

  it('refuses calls after dispose', async () => {
    const crf = await CRF.create(2, { backend: 'js' });
    crf.dispose();
    await expect(crf.decode([[[0, 1]]])).rejects.toThrow(/disposed/);
  });
});

describe('k-best list sizes', () => {
  it('a topK beyond the number of paths returns every path, on every backend', async () => {
    const { availableBackends } = await import('../backends.js');
    for (const b of await availableBackends()) {
      const crf = await CRF.create(1, { backend: b.name, ...b.options });
      // The one path has probability 1, up to the float32 log Z of the kernels it is normalised by.
      expect(await crf.decode({ data: new Float32Array(100).fill(0.5), shape: [1, 100, 1] }, { topK: 900000 })).toEqual([
        [{ path: new Array(100).fill(0), score: expect.any(Number), logProb: expect.closeTo(0, 6) }],
      ]);
      const three = await CRF.create(3, { backend: b.name, seed: 1, ...b.options });
      const all = await three.decode(
        [
          [
            [0, 1, 2],
            [2, 1, 0],
            [1, 1, 1],
          ],
        ],
        { topK: 1e9 },
      );
      expect(all[0].length).toBe(27);
      expect(new Set(all[0].map((x) => x.path.join())).size).toBe(27);
      crf.dispose();
      three.dispose();
    }
  }, 120_000);
});
