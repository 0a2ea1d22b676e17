// The kernels' vectorised f32 exp and log (assembly/lanes.ts) against Math.exp / Math.log over the
// whole range the kernels use them on, in both builds.
import { describe, expect, it } from 'vitest';
import { WasmBackend } from '../../../src/backends/wasm/backend.js';
import { KINDS, kernelMath, kernels } from '../../wasm-helpers.js';

const N = 1 << 20;

describe.each(KINDS)('vectorised exp/log (%s build)', (kind) => {
  it('exp: relative error ≤ 1.2e-7 on [-87, 88.7]; 0 below -87 and for -Infinity; Infinity above 88.72', async () => {
    const be = await WasmBackend.create({ wasmModule: await kernels(kind) });
    expect(be.simd).toBe(kind === 'simd');
    const x = new Float32Array(N).map((_, i) => -87 + (88.7 + 87) * (i / (N - 1)));
    const y = await kernelMath(kind, 'exp', x);
    let worst = 0;
    for (let i = 0; i < N; i++) {
      const t = Math.exp(x[i]);
      worst = Math.max(worst, Math.abs(y[i] - t) / t);
    }
    expect(worst).toBeLessThanOrEqual(1.2e-7);
    // Exactly 0 where the true value is below 1.7e-38 (the kernels treat those as zero and check), so
    // forbidden transitions stay exactly 0 in linear space.
    const edge = await kernelMath(kind, 'exp', Float32Array.of(-Infinity, -1e30, -104, -87.01, 88.73, Infinity, 0, -0));
    expect(Array.from(edge)).toEqual([0, 0, 0, 0, Infinity, Infinity, 1, 1]);
    be.dispose();
  });

  it('log: error ≤ 1.2e-7·max(1, |log x|) over the normal floats, dense on [0.5, 512]; log 0 = -Infinity', async () => {
    const be = await WasmBackend.create({ wasmModule: await kernels(kind) });
    const lo = Math.log(1.1754944e-38),
      hi = Math.log(3.4028e38);
    const wide = new Float32Array(N).map((_, i) => Math.exp(lo + (hi - lo) * (i / (N - 1))));
    const dense = new Float32Array(N).map((_, i) => 0.5 + 511.5 * (i / (N - 1)));
    for (const x of [wide, dense]) {
      const y = await kernelMath(kind, 'log', x);
      let worst = 0;
      for (let i = 0; i < N; i++) {
        const t = Math.log(x[i]);
        worst = Math.max(worst, Math.abs(y[i] - t) / Math.max(1, Math.abs(t)));
      }
      expect(worst).toBeLessThanOrEqual(1.2e-7);
    }
    expect(Array.from(await kernelMath(kind, 'log', Float32Array.of(0, Infinity, 1, 2)))).toEqual([-Infinity, Infinity, 0, Math.fround(Math.LN2)]);
    be.dispose();
  });
});
