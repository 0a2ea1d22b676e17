// crf.sync: the ops run synchronously give what the async methods give, on every backend, and refuse
// the same inputs with the same errors; the wasm backend's synchronous path survives a handed-back instance.
import { afterAll, describe, expect, it, vi } from 'vitest';
import { CRF, CRFInputError, type CRFOptions, allowedTransitions } from '../../src/index.js';
import { WasmBackend } from '../../src/backends/wasm/backend.js';
import { backendVariants, splitEveryCall } from '../backends.js';
import { kernels } from '../wasm-helpers.js';
import { nodeGpuDevice } from '../../scripts/node-backends.js';

function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 4 - 2;
}

const B = 4,
  T = 6,
  K = 5;
const r = rng(3);
const emissions = { data: Float32Array.from({ length: B * T * K }, r), shape: [B, T, K] };
const lengths = [6, 4, 1, 0];
const mask = lengths.map((l) => Array.from({ length: T }, (_, t) => t < l));
const tags = lengths.map((_, b) => Array.from({ length: T }, (_, t) => (b * 3 + t * 2) % K));
const constraints = allowedTransitions('BIO', ['O', 'B-X', 'I-X', 'B-Y', 'I-Y']);
const allowed = { allowed: tags.map((row) => row.map((y, t) => Array.from({ length: K }, (_, j) => t % 2 === 0 || j === y || j === (y + 1) % K))) };

/** Every op with the same arguments: [name, async call, sync call]. */
function ops(crf: CRF): [string, () => Promise<unknown>, () => unknown][] {
  const s = crf.sync;
  return [
    ['forward sum', () => crf.forward(emissions, tags, { mask }), () => s.forward(emissions, tags, { mask })],
    ['forward none', () => crf.forward(emissions, tags, { mask, reduction: 'none' }), () => s.forward(emissions, tags, { mask, reduction: 'none' })],
    [
      'forward partial',
      () => crf.forward(emissions, allowed, { mask, reduction: 'token_mean' }),
      () => s.forward(emissions, allowed, { mask, reduction: 'token_mean' }),
    ],
    [
      'forwardBackward mean',
      () => crf.forwardBackward(emissions, tags, { mask, reduction: 'mean' }),
      () => s.forwardBackward(emissions, tags, { mask, reduction: 'mean' }),
    ],
    ['forwardBackward partial', () => crf.forwardBackward(emissions, allowed, { mask }), () => s.forwardBackward(emissions, allowed, { mask })],
    ['decode', () => crf.decode(emissions, { mask }), () => s.decode(emissions, { mask })],
    ['decode topK', () => crf.decode(emissions, { mask, topK: 3 }), () => s.decode(emissions, { mask, topK: 3 })],
    ['logPartition', () => crf.logPartition(emissions, { mask }), () => s.logPartition(emissions, { mask })],
    ['marginals allowed', () => crf.marginals(emissions, { mask, allowed: allowed.allowed }), () => s.marginals(emissions, { mask, allowed: allowed.allowed })],
    ['entropy', () => crf.entropy(emissions, { mask }), () => s.entropy(emissions, { mask })],
    ['sample', () => crf.sample(emissions, { mask, numSamples: 3, seed: 9 }), () => s.sample(emissions, { mask, numSamples: 3, seed: 9 })],
  ];
}

const variants = await backendVariants();
const restore = await splitEveryCall();
afterAll(restore);

describe.each(variants)('crf.sync on $label', ({ name, options }) => {
  it('returns what the async methods resolve to (webgpu: what its CPU backend computes)', async () => {
    const crf = await CRF.create(K, { ...options, backend: name, seed: 5, constraints });
    // webgpu's sync route is its CPU backend: the oracle is that backend's async result.
    const oracle = name === 'webgpu' ? await CRF.create(K, { backend: 'wasm', seed: 5, constraints }) : crf;
    const want = ops(oracle);
    for (const [i, [what, , sync]] of ops(crf).entries()) {
      const got = sync();
      expect(got, what).not.toBeInstanceOf(Promise);
      expect(got, what).toEqual(await want[i][1]());
    }
    crf.dispose();
  });

  it('throws the async methods’ CRFInputError for the same bad input, synchronously, and leaves the instance usable', async () => {
    const crf = await CRF.create(K, { ...options, backend: name, seed: 5 } as CRFOptions);
    const bad: [string, (c: CRF | CRF['sync']) => unknown][] = [
      [
        'tags out of range',
        (c) =>
          c.forward(
            emissions,
            tags.map((row) => row.map(() => K)),
          ),
      ],
      ['mask shape', (c) => c.decode(emissions, { mask: [[1]] })],
      ['unknown reduction', (c) => c.forwardBackward(emissions, tags, { reduction: 'avg' as never })],
      ['numSamples', (c) => c.sample(emissions, { numSamples: 0 })],
      ['emissions', (c) => c.logPartition({ data: [1, 2], shape: [1, 1, 2] })],
    ];
    for (const [what, call] of bad) {
      let syncErr: unknown = null;
      try {
        call(crf.sync);
      } catch (e) {
        syncErr = e;
      }
      expect(syncErr, what).toBeInstanceOf(CRFInputError);
      await expect(
        Promise.resolve().then(() => call(crf)),
        what,
      ).rejects.toThrow((syncErr as Error).message);
    }
    expect(crf.sync.decode(emissions, { mask })).toEqual(await crf.decode(emissions, { mask }));
    crf.dispose();
    expect(() => crf.sync.decode(emissions)).toThrow(/disposed/);
  });
});

