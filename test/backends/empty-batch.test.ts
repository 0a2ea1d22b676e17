// A batch of zero sequences: every op on the CPU backends gives what the float64 reference gives (its
// empty result, with the K × K zeros of the transition counts), asked of the backends themselves (the
// wasm backend runs it on its kernels, threads on the calling thread even when every call is forced to
// split: there is no range to cut); and every public method returns an empty result on every backend
// (the API answers an empty batch before it asks a backend).
import { describe, expect, it } from 'vitest';
import { CRF } from '../../src/index.js';
import type { Packed } from '../../src/call/pack.js';
import type { Potentials } from '../../src/model/parameters.js';
import type { Backend } from '../../src/backends/backend.js';
import { JsBackend } from '../../src/backends/js/backend.js';
import { WasmBackend } from '../../src/backends/wasm/backend.js';
import type { OpArgs, OpName } from '../../src/ops/index.js';
import { createBackend } from '../../src/backends/choose.js';
import { threadsTuning } from '../../src/backends/wasm/threads/backend.js';
import { KINDS, kernels } from '../wasm-helpers.js';

const K = 5;

const w: Potentials = {
  K,
  start: new Float64Array(K).fill(0.25),
  end: new Float64Array(K).fill(-0.5),
  trans: new Float64Array(K * K).map((_, i) => (i % 3) - 1),
};

/** An empty batch as pack() makes it: B = 0, T = 1. */
function empty(): Packed {
  return { B: 0, T: 1, K, emissions: new Float32Array(0), lengths: new Int32Array(0), positions: new Int32Array(0) };
}

const CALLS: { [N in OpName]: OpArgs<N> } = {
  logPartition: [],
  logLikelihood: [{ tags: new Int32Array(0), T: 1 }],
  posteriors: [],
  gradients: [{ tags: new Int32Array(0), T: 1, weight: 1 }],
  entropy: [],
  viterbi: [],
  kBest: [{ k: 3 }],
  sample: [{ numSamples: 2, seed: 7, first: 0 }],
};

/** A result as plain values: typed arrays and plain arrays of the same numbers compare equal. */
function plain(v: unknown): unknown {
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number>);
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

async function run(be: Backend, op: OpName): Promise<unknown> {
  return plain(await be.run(op, empty(), w, ...(CALLS[op] as [])));
}

describe('an empty batch', () => {
  it.each(KINDS)('gives the reference result for every op on the wasm backend (%s build), async and sync', async (kind) => {
    const js = await JsBackend.create();
    const be = await WasmBackend.create({ wasmModule: await kernels(kind) });
    for (const op of Object.keys(CALLS) as OpName[]) {
      const want = await run(js, op);
      expect(await run(be, op), op).toEqual(want);
      expect(plain(be.runSync(op, empty(), w, ...(CALLS[op] as []))), `${op} sync`).toEqual(want);
    }
    // The transition counts of nothing are K × K zeros, not an empty array.
    expect((await run(js, 'posteriors')) as { transCounts: number[] }).toMatchObject({ transCounts: new Array(K * K).fill(0) });
  });

  it('gives the reference result for every op on threads, every call forced to split', async () => {
    const js = await JsBackend.create();
    const { backend, reason } = await createBackend('wasm', {}, 2);
    expect(reason).toMatch(/threads/);
    threadsTuning.force = 'split';
    try {
      for (const op of Object.keys(CALLS) as OpName[]) expect(await run(backend, op), op).toEqual(await run(js, op));
    } finally {
      threadsTuning.force = null;
      backend.dispose();
    }
  });

  it.each([
    ['js', {}],
    ['wasm', {}],
    ['wasm', { threads: 2 }],
  ] as const)('gives empty results from every method on backend %s %o', async (backend, extra) => {
    const crf = await CRF.create(K, { backend, seed: 3, ...extra });
    try {
      const em = { data: new Float32Array(0), shape: [0, 4, K] };
      const tags = { data: new Int32Array(0), shape: [0, 4] };
      expect(await crf.decode(em)).toEqual([]);
      expect(await crf.decode(em, { topK: 2 })).toEqual([]);
      expect(await crf.forward(em, tags)).toBe(0);
      expect(await crf.forward(em, tags, { reduction: 'none' })).toEqual(new Float32Array(0));
      const fb = await crf.forwardBackward(em, tags);
      expect(fb.logLikelihood).toBe(0);
      expect(fb.grads.emissions).toEqual(new Float32Array(0));
      expect(Array.from(fb.grads.transitions)).toEqual(new Array(K * K).fill(0));
      expect(await crf.logPartition(em)).toEqual(new Float64Array(0));
      expect(await crf.marginals(em)).toEqual(new Float32Array(0));
      expect(await crf.entropy(em)).toEqual(new Float32Array(0));
      expect(await crf.sample(em, { numSamples: 2 })).toEqual([]);
      expect(crf.sync.decode(em)).toEqual([]);
      expect(crf.sync.logPartition(em)).toEqual(new Float64Array(0));
    } finally {
      crf.dispose();
    }
  });
});
