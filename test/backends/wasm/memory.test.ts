// The wasm backend's memory (grown once for the largest call, then reused), a batch of 32M floats, and
// how the kernels are found: feature detection, the wasmModule option, the package's node entry.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CRF, CRFInputError } from '../../../src/index.js';
import { WasmBackend } from '../../../src/backends/wasm/backend.js';
import { builtinWasmModule, simdSupported } from '../../../src/backends/wasm/source.js';
import { kernels } from '../../wasm-helpers.js';
import { rng } from '../../suites/oracle.js';

describe('wasm memory', () => {
  it('10,000 mixed calls after the largest one do not grow memory', async () => {
    const r = rng(3);
    const crf = await CRF.create(5, { backend: 'wasm' });
    const big = { data: new Float32Array(64 * 50 * 5).map(() => r.normal()), shape: [64, 50, 5] };
    const bigTags = { data: new Int32Array(64 * 50), shape: [64, 50] };
    // The largest call of each op first: memory grows to fit them.
    await crf.forwardBackward(big, bigTags);
    await crf.decode(big, { topK: 4 });
    const bytes = crf.memoryUsage().wasmBytes;
    expect(bytes).toBeGreaterThan(0);
    for (let i = 0; i < 10_000; i++) {
      const B = 1 + (i % 7),
        T = 1 + (i % 13);
      const em = { data: new Float32Array(B * T * 5).map(() => r.normal()), shape: [B, T, 5] };
      const tags = { data: new Int32Array(B * T).map(() => r.int(5)), shape: [B, T] };
      switch (i % 5) {
        case 0:
          await crf.forward(em, tags);
          break;
        case 1:
          await crf.decode(em);
          break;
        case 2:
          await crf.marginals(em);
          break;
        case 3:
          await crf.forwardBackward(em, tags);
          break;
        default:
          await crf.decode(em, { topK: 1 + (i % 4) });
      }
    }
    expect(crf.memoryUsage().wasmBytes).toBe(bytes);
    crf.dispose();
    expect(crf.memoryUsage().wasmBytes).toBe(0);
  });

  it('grows once per call larger than any before, never for a smaller one', async () => {
    const be = await WasmBackend.create({ wasmModule: await kernels('simd') });
    const call = (B: number, T: number, K: number) =>
      be.run(
        'logPartition',
        { B, T, K, emissions: new Float32Array(B * T * K), lengths: new Int32Array(B).fill(T), positions: new Int32Array(B * T) },
        { K, start: new Float64Array(K), end: new Float64Array(K), trans: new Float64Array(K * K) },
      );
    await call(8, 1000, 16); // 512 KB of emissions
    const grown = be.memoryBytes;
    await call(8, 500, 16);
    await call(2, 1000, 16);
    expect(be.memoryBytes).toBe(grown);
    await call(64, 1000, 16);
    expect(be.memoryBytes).toBeGreaterThan(grown);
    be.dispose();
  });

  it('a batch of B·T·K = 32M floats (256 × 2048 × 64): log Z and Viterbi equal the reference', async () => {
    const B = 256,
      T = 2048,
      K = 64;
    const r = rng(11);
    const data = new Float32Array(B * T * K);
    for (let i = 0; i < data.length; i++) data[i] = r.next() * 6 - 3;
    const wasm = await CRF.create(K, { backend: 'wasm', seed: 1 });
    const z = await wasm.logPartition({ data, shape: [B, T, K] });
    const paths = await wasm.decode({ data, shape: [B, T, K] });
    // The call needed over 128 MiB (the emissions alone are 128 MiB): that memory went back afterwards.
    expect(wasm.memoryUsage().wasmBytes).toBe(0);
    await wasm.logPartition({ data: data.subarray(0, T * K), shape: [1, T, K] });
    expect(wasm.memoryUsage().wasmBytes).toBeLessThan(4 * 2 ** 20);
    expect(z.every(Number.isFinite)).toBe(true);
    // Spot-check the first and last sequences against the float64 reference.
    const js = await CRF.create(K, { backend: 'js', seed: 1 });
    for (const b of [0, B - 1]) {
      const one = { data: data.subarray(b * T * K, (b + 1) * T * K), shape: [1, T, K] };
      const [zj] = await js.logPartition(one);
      expect(Math.abs(z[b] - zj)).toBeLessThanOrEqual(1e-6 * Math.abs(zj) + 1e-3);
      expect(paths[b]).toEqual((await js.decode(one))[0]);
    }
    wasm.dispose();
  }, 120_000);
});

