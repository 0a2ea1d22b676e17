// The posteriors recorded into a caller's command encoder (src/backends/webgpu/posteriors-encoder.ts),
// in Node (Dawn): log Z, marginals, first/last marginals and transition counts (per sequence, and
// weighted over the batch) against the float64 js backend run on each sequence alone; recorded with no
// submit, no map and no promise, ordered after work the caller put in the same encoder before.
import { describe, expect, it } from 'vitest';
import { JsBackend } from '../../../src/backends/js/backend.js';
import { posteriorsEncoder } from '../../../src/backends/webgpu/posteriors-encoder.js';
import { potentials } from '../../../src/model/parameters.js';
import { nodeGpuDevice } from '../../../scripts/node-backends.js';
import { generator } from '../../../examples/random.js';

const gpu = await nodeGpuDevice();
const device = gpu.device!;
const STORAGE = 128,
  COPY_SRC = 4,
  COPY_DST = 8,
  MAP_READ = 1;

/** Uniforms in [0, 1) from the examples' seeded generator. */
const rng = (seed: number): (() => number) => generator(seed).next;
const random = (n: number, seed: number, scale: number) => {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => (r() * 2 - 1) * scale);
};

function storage(bytes: number, usage = STORAGE | COPY_SRC | COPY_DST): GPUBuffer {
  return device.createBuffer({ size: Math.max(16, bytes), usage });
}

async function read(buf: GPUBuffer, n: number): Promise<Float32Array> {
  const staging = device.createBuffer({ size: Math.max(16, 4 * n), usage: MAP_READ | COPY_DST });
  const enc = device.createCommandEncoder();
  enc.copyBufferToBuffer(buf, 0, staging, 0, Math.max(16, 4 * n));
  device.queue.submit([enc.finish()]);
  await staging.mapAsync(MAP_READ);
  const out = new Float32Array(staging.getMappedRange().slice(0, 4 * n));
  staging.unmap();
  staging.destroy();
  return out;
}

describe.skipIf(!gpu.device)('posteriors encoded into a caller’s command encoder', () => {
  it.each([
    { K: 5, weightsOnGpu: false, potentialsOnGpu: false },
    { K: 7, weightsOnGpu: true, potentialsOnGpu: true },
  ])(
    'K $K (weights on GPU $weightsOnGpu, potentials on GPU $potentialsOnGpu): the js backend’s posteriors per sequence, recorded with no submit and no readback',
    async ({ K, weightsOnGpu, potentialsOnGpu }) => {
      const B = 6,
        T = 8;
      const lengths = Int32Array.from([8, 3, 0, 1, 8, 5]);
      const values = random(B * T * K, K, 3);
      const start = random(K, 1, 0.5),
        end = random(K, 2, 0.5),
        trans = random(K * K, 3, 0.5);
      // A forbidden transition, as constraints make it (CPU potentials only: GPU ones must be finite).
      if (!potentialsOnGpu) trans[1 * K + 2] = -Infinity;
      const weights = Float32Array.from({ length: B }, (_, b) => 0.5 + b);
      const encoder = await posteriorsEncoder(device, K);

      // The emissions come from a copy recorded earlier in the same encoder: the passes must see it.
      const source = storage(4 * values.length);
      device.queue.writeBuffer(source, 0, values);
      const emissions = storage(4 * values.length);
      const out = {
        logZ: storage(4 * B),
        unary: storage(4 * B * T * K),
        transitions: storage(4 * B * K * K),
        first: storage(4 * B * K),
        last: storage(4 * B * K),
      };
      const summed = storage(4 * K * K);
      const onGpu = (a: Float32Array) => {
        const b = storage(4 * a.length);
        device.queue.writeBuffer(b, 0, a);
        return b;
      };
      const pot = potentialsOnGpu ? { start: onGpu(start), end: onGpu(end), trans: onGpu(trans) } : { start, end, trans };

      const submit = device.queue.submit;
      let submits = 0;
      device.queue.submit = (b: Iterable<GPUCommandBuffer>) => {
        submits++;
        return submit.call(device.queue, b);
      };
      const enc = device.createCommandEncoder();
      enc.copyBufferToBuffer(source, 0, emissions, 0, 4 * values.length);
      device.pushErrorScope('validation');
      let r1: unknown, r2: unknown;
      try {
        r1 = encoder.encode(enc, { B, T, emissions, lengths, ...pot, out });
        r2 = encoder.encode(enc, { B, T, emissions, lengths, ...pot, weights: weightsOnGpu ? onGpu(weights) : weights, out: { ...out, transitions: summed } });
      } finally {
        delete (device.queue as { submit?: unknown }).submit;
      }
      // Recorded only: nothing submitted, nothing returned to await.
      expect(submits).toBe(0);
      expect(r1).not.toBeInstanceOf(Promise);
      device.queue.submit([enc.finish()]);
      expect(await device.popErrorScope()).toBeNull();
      (r1 as { release(): void }).release();
      (r2 as { release(): void }).release();

      const [logZ, unary, perSeq, first, last, sum] = await Promise.all([
        read(out.logZ, B),
        read(out.unary, B * T * K),
        read(out.transitions, B * K * K),
        read(out.first, B * K),
        read(out.last, B * K),
        read(summed, K * K),
      ]);
      // The float64 reference, one sequence at a time (its transition counts are then that sequence's).
      const js = await JsBackend.create();
      const w = potentials({ startTransitions: start, endTransitions: end, transitions: trans }, K, null);
      const wantSum = new Float64Array(K * K);
      for (let b = 0; b < B; b++) {
        const len = lengths[b];
        const p = {
          B: 1,
          T,
          K,
          emissions: values.subarray(b * T * K, (b + 1) * T * K),
          lengths: Int32Array.of(len),
          positions: Int32Array.from({ length: T }, (_, t) => (t < len ? t : -1)),
        };
        const ref = await js.run('posteriors', p, w);
        expect(logZ[b]).toBeCloseTo(ref.logZ[0], 4);
        for (let i = 0; i < T * K; i++) expect(Math.abs(unary[b * T * K + i] - ref.unary[i]), `unary ${b} ${i}`).toBeLessThan(2e-5);
        for (let j = 0; j < K; j++) {
          expect(first[b * K + j]).toBeCloseTo(len ? ref.unary[j] : 0, 5);
          expect(last[b * K + j]).toBeCloseTo(len ? ref.unary[(len - 1) * K + j] : 0, 5);
        }
        for (let i = 0; i < K * K; i++) {
          expect(Math.abs(perSeq[b * K * K + i] - ref.transCounts[i]), `counts ${b} ${i}`).toBeLessThan(5e-5);
          wantSum[i] += weights[b] * ref.transCounts[i];
        }
      }
      for (let i = 0; i < K * K; i++) expect(Math.abs(sum[i] - wantSum[i])).toBeLessThan(5e-4);
      if (!potentialsOnGpu) for (let b = 0; b < B; b++) expect(perSeq[b * K * K + 1 * K + 2]).toBe(0);
    },
  );

  it('refuses outputs too small for the call, recording nothing', async () => {
    const encoder = await posteriorsEncoder(device, 3);
    const enc = device.createCommandEncoder();
    const small = storage(16);
    const ok = storage(4 * 2 * 4 * 3);
    const K = 3;
    expect(() =>
      encoder.encode(enc, {
        B: 2,
        T: 4,
        emissions: ok,
        start: new Float32Array(K),
        end: new Float32Array(K),
        trans: new Float32Array(K * K),
        out: { logZ: small, unary: small, transitions: small, first: small, last: small },
      }),
    ).toThrow(/out.unary needs 96 bytes, has 16/);
  });
});
