// crf.sample draws paths exactly from p(y | x): on every backend the frequencies of the paths drawn
// match their probabilities by enumeration, masks, constraints and annotations included; the draws
// depend only on the seed and the sequence (not on the threads or the range a thread runs); long and
// extreme chains draw only allowed paths; bad options are refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CRF, type CRFOptions } from '../../src/index.js';
import type { Packed } from '../../src/call/pack.js';
import { potentials } from '../../src/model/parameters.js';
import { specOf } from '../../src/ops/index.js';
import { WasmBackend } from '../../src/backends/wasm/backend.js';
import { nodeThreads } from '../../src/backends/wasm/threads/node-spawn.js';
import { setThreadRuntime } from '../../src/backends/wasm/threads/runtime.js';
import { threadRuntime } from '../../src/backends/wasm/threads/spawn.js';
import { backendVariants, splitEveryCall } from '../backends.js';
import { inputError } from '../helpers.js';
import { kernels } from '../wasm-helpers.js';
import { rng } from '../suites/oracle.js';

const variants = await backendVariants();
let restore: () => void;
beforeAll(async () => {
  restore = await splitEveryCall();
});
afterAll(() => restore());

interface Case {
  K: number;
  B: number;
  T: number;
  em: Float32Array;
  mask: Uint8Array;
  allowed: Uint8Array | null;
  constraints: { transitions: boolean[][]; start: boolean[]; end: boolean[] } | null;
}

/** Every path over a sequence's on positions with its probability, by enumeration in float64. */
function enumerate(crf: CRF, c: Case, b: number): Map<string, number> {
  const { K, T } = c;
  const on = [...Array(T).keys()].filter((t) => c.mask[b * T + t]);
  const L = on.length;
  const scores = new Map<string, number>();
  for (let code = 0; code < K ** L; code++) {
    const y = Array.from({ length: L }, (_, s) => Math.floor(code / K ** s) % K);
    let ok = true;
    let sc = crf.startTransitions[y[0]] + crf.endTransitions[y[L - 1]];
    if (c.constraints) ok = c.constraints.start[y[0]] && c.constraints.end[y[L - 1]];
    for (let s = 0; s < L; s++) {
      const t = on[s];
      if (c.allowed && !c.allowed[(b * T + t) * K + y[s]]) ok = false;
      sc += c.em[(b * T + t) * K + y[s]];
      if (s > 0) {
        sc += crf.transitions[y[s - 1] * K + y[s]];
        if (c.constraints && !c.constraints.transitions[y[s - 1]][y[s]]) ok = false;
      }
    }
    if (ok) scores.set(y.join(','), sc);
  }
  const m = Math.max(...scores.values());
  let z = 0;
  for (const v of scores.values()) z += Math.exp(v - m);
  return new Map([...scores].map(([k, v]) => [k, Math.exp(v - m) / z]));
}

/** Four sequences of 3 tags: 4 positions on; 3 with a gap; 2 after a masked first step; none. */
function smallCase(seed: number, withRestrictions: boolean): Case {
  const K = 3,
    B = 4,
    T = 4;
  const R = rng(seed);
  const em = Float32Array.from({ length: B * T * K }, () => Math.fround(R.normal()));
  const mask = Uint8Array.from([1, 1, 1, 1, 1, 0, 1, 1, 0, 1, 1, 0, 0, 0, 0, 0]);
  if (!withRestrictions) return { K, B, T, em, mask, allowed: null, constraints: null };
  // No 0 → 2, no start with 1, no end with 0; sequence 1 may not hold tag 2 at its last position.
  const constraints = {
    transitions: [
      [true, true, false],
      [true, true, true],
      [true, true, true],
    ],
    start: [true, false, true],
    end: [false, true, true],
  };
  const allowed = new Uint8Array(B * T * K).fill(1);
  allowed[(1 * T + 3) * K + 2] = 0;
  allowed[(0 * T + 1) * K + 1] = 0;
  return { K, B, T, em, mask, allowed, constraints };
}

