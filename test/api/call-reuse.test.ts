// A CRF reuses what it can between calls (the potentials while the parameters are unchanged, the input
// arrays, the WASM tables) and none of it carries over: every call equals a fresh instance's, on every
// backend, after parameters change in place, after a call is refused, and across shapes and layouts.
import { describe, expect, it } from 'vitest';
import * as lib from '../../src/index.js';
import { nodeBackends } from '../../scripts/node-backends.js';
import { rng } from '../suites/oracle.js';
import { WasmBackend } from '../../src/backends/wasm/backend.js';
import '../wasm-setup.js';

const backends: { name: lib.BackendName; options: object }[] = await nodeBackends(lib);

function emissions(seed: number, B: number, T: number, K: number): { data: Float32Array; shape: number[] } {
  const R = rng(seed);
  return { data: Float32Array.from({ length: B * T * K }, () => R.normal() * 2), shape: [B, T, K] };
}

/** What a fresh instance with `crf`'s parameters answers: the reference for every reused one. */
async function fresh(crf: lib.CRF, backend: { name: lib.BackendName; options: object }) {
  const c = await lib.CRF.create(crf.numTags, { backend: backend.name, ...backend.options, batchFirst: crf.batchFirst });
  c.loadStateDict(crf.stateDict());
  return c;
}

describe.each(backends.map((b) => [b.name, b] as const))('call reuse on %s', (_n, backend) => {
  it("results are the caller's: later calls leave them as they were, and writing into one changes no later result", async () => {
    const K = 4;
    const crf = await lib.CRF.create(K, { backend: backend.name, ...backend.options, seed: 3 });
    const ref = await fresh(crf, backend);
    // One sequence of full length (its path may be the call's own array of paths), one masked short, two.
    const shapes: [number, number, lib.MaskInput | undefined][] = [
      [1, 6, undefined],
      [1, 6, [[1, 1, 1, 0, 0, 0]]],
      [2, 5, undefined],
    ];
    for (const [B, T, mask] of shapes) {
      for (const sync of [false, true]) {
        const x = emissions(B * 100 + T, B, T, K);
        const y = emissions(B * 100 + T + 1, B, T, K);
        const decode = (e: typeof x) => (sync ? crf.sync.decode(e, { mask }) : crf.decode(e, { mask }));
        const first = await decode(x);
        const kept = structuredClone(first);
        await decode(y);
        await crf.logPartition(y);
        expect(first, `B=${B} T=${T} sync=${sync}`).toEqual(kept);
        for (const path of first) path.fill(K - 1);
        expect(await decode(x)).toEqual(await ref.decode(x, { mask }));
      }
    }
    crf.dispose();
    ref.dispose();
  });

  it('sees every in-place parameter change, one value at a time, in each parameter', async () => {
    const K = 5;
    const crf = await lib.CRF.create(K, { backend: backend.name, seed: 3, ...backend.options });
    const em = emissions(1, 3, 6, K);
    const R = rng(9);
    await crf.logPartition(em);
    for (const name of ['startTransitions', 'endTransitions', 'transitions'] as const) {
      for (let trial = 0; trial < 3; trial++) {
        const arr = crf[name];
        const i = R.int(arr.length);
        // A new value, -Infinity (forbidden) and back: each must reach the kernels.
        for (const v of [arr[i] + 0.75, -Infinity, arr[i] - 0.5]) {
          arr[i] = v;
          const ref = await fresh(crf, backend);
          expect(Array.from(await crf.logPartition(em)), `${name}[${i}] = ${v}`).toEqual(Array.from(await ref.logPartition(em)));
          expect(await crf.decode(em)).toEqual(await ref.decode(em));
          ref.dispose();
        }
      }
    }
    crf.dispose();
  });

  it('refuses a value written into a parameter after calls that found it valid, and leaves nothing behind', async () => {
    const K = 3;
    const crf = await lib.CRF.create(K, { backend: backend.name, seed: 5, ...backend.options });
    const em = emissions(2, 2, 4, K);
    const before = Array.from(await crf.logPartition(em));
    const v = crf.transitions[4];
    crf.transitions[4] = NaN;
    await expect(crf.logPartition(em)).rejects.toMatchObject({ argument: 'transitions' });
    await expect(crf.logPartition(em)).rejects.toMatchObject({ argument: 'transitions' });
    crf.transitions[4] = v;
    expect(Array.from(await crf.logPartition(em))).toEqual(before);
    crf.dispose();
  });

  it('a refused call hands its input arrays back: the next calls, of other shapes, are right', async () => {
    const K = 4;
    const crf = await lib.CRF.create(K, { backend: backend.name, seed: 6, ...backend.options });
    const ref = await fresh(crf, backend);
    const big = emissions(3, 4, 9, K);
    const small = emissions(4, 1, 3, K);
    // Emissions are read, then the tags are refused: the scratch must not stay held or dirty.
    await expect(crf.forward(big, [[0, 1, 9]])).rejects.toBeInstanceOf(lib.CRFInputError);
    for (const em of [small, big, small]) {
      const tags = Array.from({ length: em.shape[0] }, (_, b) => Array.from({ length: em.shape[1] }, (_, t) => (b + t) % K));
      expect(await crf.forward(em, tags, { reduction: 'none' })).toEqual(await ref.forward(em, tags, { reduction: 'none' }));
      expect(await crf.marginals(em)).toEqual(await ref.marginals(em));
      expect(await crf.entropy(em)).toEqual(await ref.entropy(em));
    }
    crf.dispose();
    ref.dispose();
  });

  it('overlapping calls of different shapes, masks and tags each get their own inputs', async () => {
    const K = 6;
    const crf = await lib.CRF.create(K, { backend: backend.name, seed: 8, ...backend.options });
    const ref = await fresh(crf, backend);
    const jobs = Array.from({ length: 24 }, (_, i) => {
      const B = 1 + (i % 4),
        T = 2 + ((i * 7) % 9);
      const em = emissions(100 + i, B, T, K);
      const mask = Array.from({ length: B }, (_, b) => Array.from({ length: T }, (_, t) => (t === 0 || (b + t + i) % 5 ? 1 : 0)));
      // Tags where the mask is off are out of range: they must be ignored, never left over for a later call.
      const tags = mask.map((row, b) => row.map((on, t) => (on ? (b * 3 + t + i) % K : 99)));
      return { em, mask, tags };
    });
    const run = async (c: lib.CRF, j: (typeof jobs)[number]) => [
      await c.decode(j.em, { mask: j.mask }),
      Array.from(await c.marginals(j.em, { mask: j.mask })),
      Array.from((await c.forward(j.em, j.tags, { mask: j.mask, reduction: 'none' })) as Float32Array),
      Array.from((await c.forwardBackward(j.em, j.tags, { mask: j.mask })).grads.transitions),
    ];
    const want = [];
    for (const j of jobs) want.push(await run(ref, j));
    const got = await Promise.all(jobs.map((j) => run(crf, j)));
    expect(got).toEqual(want);
    crf.dispose();
    ref.dispose();
  });
});

