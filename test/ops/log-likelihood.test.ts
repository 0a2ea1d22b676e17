// The gold path's score of the ops given gold tags, logLikelihood (forward's) and gradients
// (forwardBackward's): on every backend, the sum along the tags in float64 of the float32 potentials and
// emissions (summed in the order the ops' contract fixes, so every backend gives it exactly), −∞ through a
// forbidden step and 0 for an empty sequence; and their log Z is the logPartition op's and the
// posteriors op's on the same backend, bit for bit (the fusion changes nothing there).
import { afterAll, describe, expect, it } from 'vitest';
import type { Packed } from '../../src/call/pack.js';
import type { Potentials } from '../../src/model/parameters.js';
import { createBackend } from '../../src/backends/choose.js';
import { backendVariants, splitEveryCall } from '../backends.js';

const K = 6;
const f32 = Math.fround;

function rng(seed: number) {
  return () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
}

/** Potentials of float32 values; with `forbid`, a few transitions and one start tag −∞. */
function potentialsOf(seed: number, forbid: boolean): Potentials {
  const r = rng(seed);
  const w = {
    K,
    start: Float64Array.from({ length: K }, () => f32(r())),
    end: Float64Array.from({ length: K }, () => f32(r())),
    trans: Float64Array.from({ length: K * K }, () => f32(r())),
  };
  if (forbid) {
    w.start[5] = -Infinity;
    for (const [i, j] of [
      [0, 1],
      [2, 3],
      [4, 4],
    ])
      w.trans[i * K + j] = -Infinity;
  }
  return w;
}

/** A packed call of B sequences (lengths from `lengths`, 0 included) and gold tags in 0..4 (tag 5 only where set). */
function call(lengths: number[], seed: number): { p: Packed; tags: Int32Array } {
  const r = rng(seed);
  const B = lengths.length;
  const T = Math.max(1, ...lengths);
  const emissions = Float32Array.from({ length: B * T * K }, () => r() * 3);
  const tags = Int32Array.from({ length: B * T }, () => Math.floor(((r() + 1) / 2) * 5));
  const positions = Int32Array.from({ length: B * T }, (_, i) => (i % T < lengths[Math.floor(i / T)] ? i % T : -1));
  return { p: { B, T, K, emissions, lengths: Int32Array.from(lengths), positions }, tags };
}

/** The oracle: start, each step's transition and emission, end, added up in float64 as defined. */
function goldScore(p: Packed, tags: Int32Array, w: Potentials, b: number): number {
  const len = p.lengths[b];
  if (len === 0) return 0;
  const at = (t: number) => tags[b * p.T + t];
  const e = (t: number) => p.emissions[(b * p.T + t) * K + at(t)];
  let s = w.start[at(0)] + e(0);
  for (let t = 1; t < len; t++) s += w.trans[at(t - 1) * K + at(t)] + e(t);
  return s + w.end[at(len - 1)];
}

const restore = await splitEveryCall();
afterAll(restore);

describe.each(await backendVariants())('the gold score on $label', ({ name, options }) => {
  it.each([false, true])('logLikelihood and gradients score the gold tags as summed by definition, with log Z unchanged (constraints %s)', async (forbid) => {
    const { backend } = await createBackend(name, options, options.threads === 2 ? 2 : 1);
    const w = potentialsOf(forbid ? 3 : 4, forbid);
    // Lengths across the SIMD build's groups of four, an empty sequence, and a long one; 33 sequences, so
    // that gradients runs more than one block of 16 (and splits across threads).
    const lengths = [7, 0, 1, 5, 12, 3, 3, 40, 2, 9, 1];
    const { p, tags } = call([...lengths, ...lengths, ...lengths], forbid ? 5 : 6);
    if (forbid) {
      tags[0] = 5; // sequence 0 starts on a forbidden tag
      tags[3 * p.T + 1] = 2;
      tags[3 * p.T + 2] = 3; // sequence 3 steps 2 → 3
    }
    const r = await backend.run('logLikelihood', p, w, { tags, T: p.T });
    const want = Float64Array.from({ length: p.B }, (_, b) => goldScore(p, tags, w, b));
    expect(Array.from(r.score)).toEqual(Array.from(want));
    if (forbid) expect([r.score[0], r.score[3]]).toEqual([-Infinity, -Infinity]);
    expect(r.score[1]).toBe(0);
    expect(Array.from(r.logZ)).toEqual(Array.from(await backend.run('logPartition', p, w)));
    const g = await backend.run('gradients', p, w, { tags, T: p.T, weight: 1 });
    expect(Array.from(g.score)).toEqual(Array.from(want));
    expect(Array.from(g.logZ)).toEqual(Array.from((await backend.run('posteriors', p, w)).logZ));
    backend.dispose();
  });
});
