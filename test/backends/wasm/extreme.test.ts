// Scores where scaled linear space would underflow: emissions of ±1e4, −1e4 "forbidden" transitions
// as TorchCRF's pad_idx sets them, −∞ constraints, and their mixtures. The kernels must fall back to log
// space there (never NaN, never a wrong number) and agree with the float64 reference; on ordinary
// scores they must stay in linear space.
import { describe, expect, it } from 'vitest';
import { CRF, allowedTransitions } from '../../../src/index.js';
import type { Packed } from '../../../src/call/pack.js';
import { WasmBackend } from '../../../src/backends/wasm/backend.js';
import { KINDS, kernels } from '../../wasm-helpers.js';
import { rng } from '../../suites/oracle.js';

type Params = { start: number[]; end: number[]; trans: number[][] };

interface Case {
  name: string;
  K: number;
  B: number;
  T: number;
  params: (r: ReturnType<typeof rng>) => Params;
  emission: (r: ReturnType<typeof rng>, t: number, j: number) => number;
  constraints?: boolean[][] | ReturnType<typeof allowedTransitions>;
  /** Absolute tolerance on marginals and emission gradients (float32 exponents of size 1e4 carry ~1e-3). */
  probTol: number;
}

const normalParams =
  (K: number) =>
  (r: ReturnType<typeof rng>): Params => ({
    start: Array.from({ length: K }, () => r.normal()),
    end: Array.from({ length: K }, () => r.normal()),
    trans: Array.from({ length: K }, () => Array.from({ length: K }, () => r.normal())),
  });

/** TorchCRF's pad_idx: every transition into or out of the pad tag −1e4 (pad→pad 0), start at pad −1e4. */
const padIdx =
  (K: number, pad: number) =>
  (r: ReturnType<typeof rng>): Params => {
    const p = normalParams(K)(r);
    p.start[pad] = -1e4;
    for (let i = 0; i < K; i++) {
      p.trans[i][pad] = -1e4;
      p.trans[pad][i] = -1e4;
    }
    p.trans[pad][pad] = 0;
    return p;
  };

const BIO = ['O', 'B-PER', 'I-PER', 'B-LOC', 'I-LOC'];
const CASES: Case[] = [
  { name: '±1e4 emissions', K: 6, B: 5, T: 40, params: normalParams(6), emission: (r) => (r.next() < 0.5 ? -1e4 : 1e4) * r.next(), probTol: 2e-3 },
  { name: 'emissions exactly ±1e4 (many ties)', K: 4, B: 4, T: 12, params: normalParams(4), emission: (r) => (r.next() < 0.5 ? -1e4 : 1e4), probTol: 2e-3 },
  { name: 'pad_idx −1e4 transitions', K: 7, B: 6, T: 50, params: padIdx(7, 6), emission: (r) => r.normal() * 3, probTol: 1e-5 },
  {
    name: 'pad_idx with the pad tag favoured by ±1e4 emissions',
    K: 5,
    B: 4,
    T: 30,
    params: padIdx(5, 4),
    emission: (r, t, j) => (j === 4 && t % 7 === 3 ? 1e4 : r.normal() * 1e3),
    probTol: 2e-3,
  },
  {
    name: 'BIO constraints (−∞) with ±1e4 emissions',
    K: 5,
    B: 5,
    T: 30,
    params: normalParams(5),
    emission: (r) => (r.next() * 2 - 1) * 1e4,
    constraints: allowedTransitions('BIO', BIO),
    probTol: 2e-3,
  },
  {
    name: 'BIO constraints with ordinary scores',
    K: 5,
    B: 8,
    T: 60,
    params: normalParams(5),
    emission: (r) => r.normal() * 3,
    constraints: allowedTransitions('BIO', BIO),
    probTol: 1e-5,
  },
  {
    name: 'constraints + pad_idx + ±1e4',
    K: 5,
    B: 4,
    T: 25,
    params: padIdx(5, 0),
    emission: (r) => (r.next() * 2 - 1) * 1e4,
    constraints: allowedTransitions('BIO', BIO),
    probTol: 2e-3,
  },
  {
    // A tag whose weight underflows float32 at step 0 and then carries the whole mass: only the
    // per-tag check (not the normaliser) can notice it.
    name: 'underflowed tag later dominates',
    K: 2,
    B: 1,
    T: 4,
    params: () => ({
      start: [0, 0],
      end: [0, 0],
      trans: [
        [0, -1e4],
        [0, 0],
      ],
    }),
    emission: (_r, t, j) =>
      [
        [0, -150],
        [-50, 0],
        [-1000, 0],
        [-1000, 0],
      ][t][j],
    probTol: 1e-5,
  },
];

function build(c: Case, seed: number) {
  const r = rng(seed);
  const p = c.params(r);
  const data = new Float32Array(c.B * c.T * c.K);
  for (let b = 0; b < c.B; b++) for (let t = 0; t < c.T; t++) for (let j = 0; j < c.K; j++) data[(b * c.T + t) * c.K + j] = c.emission(r, t, j);
  const lengths = Array.from({ length: c.B }, (_, b) => (b === 0 ? c.T : 1 + r.int(c.T)));
  const mask = { data: new Uint8Array(c.B * c.T).map((_, i) => Number(i % c.T < lengths[Math.floor(i / c.T)])), shape: [c.B, c.T] };
  return { p, em: { data, shape: [c.B, c.T, c.K] }, mask, tags: { data: Int32Array.from({ length: c.B * c.T }, () => r.int(c.K)), shape: [c.B, c.T] } };
}

const finite = (a: ArrayLike<number>) => Array.from(a).every(Number.isFinite);