describe('the WASM backend keeps its tables only while they hold', () => {
  it('rebuilds them for other potentials, and again for the first ones after', async () => {
    const be = await WasmBackend.create();
    const K = 4,
      B = 2,
      T = 5;
    const em = emissions(11, B, T, K);
    const p = { B, T, K, emissions: em.data, lengths: new Int32Array([T, 3]), positions: new Int32Array(B * T) };
    const R = rng(12);
    const w = {
      K,
      start: Float64Array.from({ length: K }, () => R.normal()),
      end: Float64Array.from({ length: K }, () => R.normal()),
      trans: Float64Array.from({ length: K * K }, () => R.normal()),
    };
    const w2 = { ...w, trans: w.trans.map((x) => x * 2) };
    const first = await be.run('logPartition', p, w);
    const other = await be.run('logPartition', p, w2);
    expect(other).not.toEqual(first);
    expect(await be.run('logPartition', p, w)).toEqual(first);
    be.dispose();
  });
});

describe('the WASM backend reuses a call layout only for calls of the same sizes', () => {
  it('alternating ops, shapes, list sizes and sample counts each give what a fresh backend gives', async () => {
    const be = await WasmBackend.create();
    const K = 5;
    const R = rng(13);
    const w = {
      K,
      start: Float64Array.from({ length: K }, () => R.normal()),
      end: Float64Array.from({ length: K }, () => R.normal()),
      trans: Float64Array.from({ length: K * K }, () => R.normal()),
    };
    const call = (seed: number, B: number, T: number, lengths: number[]) => ({
      B,
      T,
      K,
      emissions: emissions(seed, B, T, K).data,
      lengths: Int32Array.from(lengths),
      positions: Int32Array.from({ length: B * T }, (_, i) => (i % T < lengths[Math.floor(i / T)] ? i % T : -1)),
    });
    const one = call(21, 1, 32, [32]);
    const two = call(22, 2, 6, [6, 4]);
    const steps: [string, ReturnType<typeof call>, unknown[]][] = [
      ['viterbi', one, []],
      ['logPartition', one, []],
      ['viterbi', two, []],
      ['kBest', two, [{ k: 1 }]],
      ['kBest', two, [{ k: 40 }]],
      ['sample', two, [{ numSamples: 1, seed: 5, first: 0 }]],
      ['sample', two, [{ numSamples: 50, seed: 5, first: 0 }]],
      ['viterbi', one, []],
      ['logPartition', two, []],
      ['kBest', two, [{ k: 1 }]],
    ];
    for (const [op, p, args] of steps) {
      const alone = await WasmBackend.create();
      const run = (b: WasmBackend) => (b.run as (...a: unknown[]) => Promise<unknown>)(op, p, w, ...args);
      expect(await run(be), `${op} B=${p.B} T=${p.T} ${JSON.stringify(args)}`).toEqual(await run(alone));
      alone.dispose();
    }
    be.dispose();
  });
});
