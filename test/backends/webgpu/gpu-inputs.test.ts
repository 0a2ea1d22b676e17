// Emissions already on the GPU (`{ buffer, shape }`, onnxruntime-web and transformers.js tensors with
// location 'gpu-buffer') on the webgpu backend in Node (Dawn): every op gives what the same values give
// from the CPU (bit for bit: the kernels see the same float32 values) and what the float64 js backend
// gives, in both layouts, under masks, constraints and chunking; the ops with GPU programs read back
// only their results, the others the emissions once; and every bad input is refused by name.
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-web';
import * as lib from '../../../src/index.js';
import '../../wasm-setup.js';
import { inputError } from '../../helpers.js';
import { JsBackend } from '../../../src/backends/js/backend.js';
import { WebGpuBackend } from '../../../src/backends/webgpu/index.js';
import { pack } from '../../../src/call/pack.js';
import { packGpu } from '../../../src/call/gpu-emissions.js';
import { potentials } from '../../../src/model/parameters.js';
import { nodeGpuDevice } from '../../../scripts/node-backends.js';
import { generator } from '../../../examples/random.js';

const gpu = await nodeGpuDevice();
if (!gpu.device) console.warn(`webgpu GPU-input tests skipped: no adapter (${gpu.reason})`);
const device = gpu.device!;
const { CRF, CRFInputError } = lib;
const STORAGE = 128,
  COPY_DST = 8,
  COPY_SRC = 4;
// Dawn tears a GPU instance down when it is collected, taking its devices with it: keep each alive.
const instances: unknown[] = [];

/** Uniforms in [0, 1) from the examples' seeded generator. */
const rng = (seed: number): (() => number) => generator(seed).next;

function randomEmissions(n: number, seed: number, scale = 3): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => (r() * 2 - 1) * scale);
}

/**
 * A storage buffer holding `values`, its size rounded up to 16 bytes as onnxruntime rounds it, the
 * padding filled with NaN: nothing may read past the values.
 */
function upload(values: Float32Array, usage = STORAGE | COPY_DST | COPY_SRC, dev: GPUDevice = device): GPUBuffer {
  const size = Math.max(16, Math.ceil((values.length * 4 + 4) / 16) * 16);
  const buf = dev.createBuffer({ size, usage, mappedAtCreation: true });
  const view = new Float32Array(buf.getMappedRange());
  view.fill(NaN);
  view.set(values);
  buf.unmap();
  return buf;
}

/** A random mask with gaps and a masked first step, at least one sequence fully off. */
function gappyMask(B: number, T: number, seed: number): number[][] {
  const r = rng(seed);
  return Array.from({ length: B }, (_, b) => Array.from({ length: T }, () => (b === 1 ? 0 : r() < 0.7 ? 1 : 0)));
}

function transpose(m: number[][]): number[][] {
  return m[0].map((_, t) => m.map((row) => row[t]));
}

/** The mapAsync calls `f` makes, by the bytes of each mapped buffer. */
async function mapsDuring(f: () => Promise<unknown>): Promise<number[]> {
  const proto = (globalThis as unknown as { GPUBuffer: { prototype: GPUBuffer } }).GPUBuffer.prototype;
  const mapAsync = Object.getOwnPropertyDescriptor(proto, 'mapAsync')!;
  const sizes: number[] = [];
  Object.defineProperty(proto, 'mapAsync', {
    ...mapAsync,
    value(this: GPUBuffer, ...a: Parameters<GPUBuffer['mapAsync']>) {
      sizes.push(this.size);
      return (mapAsync.value as GPUBuffer['mapAsync']).apply(this, a);
    },
  });
  try {
    await f();
  } finally {
    Object.defineProperty(proto, 'mapAsync', mapAsync);
  }
  return sizes;
}

const K = 5;
const constraints = lib.allowedTransitions('BIO', ['O', 'B-PER', 'I-PER', 'B-LOC', 'I-LOC']);