describe('wasm loading', () => {
  it('detects SIMD with a tiny module, and says no when validation fails or throws', () => {
    expect(simdSupported()).toBe(true); // Node ≥ 16.4
    expect(simdSupported(() => false)).toBe(false);
    expect(
      simdSupported(() => {
        throw new Error('no wasm');
      }),
    ).toBe(false);
  });

  it('the built-in source gives the build asked for; the backend reports which runs', async () => {
    for (const kind of ['simd', 'scalar'] as const) {
      const be = await WasmBackend.create({ wasmModule: (await builtinWasmModule(kind)).module });
      expect(be.simd).toBe(kind === 'simd');
      be.dispose();
    }
  });

  it('wasmModule must be a compiled module of these kernels', async () => {
    await expect(CRF.create(3, { backend: 'wasm', wasmModule: new Uint8Array(8) })).rejects.toThrow(/WebAssembly\.Module/);
    const other = await WebAssembly.compile(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));
    await expect(CRF.create(3, { backend: 'wasm', wasmModule: other })).rejects.toThrow(/not a webcrf kernels module/);
    await expect(CRF.create(3, { backend: 'auto', wasmModule: other })).rejects.toThrow(/not a webcrf kernels module/);
    const crf = await CRF.create(3, { backend: 'wasm', wasmModule: await kernels('scalar') });
    expect(crf.backend).toBe('wasm');
  });

  it('auto picks wasm in Node', async () => {
    expect((await CRF.create(4)).backend).toBe('wasm');
  });

  it("Node resolves the package's node entry, which reads the .wasm beside it", () => {
    const root = fileURLToPath(new URL('../../..', import.meta.url));
    const code = `import { CRF } from 'webcrf';
      const crf = await CRF.create(3, { seed: 1 });
      const z = await crf.logPartition([[[1, 2, 3], [0, 1, 0]]]);
      console.log(JSON.stringify({ backend: crf.backend, import: import.meta.resolve('webcrf'), z: z[0] }));`;
    const out = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', code], { cwd: root, encoding: 'utf8' }));
    expect(out.backend).toBe('wasm');
    expect(out.import).toMatch(/\/dist\/node\.js$/);
    expect(Number.isFinite(out.z)).toBe(true);
  });
});

describe('wasm input range', () => {
  it('emissions beyond ±1e20 are refused on every backend with the supported range; at the edge they compute', async () => {
    const crf = await CRF.create(2, { backend: 'wasm' });
    for (const v of [1e39, -1.0001e20, 3e38]) {
      const err = await crf.logPartition({ data: Float64Array.of(1, 2, v, 0), shape: [1, 2, 2] }).catch((e) => e);
      expect(err).toBeInstanceOf(CRFInputError);
      expect(err.argument).toBe('emissions');
      expect(err.message).toMatch(/within ±1e20 \(the supported range\) at \[0\]\[1\]\[0\]/);
    }
    const big = { data: Float64Array.of(1, 2, 1e20, -1e20), shape: [1, 2, 2] };
    const js = await CRF.create(2, { backend: 'js' });
    js.loadStateDict(crf.stateDict());
    const [zw] = await crf.logPartition(big);
    const [zj] = await js.logPartition(big);
    expect(Math.abs(zw - zj)).toBeLessThanOrEqual(1e-6 * Math.abs(zj));
  });
});
