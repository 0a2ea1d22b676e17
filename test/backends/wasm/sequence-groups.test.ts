// For K ≤ 16 the SIMD kernels run log Z, Viterbi and forward–backward over groups of four sequences, one per lane
// (assembly/grouped.ts). Every batch size 1..9 (so every remainder of a group), mixed lengths with 0 and
// 1 among them, K on both sides of the limit, with and without forbidden transitions: the batched call
// must agree with the float64 js backend and, bit for bit, with the same sequences run one per call
// (the per-sequence kernel), paths and ties included; the gradients op (forwardBackward's) must give its
// posteriors' bits with the emission gradient in place of the marginals. The scalar build runs the same checks.
import { describe, expect, it } from 'vitest';
import type { Packed } from '../../../src/call/pack.js';
import type { Potentials } from '../../../src/model/parameters.js';
import { JsBackend } from '../../../src/backends/js/backend.js';
import { WasmBackend } from '../../../src/backends/wasm/backend.js';
import { KINDS, kernels } from '../../wasm-helpers.js';
import { rng } from '../../suites/oracle.js';
import type { Gradients, Posteriors } from '../../../src/ops/index.js';

type Rng = ReturnType<typeof rng>;

const KS = [2, 3, 4, 5, 8, 9, 16, 17];
const T = 11;

/** Float32-exact potentials; `forbid` puts −∞ on some transitions (never a self-loop) and on start 0 / end K−1. */
function potentials(K: number, forbid: boolean, value: () => number): Potentials {
  const w: Potentials = {
    K,
    start: new Float64Array(K).map(() => Math.fround(value())),
    end: new Float64Array(K).map(() => Math.fround(value())),
    trans: new Float64Array(K * K).map(() => Math.fround(value())),
  };
  if (forbid) {
    for (let i = 0; i < K; i++) for (let j = 0; j < K; j++) if (i !== j && (i * 7 + j * 3) % 4 === 0) w.trans[i * K + j] = -Infinity;
    // Tag 1 can start, loop and end, so every length has an allowed path.
    if (K > 2) {
      w.start[0] = -Infinity;
      w.end[K - 1] = -Infinity;
    }
  }
  return w;
}

function packed(B: number, K: number, lengths: number[], value: () => number): Packed {
  return {
    B,
    T,
    K,
    emissions: new Float32Array(B * T * K).map(() => value()),
    lengths: Int32Array.from(lengths),
    positions: new Int32Array(B * T),
  };
}

/** Sequence b of a batch as a batch of one. */
function single(p: Packed, b: number): Packed {
  const n = p.T * p.K;
  return { ...p, B: 1, emissions: p.emissions.slice(b * n, (b + 1) * n), lengths: Int32Array.of(p.lengths[b]), positions: new Int32Array(p.T) };
}

/** Lengths for a batch of B: 0, 1 and T among them, in positions that move with B. */
function lengths(r: Rng, B: number): number[] {
  return Array.from({ length: B }, (_, b) => [T, 1, 0, r.int(T + 1), T - 1][(b + B - 1) % 5]);
}

/** Gold tags, packed [B, T]: any tag at each step (values past a length are never read: -1 there). */
function goldTags(r: Rng, p: Packed): Int32Array {
  const tags = new Int32Array(p.B * T).fill(-1);
  for (let b = 0; b < p.B; b++) for (let s = 0; s < p.lengths[b]; s++) tags[b * T + s] = r.int(p.K);
  return tags;
}

/**
 * The gradients op's result against the same backend's posteriors: log Z and the counts the same bits;
 * each emission gradient the float32 of weight·([y = j] − p) computed in float64 (as the JavaScript
 * assembly computes it); the end rows the marginals' first and last rows; 0 past each length.
 */
function expectGradientsOf(g: Gradients, q: Posteriors, p: Packed, { tags, weight }: { tags: Int32Array; weight: number }, label: string): void {
  const { B, K } = p;
  expect(Array.from(g.logZ), `${label} gradients' logZ`).toEqual(Array.from(q.logZ));
  expect(Array.from(g.transCounts), `${label} gradients' counts`).toEqual(Array.from(q.transCounts));
  const want = new Float32Array(B * T * K);
  const ends = new Float32Array(B * 2 * K);
  for (let b = 0; b < B; b++) {
    const len = p.lengths[b];
    for (let s = 0; s < len; s++) {
      const o = (b * T + s) * K;
      for (let j = 0; j < K; j++) want[o + j] = j === tags[b * T + s] ? -weight * q.unary[o + j] + weight : -weight * q.unary[o + j];
    }
    if (len === 0) continue;
    ends.set(q.unary.subarray(b * T * K, (b * T + 1) * K), b * 2 * K);
    ends.set(q.unary.subarray((b * T + len - 1) * K, (b * T + len) * K), (b * 2 + 1) * K);
  }
  expect(Array.from(g.emissions), `${label} emission gradient`).toEqual(Array.from(want));
  expect(Array.from(g.ends), `${label} end rows`).toEqual(Array.from(ends));
}

