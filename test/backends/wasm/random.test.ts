// wasm against the float64 js reference on random shapes: K from 1 to 256, T from 1 to 2048, B from 1
// to 512, random prefix masks (zero-length sequences included), both builds. Sizes are drawn
// log-uniformly and the batch trimmed so that the float64 reference stays fast.
import { describe, expect, it } from 'vitest';
import { CRF } from '../../../src/index.js';
import { KINDS, kernels } from '../../wasm-helpers.js';
import { rng } from '../../suites/oracle.js';

interface Shape {
  B: number;
  T: number;
  K: number;
}

const FIXED: Shape[] = [
  { B: 2, T: 3, K: 256 },
  { B: 3, T: 2048, K: 1 },
  { B: 4, T: 2048, K: 2 },
  { B: 6, T: 1500, K: 5 },
  { B: 512, T: 3, K: 4 },
  { B: 3, T: 40, K: 100 },
  { B: 2, T: 300, K: 37 },
  { B: 1, T: 1, K: 1 },
  { B: 7, T: 1, K: 9 },
  { B: 64, T: 17, K: 13 },
];
const BUDGET = 1e6; // B·T·K² per case

function randomShapes(seed: number, n: number): Shape[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => {
    const K = r.logInt(1, 256);
    let T = r.logInt(1, 2048),
      B = r.logInt(1, 512);
    while (B * T * K * K > BUDGET) {
      if (B > 1 && (T === 1 || r.next() < 0.5)) B = Math.ceil(B / 2);
      else T = Math.ceil(T / 2);
    }
    return { B, T, K };
  });
}

/** score(y) in float64 over the on positions (a prefix of length y.length). */
function score(em: Float32Array, b: number, T: number, K: number, sd: ReturnType<CRF['stateDict']>, y: number[]) {
  if (y.length === 0) return 0;
  let s = sd.start_transitions[y[0]] + em[b * T * K + y[0]];
  for (let t = 1; t < y.length; t++) s += sd.transitions[y[t - 1]][y[t]] + em[(b * T + t) * K + y[t]];
  return s + sd.end_transitions[y[y.length - 1]];
}

async function compare(kind: 'simd' | 'scalar', { B, T, K }: Shape, seed: number) {
  const r = rng(seed);
  const js = await CRF.create(K, { backend: 'js' });
  const wasm = await CRF.create(K, { backend: 'wasm', wasmModule: await kernels(kind) });
  const sd = {
    start_transitions: Array.from({ length: K }, () => r.normal()),
    end_transitions: Array.from({ length: K }, () => r.normal()),
    transitions: Array.from({ length: K }, () => Array.from({ length: K }, () => r.normal())),
  };
  js.loadStateDict(sd);
  wasm.loadStateDict(sd);
  const w = js.stateDict(); // the float32 values both hold
  const data = new Float32Array(B * T * K).map(() => r.normal() * 3);
  const lengths = Array.from({ length: B }, (_, b) => (b === 0 ? T : r.int(T + 1)));
  const maskData = new Uint8Array(B * T).map((_, i) => Number(i % T < lengths[Math.floor(i / T)]));
  const em = { data, shape: [B, T, K] };
  const mask = { data: maskData, shape: [B, T] };
  const tags = { data: Int32Array.from({ length: B * T }, () => r.int(K)), shape: [B, T] };
  const label = `${kind} B=${B} T=${T} K=${K}`;
  const near = (a: number, b: number, tol: number, what: string) => {
    if (!(Math.abs(a - b) <= tol)) expect.fail(`${label} ${what}: wasm ${a}, js ${b}, tol ${tol}`);
  };

  const zj = await js.logPartition(em, { mask });
  const zw = await wasm.logPartition(em, { mask });
  for (let b = 0; b < B; b++) near(zw[b], zj[b], 2e-6 * (1 + Math.abs(zj[b])) + 5e-8 * lengths[b], `logZ[${b}]`);

  // Decoding: the path wasm returns must be optimal up to float32 resolution (a different path only
  // where two paths tie within it), its own score and the top-k scores must match the reference.
  const pj = await js.decode(em, { mask });
  const pw = await wasm.decode(em, { mask });
  const k = 3;
  const kj = await js.decode(em, { mask, topK: k });
  const kw = await wasm.decode(em, { mask, topK: k });
  for (let b = 0; b < B; b++) {
    expect(pw[b].length).toBe(lengths[b]);
    const best = score(data, b, T, K, w, pj[b]);
    const tol = 1e-5 * (1 + Math.abs(best)) + 2e-7 * lengths[b];
    near(score(data, b, T, K, w, pw[b]), best, tol, `Viterbi score[${b}]`);
    expect(kw[b].length, `${label} top-k count[${b}]`).toBe(kj[b].length);
    kw[b].forEach((p, i) => {
      near(p.score, kj[b][i].score, tol, `top-${i} score[${b}]`);
      near(score(data, b, T, K, w, p.path), p.score, tol, `top-${i} path's own score[${b}]`);
    });
  }

  const mj = await js.marginals(em, { mask });
  const mw = await wasm.marginals(em, { mask });
  let worst = 0;
  for (let i = 0; i < mj.length; i++) worst = Math.max(worst, Math.abs(mw[i] - mj[i]));
  near(worst, 0, 5e-6, 'max |Δ marginal|');

  const hj = await js.entropy(em, { mask });
  const hw = await wasm.entropy(em, { mask });
  for (let b = 0; b < B; b++) near(hw[b], hj[b], 3e-5 * (1 + Math.abs(hj[b])), `entropy[${b}]`);

  const gj = await js.forwardBackward(em, tags, { mask, reduction: 'sum' });
  const gw = await wasm.forwardBackward(em, tags, { mask, reduction: 'sum' });
  near(gw.logLikelihood as number, gj.logLikelihood as number, 1e-5 * (1 + Math.abs(gj.logLikelihood as number)) + 2e-7 * B * T, 'llh');
  for (const key of ['startTransitions', 'endTransitions', 'transitions'] as const) {
    const a = gw.grads[key],
      c = gj.grads[key];
    for (let i = 0; i < c.length; i++) near(a[i], c[i], 5e-6 * (1 + Math.abs(c[i])) + 2e-7 * B * T, `∂${key}[${i}]`);
  }
  worst = 0;
  for (let i = 0; i < gj.grads.emissions.length; i++) worst = Math.max(worst, Math.abs(gw.grads.emissions[i] - gj.grads.emissions[i]));
  near(worst, 0, 5e-6, 'max |Δ ∂emissions|');
  js.dispose();
  wasm.dispose();
}

describe.each(KINDS)('wasm (%s build) equals js on random shapes', (kind) => {
  const shapes = kind === 'simd' ? [...FIXED, ...randomShapes(7, 14)] : [...FIXED.slice(0, 6), ...randomShapes(8, 4)];
  it.each(shapes.map((s, i) => [`B=${s.B} T=${s.T} K=${s.K}`, s, i] as const))('%s', async (_name, shape, i) => {
    await compare(kind, shape, 1000 + i);
  });
});