describe.each(KINDS)('extreme scores (%s build)', (kind) => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_n, c) => {
    const { p, em, mask, tags } = build(c, c.K * 31 + c.T);
    const opts = c.constraints ? { constraints: c.constraints } : {};
    const js = await CRF.create(c.K, { backend: 'js', ...opts });
    const wasm = await CRF.create(c.K, { backend: 'wasm', wasmModule: await kernels(kind), ...opts });
    for (const crf of [js, wasm]) crf.loadStateDict({ start_transitions: p.start, end_transitions: p.end, transitions: p.trans });
    const rel = (a: number, b: number, tol: number, what: string) => {
      if (!(Math.abs(a - b) <= tol * (1 + Math.abs(b)))) expect.fail(`${c.name} ${what}: wasm ${a}, js ${b}`);
    };

    const zj = await js.logPartition(em, { mask }),
      zw = await wasm.logPartition(em, { mask });
    expect(finite(zw)).toBe(true);
    zw.forEach((z, b) => rel(z, zj[b], 1e-6, `logZ[${b}]`));

    const mj = await js.marginals(em, { mask }),
      mw = await wasm.marginals(em, { mask });
    expect(finite(mw)).toBe(true);
    mw.forEach((m, i) => {
      if (!(Math.abs(m - mj[i]) <= c.probTol)) expect.fail(`${c.name} marginal[${i}]: wasm ${m}, js ${mj[i]}`);
    });

    const hj = await js.entropy(em, { mask }),
      hw = await wasm.entropy(em, { mask });
    expect(finite(hw)).toBe(true);
    // H = log Z − E[score]: a difference of two numbers of size |log Z|, so its error scales with them.
    hw.forEach((h, b) => {
      if (!(Math.abs(h - hj[b]) <= 1e-6 * (1 + Math.abs(zj[b])) + 1e-4)) expect.fail(`${c.name} entropy[${b}]: wasm ${h}, js ${hj[b]}`);
    });

    const gj = await js.forwardBackward(em, tags, { mask, reduction: 'none' });
    const gw = await wasm.forwardBackward(em, tags, { mask, reduction: 'none' });
    const lj = gj.logLikelihood as Float32Array,
      lw = gw.logLikelihood as Float32Array;
    // Gold paths may use a forbidden (−∞) step: both must say −∞ there, and agree elsewhere (llh =
    // score − log Z, so its error is log Z's).
    lw.forEach((l, b) => {
      if (!Number.isFinite(lj[b])) expect(l).toBe(lj[b]);
      else if (!(Math.abs(l - lj[b]) <= 1e-6 * (1 + Math.abs(zj[b])))) expect.fail(`${c.name} llh[${b}]: wasm ${l}, js ${lj[b]}`);
    });
    for (const key of ['startTransitions', 'endTransitions', 'transitions', 'emissions'] as const) {
      expect(finite(gw.grads[key]), key).toBe(true);
      // Parameter gradients sum a marginal over every step of the batch.
      const tol = (key === 'emissions' ? c.probTol : c.probTol * c.B * c.T) + 1e-5;
      gw.grads[key].forEach((g, i) => {
        if (!(Math.abs(g - gj.grads[key][i]) <= tol)) {
          expect.fail(`${c.name} ∂${key}[${i}]: wasm ${g}, js ${gj.grads[key][i]}`);
        }
      });
    }

    const dj = await js.decode(em, { mask, topK: 3 }),
      dw = await wasm.decode(em, { mask, topK: 3 });
    dw.forEach((list, b) => {
      expect(list.length).toBe(dj[b].length);
      list.forEach((x, i) => {
        expect(Number.isFinite(x.score)).toBe(true);
        rel(x.score, dj[b][i].score, 1e-6, `top-${i} score[${b}]`);
      });
    });
    const vw = await wasm.decode(em, { mask });
    vw.forEach((path, b) => expect(path).toEqual(dw[b][0].path));
  });
});

describe.each(KINDS)('which space runs (%s build)', (kind) => {
  const packed = (K: number, B: number, T: number, f: (i: number) => number): Packed => ({
    B,
    T,
    K,
    emissions: new Float32Array(B * T * K).map((_, i) => f(i)),
    lengths: new Int32Array(B).fill(T),
    positions: new Int32Array(B * T),
  });
  const pots = (K: number, f: (i: number) => number) => ({
    K,
    start: new Float64Array(K).map((_, i) => f(i)),
    end: new Float64Array(K).map((_, i) => f(i + K)),
    trans: new Float64Array(K * K).map((_, i) => f(i + 2 * K)),
  });

  it('ordinary scores stay in scaled linear space; ±1e4 and −1e4 transitions fall back to log space', async () => {
    const be = await WasmBackend.create({ wasmModule: await kernels(kind) });
    const r = rng(5);
    const w = pots(9, () => r.normal());
    await be.run(
      'logPartition',
      packed(9, 16, 64, () => r.normal() * 4),
      w,
    );
    await be.run(
      'posteriors',
      packed(9, 16, 64, () => r.normal() * 4),
      w,
    );
    expect(be.logSpaceFallbacks).toBe(0);
    await be.run(
      'logPartition',
      packed(9, 16, 64, () => (r.next() * 2 - 1) * 1e4),
      w,
    );
    expect(be.logSpaceFallbacks).toBe(16);
    const pad = pots(9, () => r.normal());
    for (let i = 0; i < 9; i++) {
      pad.trans[i * 9 + 8] = -1e4;
      pad.trans[8 * 9 + i] = -1e4;
    }
    await be.run(
      'posteriors',
      packed(9, 4, 64, () => r.normal()),
      pad,
    );
    expect(be.logSpaceFallbacks).toBe(20);
    be.dispose();
  });
});