/** score(y) in float64. */
function score(p: Packed, w: Potentials, b: number, y: ArrayLike<number>, len: number): number {
  const { K } = w;
  if (len === 0) return 0;
  let s = w.start[y[0]] + p.emissions[b * T * K + y[0]];
  for (let t = 1; t < len; t++) s += w.trans[y[t - 1] * K + y[t]] + p.emissions[(b * T + t) * K + y[t]];
  return s + w.end[y[len - 1]];
}

const js = await JsBackend.create();

describe.each(KINDS)('grouped sequences (%s build) agree with js and with one sequence per call', (kind) => {
  for (const K of KS) {
    for (const forbid of [false, true]) {
      // 'normal': scores of a trained tagger's scale; 'integers': small integers, so that every score is
      // exact in float32 and float64 and ties are everywhere: the paths must equal js's exactly.
      for (const style of ['normal', 'integers'] as const) {
        it(`K=${K}${forbid ? ' with forbidden transitions' : ''}, ${style} scores, B = 1..9`, async () => {
          const be = await WasmBackend.create({ wasmModule: await kernels(kind) });
          const r = rng(K * 100 + Number(forbid) * 10 + (style === 'normal' ? 1 : 2));
          const value = style === 'normal' ? () => r.normal() * 2 : () => r.int(3) - 1;
          const w = potentials(K, forbid, value);
          for (let B = 1; B <= 9; B++) {
            const p = packed(B, K, lengths(r, B), value);
            const label = `K=${K} B=${B}`;
            const zj = await js.run('logPartition', p, w);
            const zw = await be.run('logPartition', p, w);
            const vj = await js.run('viterbi', p, w);
            const vw = await be.run('viterbi', p, w);
            const qj = await js.run('posteriors', p, w);
            const qw = await be.run('posteriors', p, w);
            const countsAlone = new Float64Array(K * K);
            for (let b = 0; b < B; b++) {
              const len = p.lengths[b];
              const tol = 2e-6 * (1 + Math.abs(zj[b])) + 5e-8 * len;
              expect(Math.abs(zw[b] - zj[b]), `${label} logZ[${b}] wasm ${zw[b]} js ${zj[b]}`).toBeLessThanOrEqual(tol);
              const pw = vw.paths.slice(b * T, (b + 1) * T);
              const pj = vj.paths.slice(b * T, (b + 1) * T);
              const best = score(p, w, b, pj, len);
              expect(Math.abs(vw.scores[b] - best), `${label} Viterbi score[${b}]`).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(best)) + 2e-7 * len);
              expect(Math.abs(score(p, w, b, pw, len) - best), `${label} wasm path's score[${b}]`).toBeLessThanOrEqual(
                1e-5 * (1 + Math.abs(best)) + 2e-7 * len,
              );
              if (style === 'integers') expect(Array.from(pw), `${label} path[${b}]`).toEqual(Array.from(pj));
              for (let t = len; t < T; t++) expect(pw[t], `${label} path[${b}][${t}] past the length`).toBe(0);
              // The batch of one runs the per-sequence kernel: the group must give the same bits.
              const one = single(p, b);
              expect((await be.run('logPartition', one, w))[0], `${label} logZ[${b}] batched vs alone`).toBe(zw[b]);
              const v1 = await be.run('viterbi', one, w);
              expect(v1.scores[0], `${label} Viterbi score[${b}] batched vs alone`).toBe(vw.scores[b]);
              expect(Array.from(v1.paths), `${label} path[${b}] batched vs alone`).toEqual(Array.from(pw));
              // Posteriors: log Z, marginals against js; alone, the same bits (counts summed in batch order).
              expect(Math.abs(qw.logZ[b] - zj[b]), `${label} posteriors logZ[${b}]`).toBeLessThanOrEqual(tol);
              for (let i = b * T * K; i < (b + 1) * T * K; i++) {
                expect(Math.abs(qw.unary[i] - qj.unary[i]), `${label} unary[${i}]`).toBeLessThanOrEqual(5e-6);
              }
              const q1 = await be.run('posteriors', one, w);
              expect(q1.logZ[0], `${label} posteriors logZ[${b}] batched vs alone`).toBe(qw.logZ[b]);
              expect(Array.from(q1.unary), `${label} unary[${b}] batched vs alone`).toEqual(Array.from(qw.unary.subarray(b * T * K, (b + 1) * T * K)));
              q1.transCounts.forEach((c, i) => (countsAlone[i] += c));
            }
            for (let i = 0; i < K * K; i++) {
              const c = qj.transCounts[i];
              expect(Math.abs(qw.transCounts[i] - c), `${label} transCounts[${i}]`).toBeLessThanOrEqual(5e-6 * (1 + Math.abs(c)) + 2e-7 * B * T);
            }
            expect(Array.from(countsAlone), `${label} transCounts batched vs alone`).toEqual(Array.from(qw.transCounts));
            // forwardBackward's op: the same sweep with the emission gradient written in place of the marginals.
            const args = { tags: goldTags(r, p), T, weight: 0.25 };
            expectGradientsOf(await be.run('gradients', p, w, args), qw, p, args, label);
            const gj = await js.run('gradients', p, w, args);
            const gw = await be.run('gradients', p, w, args);
            for (let i = 0; i < B * T * K; i++) {
              expect(Math.abs(gw.emissions[i] - gj.emissions[i]), `${label} gradient[${i}]`).toBeLessThanOrEqual(5e-6 * args.weight);
            }
          }
          expect(be.logSpaceFallbacks, 'ordinary scores stay in linear space').toBe(0);
          be.dispose();
        });
      }
    }
  }

  it('a sequence of a group whose linear pass would underflow is redone in log space, alone', async () => {
    const be = await WasmBackend.create({ wasmModule: await kernels(kind) });
    const r = rng(77);
    const K = 9;
    const w = potentials(K, true, () => r.normal());
    const B = 7;
    const extreme = new Set([2, 5]);
    const p = packed(B, K, [T, T, T, 5, 0, T, 1], () => 0);
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < T * K; i++) p.emissions[b * T * K + i] = extreme.has(b) ? (r.next() * 2 - 1) * 1e4 : r.normal() * 3;
    }
    const zj = await js.run('logPartition', p, w);
    const zw = await be.run('logPartition', p, w);
    expect(be.logSpaceFallbacks).toBe(extreme.size);
    for (let b = 0; b < B; b++) expect(Math.abs(zw[b] - zj[b]), `logZ[${b}]`).toBeLessThanOrEqual(2e-6 * (1 + Math.abs(zj[b])) + 5e-8 * T);
    const qj = await js.run('posteriors', p, w);
    const qw = await be.run('posteriors', p, w);
    expect(be.logSpaceFallbacks).toBe(2 * extreme.size);
    for (let b = 0; b < B; b++) expect(Math.abs(qw.logZ[b] - zj[b]), `posteriors logZ[${b}]`).toBeLessThanOrEqual(2e-6 * (1 + Math.abs(zj[b])) + 5e-8 * T);
    let worst = 0;
    for (let i = 0; i < qj.unary.length; i++) worst = Math.max(worst, Math.abs(qw.unary[i] - qj.unary[i]));
    expect(worst, 'max |Δ marginal|').toBeLessThanOrEqual(2e-3);
    const vj = await js.run('viterbi', p, w);
    const vw = await be.run('viterbi', p, w);
    for (let b = 0; b < B; b++) {
      const best = score(p, w, b, vj.paths.slice(b * T), p.lengths[b]);
      expect(Math.abs(vw.scores[b] - best), `Viterbi score[${b}]`).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(best)));
    }
    be.dispose();
  });

  it('a sequence of a group with no allowed path keeps 0 marginals; its gradient is the weight at its tags', async () => {
    const be = await WasmBackend.create({ wasmModule: await kernels(kind) });
    const r = rng(78);
    const K = 4;
    const w = potentials(K, false, () => r.normal());
    const p = packed(5, K, [T, T, 7, T, 4], () => r.normal());
    // Sequence 2 has no tag left at step 3 (as a partial annotation leaves a position), so no path.
    for (let j = 0; j < K; j++) p.emissions[(2 * T + 3) * K + j] = -Infinity;
    const q = await be.run('posteriors', p, w);
    expect(q.logZ[2]).toBe(-Infinity);
    expect(Array.from(q.unary.subarray(2 * T * K, 3 * T * K)), 'marginals of the sequence with no path').toEqual(new Array(T * K).fill(0));
    const args = { tags: goldTags(r, p), T, weight: 1 };
    expectGradientsOf(await be.run('gradients', p, w, args), q, p, args, 'no path');
    for (const b of [0, 1, 3, 4]) {
      const q1 = await be.run('posteriors', single(p, b), w);
      expect(Array.from(q1.unary), `unary[${b}] batched vs alone`).toEqual(Array.from(q.unary.subarray(b * T * K, (b + 1) * T * K)));
    }
    be.dispose();
  });
});
