// The numbers at the edges of float32 and float64: the gold path's score and log Z from the same values
// (llh ≤ 0 where mixed precision gave +0.0079), and the float64 reference's entropy to 1e-9.
import { describe, expect, it } from 'vitest';
import { CRF } from '../src/index.js';
import { JsBackend } from '../src/backends/js/backend.js';
import { availableBackends } from './backends.js';
import { bruteForce } from './suites/oracle.js';

const backends = await availableBackends();

describe.each(backends.map((b) => [b.name, b.options] as const))('%s: score and partition from the same values', (name, options) => {
  it('50 steps of float64 emissions [10000.0004, -10000]: llh ≤ 0, and the float64 llh of the values computed on', async () => {
    const crf = await CRF.create(2, { backend: name, ...options, seed: 1 });
    const ref = await CRF.create(2, { backend: 'js' });
    ref.loadStateDict(crf.stateDict());
    for (const [hi, lo] of [
      [10000.0004, -10000],
      [1e8 + 0.3, -1e8],
      [-3e19 + 12345, 1e19 + 0.5],
    ]) {
      const em = [Array.from({ length: 50 }, () => [hi, lo])];
      const tags = [new Array(50).fill(0)];
      const llh = await crf.forward(em, tags, { reduction: 'none' });
      expect(llh[0]).toBeLessThanOrEqual(0);
      // The values a float32 backend computes on are the float32 roundings of the input.
      const seen = name === 'js' ? em : [em[0].map((r) => r.map(Math.fround))];
      const want = await ref.forward(seen, tags, { reduction: 'none' });
      expect(Math.abs(llh[0] - want[0])).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(want[0])));
    }
  });
});

describe('the float64 reference entropy', () => {
  it('is within 1e-9 of a stable enumeration on confident, mixed and uniform sequences', async () => {
    const js = new JsBackend();
    const K = 3;
    const w = {
      K,
      start: Float64Array.of(0.1, -0.2, 0.05),
      end: Float64Array.of(0, 0.1, -0.1),
      trans: Float64Array.of(0.1, -0.05, 0.02, 0.3, 0, -0.1, 0, 0.2, 0.1),
    };
    const cases = [
      Array.from({ length: 6 }, (_, i) => [100, 100 - 16 - (i % 3), 70]),
      Array.from({ length: 5 }, (_, i) => [100, 100 - 24 - (i % 2), 60]),
      Array.from({ length: 7 }, (_, i) => [100, 100 - 3 - (i % 3) * 0.5, 99 - i]),
      Array.from({ length: 4 }, () => [5, 5, 5]),
    ];
    for (const rows of cases) {
      const p = {
        B: 1,
        T: rows.length,
        K,
        emissions: Float64Array.from(rows.flat()),
        lengths: Int32Array.of(rows.length),
        positions: Int32Array.from(rows, (_, t) => t),
      };
      const { entropy } = await js.run('entropy', p, w);
      const want = bruteForce(rows, w).entropy;
      expect(Math.abs(entropy[0] - want)).toBeLessThanOrEqual(1e-9 * want);
    }
  });
});