describe.skipIf(!gpu.device)('emissions on the GPU, webgpu backend', () => {
  describe.each([
    { batchFirst: true, constrained: false },
    { batchFirst: false, constrained: false },
    { batchFirst: true, constrained: true },
    { batchFirst: false, constrained: true },
  ])('batchFirst $batchFirst, constraints $constrained', ({ batchFirst, constrained }) => {
    const B = 4,
      T = 9;
    const shape = batchFirst ? [B, T, K] : [T, B, K];
    const values = randomEmissions(B * T * K, batchFirst ? 1 : 2);
    const maskBF = gappyMask(B, T, 3);
    const mask = batchFirst ? maskBF : transpose(maskBF);
    const opts = { batchFirst, seed: 5, ...(constrained ? { constraints } : {}) };

    it('decode, logPartition, marginals and entropy equal the CPU input bit for bit and the float64 js backend, reading back only their results', async () => {
      const crf = await CRF.create(K, { backend: 'webgpu', device, ...opts });
      const ref = await CRF.create(K, { backend: 'js', ...opts });
      const buffer = upload(values);
      const cpu = { data: values, shape };
      for (const [op, call] of [
        ['decode', (x: unknown, m?: unknown) => crf.decode(x as never, { mask: m as never })],
        ['logPartition', (x: unknown, m?: unknown) => crf.logPartition(x as never, { mask: m as never })],
        ['marginals', (x: unknown, m?: unknown) => crf.marginals(x as never, { mask: m as never })],
        ['entropy', (x: unknown, m?: unknown) => crf.entropy(x as never, { mask: m as never })],
      ] as const) {
        for (const m of [undefined, mask]) {
          let want: unknown, got: unknown;
          const cpuMaps = await mapsDuring(async () => (want = await call(cpu, m)));
          const gpuMaps = await mapsDuring(async () => (got = await call({ buffer, shape }, m)));
          expect(got, `${op} mask ${!!m}`).toEqual(want);
          // The results are all that is read: as many maps, of the same sizes, as the CPU input's call.
          expect(gpuMaps, `${op} reads`).toEqual(cpuMaps);
        }
      }
      // The float64 reference, on the values as given.
      expect(await crf.decode({ buffer, shape }, { mask })).toEqual(await ref.decode(cpuOf(values, shape), { mask }));
      const z = await crf.logPartition({ buffer, shape }, { mask });
      const zRef = await ref.logPartition(cpuOf(values, shape), { mask });
      for (let b = 0; b < B; b++) expect(z[b]).toBeCloseTo(zRef[b], 4);
      const mg = await crf.marginals({ buffer, shape }, { mask });
      const mRef = await ref.marginals(cpuOf(values, shape), { mask });
      for (let i = 0; i < mRef.length; i++) expect(Math.abs(mg[i] - mRef[i])).toBeLessThan(2e-4);
      const h = await crf.entropy({ buffer, shape }, { mask });
      const hRef = await ref.entropy(cpuOf(values, shape), { mask });
      for (let b = 0; b < B; b++) expect(h[b]).toBeCloseTo(hRef[b], 3);
      buffer.destroy();
      crf.dispose();
      ref.dispose();
    });

    it('forward, forwardBackward, top-k, sample and partial annotations read the emissions back once and equal the CPU input', async () => {
      const crf = await CRF.create(K, { backend: 'webgpu', device, ...opts });
      const buffer = upload(values);
      const cpu = { data: values, shape };
      const tagsBF = Array.from({ length: B }, (_, b) => Array.from({ length: T }, (_, t) => (constrained ? 0 : (b + t) % K)));
      const tags = batchFirst ? tagsBF : transpose(tagsBF);
      const allowedBF = Array.from({ length: B }, () => Array.from({ length: T }, (_, t) => Array.from({ length: K }, (_, j) => t % 3 !== 0 || j === 0)));
      const allowed = batchFirst ? allowedBF : allowedBF[0].map((_, t) => allowedBF.map((row) => row[t]));
      const calls: [string, (x: unknown) => Promise<unknown>][] = [
        ['forward', (x) => crf.forward(x as never, tags, { mask, reduction: 'none' })],
        ['forwardBackward', (x) => crf.forwardBackward(x as never, tags, { mask })],
        ['decode topK', (x) => crf.decode(x as never, { mask, topK: 3 })],
        ['decode allowed', (x) => crf.decode(x as never, { mask, allowed })],
        ['sample', (x) => crf.sample(x as never, { mask, numSamples: 3, seed: 9 })],
        ['marginals allowed', (x) => crf.marginals(x as never, { mask, allowed })],
        ['forward allowed', (x) => crf.forward(x as never, { allowed }, { mask })],
      ];
      const bytes = 4 * values.length;
      for (const [op, call] of calls) {
        let want: unknown, got: unknown;
        const cpuMaps = await mapsDuring(async () => (want = await call(cpu)));
        const gpuMaps = await mapsDuring(async () => (got = await call({ buffer, shape })));
        expect(got, op).toEqual(want);
        // One more map than the CPU input's call: the emissions, once (forward's and forwardBackward's
        // come back packed in the op's one readback, with its results).
        const inReadback = op === 'forward' || op === 'forwardBackward';
        expect(gpuMaps.length, `${op} reads`).toBe(cpuMaps.length + (inReadback ? 0 : 1));
        // (The readback's size is a pool size class: a packed copy inside it cannot be told by size. That
        // the gold scores equal the CPU input's is what shows it was read.)
        if (!inReadback) expect(gpuMaps.filter((s) => s >= bytes).length - cpuMaps.filter((s) => s >= bytes).length, `${op} emissions-sized reads`).toBe(1);
      }
      buffer.destroy();
      crf.dispose();
    });
  });

  it('an onnxruntime-web GPU tensor and a transformers.js tensor wrapping it are read as { buffer, shape }', async () => {
    const B = 2,
      T = 3;
    const values = randomEmissions(B * T * K, 11);
    const buffer = upload(values);
    const tensor = ort.Tensor.fromGpuBuffer(buffer as never, { dataType: 'float32', dims: [B, T, K] });
    expect(tensor.location).toBe('gpu-buffer');
    // transformers.js's Tensor: a Proxy whose dims, type, location, data and size forward to its ort_tensor.
    const wrapped = new Proxy(
      { ort_tensor: tensor },
      {
        get(target, key) {
          if (key === 'ort_tensor') return target.ort_tensor;
          if (['dims', 'type', 'location', 'data', 'size'].includes(key as string)) return (tensor as unknown as Record<string, unknown>)[key as string];
          return undefined;
        },
        has: (target, key) => key === 'ort_tensor' || ['dims', 'type', 'location', 'data', 'size'].includes(key as string),
      },
    );
    const crf = await CRF.create(K, { backend: 'webgpu', device, seed: 1 });
    const want = await crf.decode({ data: values, shape: [B, T, K] });
    expect(await crf.decode(tensor as never)).toEqual(want);
    expect(await crf.decode(wrapped as never)).toEqual(want);
    expect(await crf.logPartition(tensor as never)).toEqual(await crf.logPartition({ data: values, shape: [B, T, K] }));
    crf.dispose();
    buffer.destroy();
  });

  it('reads the CPU inputs of a call (mask, tags, allowed) before it reads the emissions back: refilling them after the call returns changes nothing', async () => {
    const B = 3,
      T = 4;
    const shape = [B, T, K];
    const values = randomEmissions(B * T * K, 21);
    const buffer = upload(values);
    const crf = await CRF.create(K, { backend: 'webgpu', device, seed: 6 });
    const fresh = () => ({
      mask: { data: Uint8Array.from({ length: B * T }, (_, i) => (i % T < 3 ? 1 : 0)), shape: [B, T] },
      tags: { data: Int32Array.from({ length: B * T }, (_, i) => i % K), shape: [B, T] },
      allowed: { data: Uint8Array.from({ length: B * T * K }, (_, i) => (i % 3 === 0 ? 1 : 0)), shape },
    });
    const want = fresh();
    const expected = [
      await crf.forward({ data: values, shape }, want.tags, { mask: want.mask, reduction: 'none' }),
      await crf.forwardBackward({ data: values, shape }, want.tags, { mask: want.mask }),
      await crf.decode({ data: values, shape }, { mask: want.mask, allowed: want.allowed }),
    ];
    const got = fresh();
    const pending = [
      crf.forward({ buffer, shape }, got.tags, { mask: got.mask, reduction: 'none' }),
      crf.forwardBackward({ buffer, shape }, got.tags, { mask: got.mask }),
      crf.decode({ buffer, shape }, { mask: got.mask, allowed: got.allowed }),
    ];
    got.mask.data.fill(1);
    got.tags.data.fill(2);
    got.allowed.data.fill(1);
    expect(await Promise.all(pending)).toEqual(expected);
    crf.dispose();
    buffer.destroy();
  });

  it('an empty batch gives what an empty CPU batch gives, on the GPU path and the read-back path', async () => {
    const crf = await CRF.create(K, { backend: 'webgpu', device, seed: 1 });
    const buffer = upload(new Float32Array(0));
    const shape = [0, 3, K];
    expect(await crf.decode({ buffer, shape })).toEqual(await crf.decode({ data: new Float32Array(0), shape }));
    expect(await crf.logPartition({ buffer, shape })).toEqual(new Float64Array(0));
    expect(await crf.forward({ buffer, shape }, { data: new Int32Array(0), shape: [0, 3] })).toBe(0);
    expect(await crf.sample({ buffer, shape })).toEqual([]);
    crf.dispose();
    buffer.destroy();
  });

  /** A batch of 37 that a small chunk limit cuts into several chunks: p on the GPU, q the same on the CPU. */
  async function chunkedBatch() {
    const js = await JsBackend.create();
    const B = 37,
      T = 5,
      K6 = 6;
    const values = randomEmissions(B * T * K6, 17);
    const maskBF = gappyMask(B, T, 19).map((r) => r.map(Boolean));
    const flat = Uint8Array.from(maskBF.flat(), Number);
    const perSeq = 4 * (T * K6 + T + 3);
    const backend = new WebGpuBackend({ device, cpu: js, maxChunkBytes: 8 * perSeq + 4 * (2 * 6 + 3 * 36) + 256 });
    const params = {
      startTransitions: randomEmissions(K6, 1, 0.5),
      endTransitions: randomEmissions(K6, 2, 0.5),
      transitions: randomEmissions(K6 * K6, 3, 0.5),
    };
    const w = potentials(params, K6, null);
    const buffer = upload(values);
    const p = packGpu({ buffer, B, T, K: K6, batchFirst: true, shape: [B, T, K6] }, flat, new Int32Array(B), (n) => new Int32Array(n));
    const q = pack({ B, T, K: K6, data: values }, flat);
    const tagsOf = (T2: number) => Int32Array.from({ length: B * T2 }, (_, i) => ((i % T2) + 3 * Math.floor(i / T2)) % K6);
    return { js, B, K6, backend, w, buffer, p, q, tagsOf };
  }

  /** The submits `f` makes. */
  async function submitsOf(f: () => Promise<unknown>): Promise<number> {
    let n = 0;
    const submit = device.queue.submit;
    device.queue.submit = (b: Iterable<GPUCommandBuffer>) => {
      n++;
      return submit.call(device.queue, b);
    };
    try {
      await f();
    } finally {
      delete (device.queue as { submit?: unknown }).submit;
    }
    return n;
  }

  it('ops given gold tags make chunks as large as their op without tags for CPU emissions; for GPU ones the chunk reads its packed rows back too', async () => {
    const { backend, w, buffer, p, q, tagsOf } = await chunkedBatch();
    const onCpu = { tags: tagsOf(q.T), T: q.T };
    const onGpu = { tags: tagsOf(p.T), T: p.T };
    const lz = await submitsOf(() => backend.run('logPartition', q, w));
    expect(lz).toBeGreaterThan(1);
    expect(await submitsOf(() => backend.run('logLikelihood', q, w, onCpu))).toBe(lz);
    const post = await submitsOf(() => backend.run('posteriors', q, w));
    expect(post).toBeGreaterThan(1);
    expect(await submitsOf(() => backend.run('gradients', q, w, { ...onCpu, weight: 1 }))).toBe(post);
    expect(await submitsOf(() => backend.run('logLikelihood', p, w, onGpu))).toBeGreaterThan(await submitsOf(() => backend.run('logPartition', p, w)));
    backend.dispose();
    buffer.destroy();
  });

  it('chunked batches give every chunk its own gather and the js backend’s numbers', async () => {
    const { js, B, K6, backend, w, buffer, p, q, tagsOf } = await chunkedBatch();
    const submits = await submitsOf(async () => {
      const [zg, zc, zj] = [await backend.run('logPartition', p, w), await backend.run('logPartition', q, w), await js.run('logPartition', q, w)];
      expect(zg).toEqual(zc);
      for (let b = 0; b < B; b++) expect(zg[b]).toBeCloseTo(zj[b], 4);
      const [pg, pc] = [await backend.run('posteriors', p, w), await backend.run('posteriors', q, w)];
      const pj = await js.run('posteriors', q, w);
      expect(pg.logZ).toEqual(pc.logZ);
      // Packed from the mask alone, the GPU call's T is its longest length; compare position by position.
      for (let b = 0; b < B; b++) {
        for (let s = 0; s < p.lengths[b]; s++) {
          for (let j = 0; j < K6; j++) expect(Math.abs(pg.unary[(b * p.T + s) * K6 + j] - pj.unary[(b * q.T + s) * K6 + j])).toBeLessThan(2e-4);
        }
      }
      for (let i = 0; i < K6 * K6; i++) expect(Math.abs(pg.transCounts[i] - pj.transCounts[i])).toBeLessThan(5e-4);
      const [vg, vj] = [await backend.run('viterbi', p, w), await js.run('viterbi', q, w)];
      for (let b = 0; b < B; b++)
        expect(Array.from(vg.paths).slice(b * p.T, b * p.T + p.lengths[b])).toEqual(Array.from(vj.paths).slice(b * q.T, b * q.T + q.lengths[b]));
      const [hg, hj] = [await backend.run('entropy', p, w), await js.run('entropy', q, w)];
      for (let b = 0; b < B; b++) expect(hg.entropy[b]).toBeCloseTo(hj.entropy[b], 3);
      // The gold scores, from each chunk's packed emissions read back with its results: exactly the reference's.
      const [lg, lj] = [
        await backend.run('logLikelihood', p, w, { tags: tagsOf(p.T), T: p.T }),
        await js.run('logLikelihood', q, w, { tags: tagsOf(q.T), T: q.T }),
      ];
      expect(lg.score).toEqual(lj.score);
      for (let b = 0; b < B; b++) expect(lg.logZ[b]).toBeCloseTo(lj.logZ[b], 4);
      const [gg, gj] = [
        await backend.run('gradients', p, w, { tags: tagsOf(p.T), T: p.T, weight: 1 }),
        await js.run('gradients', q, w, { tags: tagsOf(q.T), T: q.T, weight: 1 }),
      ];
      expect(gg.score).toEqual(gj.score);
    });
    // Room for about 8 sequences a chunk: several submits per op.
    expect(submits).toBeGreaterThanOrEqual(6 * 4);
    backend.dispose();
    buffer.destroy();
  });

  describe('refused', () => {
    const B = 2,
      T = 3;
    const shape = [B, T, K];

    /** Calls `f` on a webgpu CRF, expects a CRFInputError naming `arg`, and the CRF unchanged and working after. */
    async function refused(arg: string, f: (crf: lib.CRF) => Promise<unknown>, pattern: RegExp): Promise<void> {
      const crf = await CRF.create(K, { backend: 'webgpu', device, seed: 4 });
      const before = crf.stateDict();
      const e = await inputError(f(crf));
      expect(e).toBeInstanceOf(CRFInputError);
      expect(e.argument).toBe(arg);
      expect(e.message).toMatch(pattern);
      expect(crf.stateDict()).toEqual(before);
      const ok = randomEmissions(B * T * K, 8);
      const buf = upload(ok);
      expect(await crf.decode({ buffer: buf, shape })).toEqual(await crf.decode({ data: ok, shape }));
      buf.destroy();
      crf.dispose();
    }

    it.each([
      ['NaN', NaN, /finite number at \[1\]\[0\]\[2\], got NaN/],
      ['+Infinity', Infinity, /finite number at \[1\]\[0\]\[2\], got Infinity/],
      ['−Infinity', -Infinity, /finite number at \[1\]\[0\]\[2\], got -Infinity/],
      ['2e20', 2e20, /within ±1e20 .* at \[1\]\[0\]\[2\], got 2000000\d+/],
    ])('a value the CPU path refuses (%s), by every op, with the CPU path’s message', async (_, bad, pattern) => {
      const values = randomEmissions(B * T * K, 7);
      values[(1 * T + 0) * K + 2] = bad;
      values[(1 * T + 2) * K + 4] = bad;
      const cpuError = await inputError(async () => {
        const crf = await CRF.create(K, { backend: 'webgpu', device });
        try {
          await crf.decode({ data: values, shape });
        } finally {
          crf.dispose();
        }
      });
      const buffer = upload(values);
      for (const op of ['decode', 'logPartition', 'marginals', 'entropy', 'forward', 'sample', 'topK'] as const) {
        await refused(
          'emissions',
          (crf) =>
            op === 'forward'
              ? crf.forward({ buffer, shape } as never, [
                  [0, 1, 2],
                  [1, 2, 3],
                ])
              : op === 'topK'
                ? crf.decode({ buffer, shape } as never, { topK: 2 })
                : crf[op]({ buffer, shape } as never),
          pattern,
        );
      }
      const e = await inputError(async () => {
        const crf = await CRF.create(K, { backend: 'webgpu', device });
        try {
          await crf.entropy({ buffer, shape });
        } finally {
          crf.dispose();
        }
      });
      expect(e.message).toBe(cpuError.message);
      buffer.destroy();
    });

    it('a value out of range at a masked-off position, as on the CPU, also in a later chunk’s sequences', async () => {
      const values = randomEmissions(B * T * K, 7);
      values[(1 * T + 2) * K + 1] = NaN;
      const buffer = upload(values);
      const mask = [
        [1, 1, 1],
        [1, 1, 0],
      ];
      const crf = await CRF.create(K, { backend: 'webgpu', device, seed: 2 });
      const cpu = await inputError(crf.decode({ data: values, shape }, { mask }));
      const gpuError = await inputError(crf.decode({ buffer, shape }, { mask }));
      expect(gpuError.message).toBe(cpu.message);
      crf.dispose();
      // Chunks of one sequence: the bad value is in the second.
      const js = await JsBackend.create();
      const backend = new WebGpuBackend({ device, cpu: js, maxChunkBytes: 4 * (T * K + 3 * T + 3) + 4 * (2 * K + K * K) + 256 });
      const p = packGpu({ buffer, B, T, K, batchFirst: true, shape }, Uint8Array.from(mask.flat()), new Int32Array(B), (n) => new Int32Array(n));
      const w = potentials({ startTransitions: new Float32Array(K), endTransitions: new Float32Array(K), transitions: new Float32Array(K * K) }, K, null);
      expect((await inputError(backend.run('viterbi', p, w))).message).toBe(cpu.message);
      backend.dispose();
      buffer.destroy();
    });

    it('float16 and other types, naming the type and float32', async () => {
      const buffer = upload(randomEmissions(B * T * K, 1));
      for (const dataType of ['float16', 'int32'] as const) {
        const t = ort.Tensor.fromGpuBuffer(buffer as never, { dataType, dims: shape });
        await refused('emissions', (crf) => crf.decode(t as never), new RegExp(`float32 .*got an onnxruntime Tensor of type "${dataType}"`));
      }
      buffer.destroy();
    });

    it('a tensor on a WebGL texture or an ML tensor, naming its location and what to set instead', async () => {
      for (const location of ['texture', 'ml-tensor']) {
        const t = { location, type: 'float32', dims: shape, data: undefined };
        await refused(
          'emissions',
          (crf) => crf.decode(t as never),
          new RegExp(`preferredOutputLocation to 'gpu-buffer'.*got a tensor with location '${location}'`),
        );
      }
    });

    it('a buffer smaller than the shape, without STORAGE usage, or not a buffer', async () => {
      const small = upload(randomEmissions(B * T * K - 4, 1));
      await refused('emissions', (crf) => crf.decode({ buffer: small, shape }), /at least 120 bytes .*got one of 112 bytes/);
      small.destroy();
      const noStorage = device.createBuffer({ size: 128, usage: COPY_DST | COPY_SRC });
      await refused('emissions', (crf) => crf.logPartition({ buffer: noStorage, shape }), /STORAGE/);
      noStorage.destroy();
      await refused('emissions', (crf) => crf.logPartition({ buffer: new Float32Array(30), shape } as never), /a GPUBuffer in buffer/);
      await refused('emissions', (crf) => crf.logPartition({ buffer: upload(randomEmissions(30, 1)), shape: [2, 3, 4] }), /last dimension 5/);
    });

    it('a buffer of another device, by every op', async () => {
      const instance = (await import('webgpu')).create([]);
      instances.push(instance);
      const other = await (await instance.requestAdapter())!.requestDevice();
      const buffer = upload(randomEmissions(B * T * K, 1), STORAGE | COPY_DST | COPY_SRC, other);
      for (const f of [
        (crf: lib.CRF) => crf.decode({ buffer, shape }),
        (crf: lib.CRF) => crf.marginals({ buffer, shape }),
        (crf: lib.CRF) => crf.forwardBackward({ buffer, shape }, { data: new Int32Array(6), shape: [2, 3] }),
        (crf: lib.CRF) => crf.decode({ buffer, shape }, { topK: 2 }),
      ]) {
        await refused('emissions', f, /a live GPUBuffer of the CRF's device .*got one the device refused/);
      }
      buffer.destroy();
      other.destroy();
    });

    it('a destroyed buffer, on the GPU path and the read-back path', async () => {
      const buffer = upload(randomEmissions(B * T * K, 1));
      buffer.destroy();
      await refused('emissions', (crf) => crf.entropy({ buffer, shape }), /a live GPUBuffer .*got one the device refused/);
      await refused('emissions', (crf) => crf.sample({ buffer, shape }), /a live GPUBuffer .*got one the device refused/);
    });

    it('GPU emissions on a CRF of another backend, saying how to create one that takes them', async () => {
      const buffer = upload(randomEmissions(B * T * K, 1));
      for (const backend of ['wasm', 'js'] as const) {
        const crf = await CRF.create(K, { backend });
        const e = await inputError(crf.decode({ buffer, shape }));
        expect(e.argument).toBe('emissions');
        expect(e.message).toMatch(/backend: 'webgpu', device/);
        expect(e.message).toContain(`backend '${backend}'`);
        crf.dispose();
      }
      buffer.destroy();
    });

    it('a mask or tags on the GPU', async () => {
      const values = randomEmissions(B * T * K, 1);
      const buffer = upload(values);
      const maskBuf = upload(new Float32Array(6));
      await refused(
        'mask',
        (crf) => crf.decode({ buffer, shape }, { mask: { buffer: maskBuf, shape: [2, 3] } as never }),
        /only emissions may stay on the GPU/,
      );
      await refused('tags', (crf) => crf.forward({ data: values, shape }, { buffer: maskBuf, shape: [2, 3] } as never), /only emissions may stay on the GPU/);
      buffer.destroy();
      maskBuf.destroy();
    });
  });
});

function cpuOf(values: Float32Array, shape: number[]): { data: Float32Array; shape: number[] } {
  return { data: values, shape };
}