const asInput = (c: Case) => ({
  em: { data: c.em, shape: [c.B, c.T, c.K] },
  mask: { data: c.mask, shape: [c.B, c.T] },
  ...(c.allowed ? { allowed: { data: c.allowed, shape: [c.B, c.T, c.K] } } : {}),
});

describe.each(variants)('$label', ({ name, options }) => {
  const create = (K: number, o: CRFOptions = {}) => CRF.create(K, { backend: name, seed: 11, ...options, ...o });

  it.each([
    ['no restrictions', false],
    ['constraints and an annotation', true],
  ] as const)('draws each path as often as its probability says, and never a forbidden one (%s)', async (_label, restricted) => {
    const c = smallCase(restricted ? 2 : 1, restricted);
    const crf = await create(c.K, c.constraints ? { constraints: c.constraints } : {});
    // Parameters at the emissions' scale, so that every term of the score moves the probabilities.
    const R = rng(restricted ? 20 : 10);
    for (const a of [crf.startTransitions, crf.endTransitions, crf.transitions]) for (let i = 0; i < a.length; i++) a[i] = R.normal();
    const { em, ...o } = asInput(c);
    const N = 20_000;
    const got = await crf.sample(em, { ...o, numSamples: N, seed: 12345 });
    expect(got.length).toBe(c.B);
    for (let b = 0; b < c.B; b++) {
      const probs = enumerate(crf, c, b);
      const L = [...c.mask.subarray(b * c.T, (b + 1) * c.T)].reduce((a, v) => a + v, 0);
      expect(got[b].length).toBe(N);
      // One expect per sequence, not per path: 20,000 expects cost more than the draws.
      expect(got[b].filter((path) => path.length !== L).length, `sequence ${b}: paths not ${L} long`).toBe(0);
      const counts = new Map<string, number>();
      for (const path of got[b]) {
        const key = path.join(',');
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      if (L === 0) continue;
      for (const key of counts.keys()) expect(probs.has(key), `sequence ${b} drew the forbidden path ${key}`).toBe(true);
      for (const [key, p] of probs) {
        const f = (counts.get(key) ?? 0) / N;
        expect(Math.abs(f - p), `sequence ${b}, path ${key}: frequency ${f}, probability ${p}`).toBeLessThanOrEqual(5 * Math.sqrt((p * (1 - p)) / N) + 1 / N);
      }
    }
    crf.dispose();
  });

  it('gives the same paths for the same seed and different ones for another seed', async () => {
    const c = smallCase(3, false);
    const crf = await create(c.K);
    const { em, ...o } = asInput(c);
    const a = await crf.sample(em, { ...o, numSamples: 50, seed: 7 });
    expect(await crf.sample(em, { ...o, numSamples: 50, seed: 7 })).toEqual(a);
    expect(await crf.sample(em, { ...o, numSamples: 50, seed: 8 })).not.toEqual(a);
    // Without a seed each call draws its own.
    expect(await crf.sample(em, { ...o, numSamples: 50 })).not.toEqual(await crf.sample(em, { ...o, numSamples: 50 }));
    crf.dispose();
  });

  it('at scores of ±1e4 (log space), K up to 129 and T up to 300, draws only allowed paths of the right lengths, as js does where no tie is near', async () => {
    for (const [K, T, scale] of [
      [5, 300, 1e4],
      [129, 40, 3],
      [9, 1, 1e4],
    ] as const) {
      const B = 3;
      const R = rng(K * 1000 + T);
      const em = Float32Array.from({ length: B * T * K }, () => Math.fround(scale * R.normal()));
      // Lengths T, about T/2 (from the second position) and 0.
      const mask = Uint8Array.from({ length: B * T }, (_, i) => {
        const b = Math.floor(i / T),
          t = i % T;
        return b === 0 || (b === 1 && t > 0 && t <= Math.ceil(T / 2)) ? 1 : 0;
      });
      const allowed = Uint8Array.from({ length: B * T * K }, (_, i) => (i % K === 1 && i % 7 !== 0 ? 0 : 1));
      // Tag 0 never follows tag 0 and never starts a path.
      const transitions = Array.from({ length: K }, (_, i) => Array.from({ length: K }, (_, j) => !(i === 0 && j === 0)));
      const start = Array.from({ length: K }, (_, j) => j !== 0);
      const constraints = { transitions, start };
      const crf = await create(K, { constraints });
      const jsCrf = await CRF.create(K, { backend: 'js', seed: 11, constraints });
      const input = { data: em, shape: [B, T, K] };
      const opts = { mask: { data: mask, shape: [B, T] }, allowed: { data: allowed, shape: [B, T, K] }, numSamples: 6, seed: 99 };
      const got = await crf.sample(input, opts);
      const want = await jsCrf.sample(input, opts);
      let same = 0;
      for (let b = 0; b < B; b++) {
        const on = [...Array(T).keys()].filter((t) => mask[b * T + t]);
        for (const path of got[b]) {
          expect(path.length).toBe(on.length);
          path.forEach((y, s) => {
            expect(allowed[(b * T + on[s]) * K + y], `K=${K} T=${T}: a tag the annotation forbids`).toBe(1);
            if (s === 0) expect(y).not.toBe(0);
            else expect(path[s - 1] === 0 && y === 0, `K=${K} T=${T}: a forbidden transition`).toBe(false);
          });
        }
        for (let n = 0; n < got[b].length; n++) if (got[b][n].join() === want[b][n].join()) same++;
      }
      // At ±1e4 every step is all but certain, so js and float32 draw the same; at K = 129 most draws agree.
      if (scale > 100) expect(same).toBe(B * 6);
      else expect(same).toBeGreaterThanOrEqual(4);
      crf.dispose();
      jsCrf.dispose();
    }
  });
});

describe('threads and ranges', () => {
  it('with threads 1, 2 and 3 (every call split), the same seed draws the same paths', async () => {
    const K = 9,
      B = 17,
      T = 12;
    const R = rng(40);
    const em = { data: Float32Array.from({ length: B * T * K }, () => Math.fround(2 * R.normal())), shape: [B, T, K] };
    const mask = { data: Uint8Array.from({ length: B * T }, (_, i) => (i % T < 1 + ((Math.floor(i / T) * 5) % T) ? 1 : 0)), shape: [B, T] };
    const draws = [];
    // Three threads run even where fewer cores are reported.
    const saved = threadRuntime();
    setThreadRuntime({ ...nodeThreads(() => new URL('../../dist/node-worker.js', import.meta.url)), cores: () => 3 });
    try {
      for (const threads of [1, 2, 3]) {
        const crf = await CRF.create(K, { backend: 'wasm', seed: 2, threads });
        expect(crf.backendReason).not.toMatch(/one thread/);
        draws.push(await crf.sample(em, { mask, numSamples: 20, seed: 4242 }));
        crf.dispose();
      }
    } finally {
      setThreadRuntime(saved);
    }
    expect(draws[1]).toEqual(draws[0]);
    expect(draws[2]).toEqual(draws[0]);
  });

  it('a range of sequences given its first index draws what the whole batch draws for them (js reference and both kernels)', async () => {
    const K = 5,
      B = 9,
      T = 7;
    const R = rng(41);
    const p: Packed = {
      B,
      T,
      K,
      emissions: Float32Array.from({ length: B * T * K }, () => Math.fround(R.normal())),
      lengths: Int32Array.from({ length: B }, (_, b) => b % T),
      positions: new Int32Array(B * T),
    };
    const crf = await CRF.create(K, { backend: 'js', seed: 9 });
    const w = potentials(crf, K, null);
    const args = { numSamples: 8, seed: 2 ** 32 - 1, first: 0 };
    const range = (b0: number, b1: number): Packed => ({
      ...p,
      B: b1 - b0,
      emissions: p.emissions.subarray(b0 * T * K, b1 * T * K),
      lengths: p.lengths.subarray(b0, b1),
      positions: p.positions.subarray(b0 * T, b1 * T),
    });
    const spec = specOf('sample');
    const runners: [string, (q: Packed, a: typeof args) => Promise<{ paths: Int32Array; logZ: Float64Array }>][] = [
      ['js', async (q, a) => (await spec.reference())(q, w, a)],
    ];
    for (const kind of ['simd', 'scalar'] as const) {
      const be = await WasmBackend.create({ wasmModule: await kernels(kind) });
      runners.push([kind, (q, a) => be.part('sample', q, w, a)]);
    }
    for (const [label, run] of runners) {
      const whole = await run(p, args);
      const per = args.numSamples * T;
      for (const [b0, b1] of [
        [0, 4],
        [4, 9],
        [6, 7],
      ]) {
        const part = await run(range(b0, b1), spec.threads.slice!(args, b0, b1));
        expect(Array.from(part.paths), `${label}: sequences ${b0}..${b1}`).toEqual(Array.from(whole.paths.subarray(b0 * per, b1 * per)));
      }
      // The first index keys the draws: the same range as if it started the batch draws otherwise.
      const moved = await run(range(4, 9), args);
      expect(Array.from(moved.paths)).not.toEqual(Array.from(whole.paths.subarray(4 * per, 9 * per)));
    }
    crf.dispose();
  });
});

describe('input errors', () => {
  const em = [
    [
      [0.1, 0.2, 0.3],
      [0.3, 0.2, 0.1],
    ],
  ];
  it.each([0, 1.5, -1, NaN, 'x', 2 ** 20 + 1, 1e9])('refuses numSamples %s, naming it', async (v) => {
    const crf = await CRF.create(3, { backend: 'js' });
    const e = await inputError(crf.sample(em, { numSamples: v as number }));
    expect(e.argument).toBe('numSamples');
    crf.dispose();
  });

  it('refuses a numSamples whose result would exceed 2^24 tags, giving the largest allowed', async () => {
    const crf = await CRF.create(2, { backend: 'js' });
    const e = await inputError(crf.sample({ data: new Float32Array(64 * 512 * 2), shape: [64, 512, 2] }, { numSamples: 1024 }));
    expect(e.argument).toBe('numSamples');
    expect(e.message).toContain(`at most ${2 ** 24 / (64 * 512)}`);
    crf.dispose();
  });

  it.each([-1, 2 ** 32, 0.5, 'x', Infinity, null])('refuses seed %s, naming it', async (v) => {
    const crf = await CRF.create(3, { backend: 'js' });
    const e = await inputError(crf.sample(em, { seed: v as number }));
    expect(e.argument).toBe('seed');
    crf.dispose();
  });

  it('refuses an unknown option, and constraints or an annotation that leave a sequence no path', async () => {
    const crf = await CRF.create(3, {
      backend: 'js',
      constraints: {
        transitions: [
          [1, 1, 1],
          [1, 1, 1],
          [1, 1, 1],
        ],
        start: [0, 0, 1],
        end: [1, 1, 0],
      },
    });
    expect((await inputError(crf.sample(em, { num_samples: 3 } as never))).argument).toBe('options');
    expect((await inputError(crf.sample([[[0, 0, 0]]]))).argument).toBe('constraints');
    const allowed = [
      [
        [1, 1, 0],
        [1, 1, 1],
      ],
    ];
    expect((await inputError(crf.sample(em, { allowed }))).argument).toBe('allowed');
    crf.dispose();
  });

  it('throws once the instance is disposed', async () => {
    const crf = await CRF.create(3, { backend: 'wasm' });
    crf.dispose();
    await expect(crf.sample(em)).rejects.toThrow(/disposed/);
  });
});
