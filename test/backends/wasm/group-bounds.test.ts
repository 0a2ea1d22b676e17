// A group of four sequences (assembly/grouped.ts: posteriors at K ≤ 16 in the SIMD build) runs to its
// longest sequence, the others' lanes masked once they end. The backward pass starts each lane at its
// sequence's last row and steps back: a lane that ended long before the group does must not step on
// past its own first row, which for the batch's first sequence lies just after the kernels' tables (a
// first sequence much shorter than another trapped with "memory access out of bounds"). Every sequence
// must give the bits it gives alone, in both builds.
import { describe, expect, it } from 'vitest';
import type { Packed } from '../../../src/call/pack.js';
import type { Potentials } from '../../../src/model/parameters.js';
import { WasmBackend } from '../../../src/backends/wasm/backend.js';
import { KINDS, kernels } from '../../wasm-helpers.js';
import { rng } from '../../suites/oracle.js';

describe.each(KINDS)('a group whose first sequence ends long before the others (%s build)', (kind) => {
  for (const K of [1, 4, 16]) {
    it(`K=${K}: posteriors as for each sequence alone`, async () => {
      const be = await WasmBackend.create({ wasmModule: await kernels(kind) });
      const r = rng(K);
      // Long enough that a lane stepping 16 KiB back would leave memory.
      const T = 300 + 4800 / K;
      const lengths = [1, T, 0, T - 7, 2, T];
      const B = lengths.length;
      const w: Potentials = {
        K,
        start: new Float64Array(K).map(() => Math.fround(r.normal())),
        end: new Float64Array(K).map(() => Math.fround(r.normal())),
        trans: new Float64Array(K * K).map(() => Math.fround(r.normal())),
      };
      const p: Packed = {
        B,
        T,
        K,
        emissions: new Float32Array(B * T * K).map(() => r.normal()),
        lengths: Int32Array.from(lengths),
        positions: new Int32Array(B * T),
      };
      const all = await be.run('posteriors', p, w);
      const counts = new Float64Array(K * K);
      for (let b = 0; b < B; b++) {
        const n = T * K;
        const one = await be.run('posteriors', { ...p, B: 1, emissions: p.emissions.slice(b * n, (b + 1) * n), lengths: Int32Array.of(lengths[b]) }, w);
        expect(one.logZ[0], `logZ[${b}]`).toBe(all.logZ[b]);
        expect(Array.from(one.unary), `unary[${b}]`).toEqual(Array.from(all.unary.subarray(b * n, (b + 1) * n)));
        one.transCounts.forEach((c, i) => (counts[i] += c));
      }
      expect(Array.from(counts), 'transCounts, summed in batch order').toEqual(Array.from(all.transCounts));
      be.dispose();
    });
  }
});