describe('WasmBackend.runSync after a call hands its instance back', () => {
  const call = (Bn: number) => ({
    p: { B: Bn, T: 50, K: 8, emissions: Float32Array.from({ length: Bn * 400 }, r), lengths: new Int32Array(Bn).fill(50), positions: new Int32Array(Bn * 50) },
    w: { K: 8, start: new Float64Array(8).fill(0.1), end: new Float64Array(8), trans: Float64Array.from({ length: 64 }, r) },
  });

  it('instantiates synchronously where the engine allows it, with the same results as run', async () => {
    const be = await WasmBackend.create({ wasmModule: await kernels('simd') });
    be.retainedBytes = 2 ** 20;
    const big = call(2000); // 3.2 MB of emissions: more than retained
    const want = await be.run('logPartition', big.p, big.w);
    expect(be.runSync('logPartition', big.p, big.w)).toEqual(want);
    const small = call(2);
    expect(be.runSync('logPartition', small.p, small.w)).toEqual(await be.run('logPartition', small.p, small.w));
    expect(be.releases).toBe(2);
    be.dispose();
  });

  it('where synchronous instantiation is refused, runs on the handed-back instance until its replacement is ready', async () => {
    const be = await WasmBackend.create({ wasmModule: await kernels('simd') });
    be.retainedBytes = 2 ** 20;
    const big = call(2000);
    const small = call(3);
    const want = await be.run('logPartition', small.p, small.w);
    be.runSync('logPartition', small.p, small.w); // a synchronous caller from here on
    const refuse = vi.spyOn(WebAssembly, 'Instance').mockImplementation(function refused() {
      throw new RangeError('WebAssembly.Instance is disallowed on the main thread');
    });
    try {
      be.runSync('logPartition', big.p, big.w);
      expect(be.releases).toBe(1);
      const held = be.memoryBytes;
      expect(held).toBeGreaterThan(2 ** 20); // the handed-back instance, kept
      expect(be.runSync('logPartition', small.p, small.w)).toEqual(want);
      await vi.waitFor(() => expect(be.memoryBytes).toBeLessThan(held)); // replaced in the background
      expect(be.runSync('logPartition', small.p, small.w)).toEqual(want);
      expect(refuse).toHaveBeenCalled();
    } finally {
      refuse.mockRestore();
    }
    be.dispose();
  });
});

const gpu = await nodeGpuDevice();

describe.skipIf(!gpu.device)('crf.sync with emissions on the GPU', () => {
  it('refuses them with a CRFInputError naming the emissions, while the async methods read them', async () => {
    const device = gpu.device!;
    const crf = await CRF.create(K, { backend: 'webgpu', device, seed: 5 });
    const buffer = device.createBuffer({ size: emissions.data.length * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC });
    device.queue.writeBuffer(buffer, 0, emissions.data);
    const onGpu = { buffer, shape: emissions.shape };
    for (const call of [
      () => crf.sync.decode(onGpu as never),
      () => crf.sync.forward(onGpu as never, tags),
      () => crf.sync.marginals(onGpu as never, { allowed: allowed.allowed }),
    ]) {
      expect(call).toThrow(CRFInputError);
      expect(call).toThrow(/^emissions: expected emissions on the CPU for crf.sync/);
    }
    expect(await crf.decode(onGpu as never)).toEqual(crf.sync.decode(emissions));
    buffer.destroy();
    crf.dispose();
  });
});
