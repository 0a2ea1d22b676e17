// webcrf/tfjs on tfjs's webgpu backend (Node, Dawn on SwiftShader): forward runs webcrf's kernels on
// tfjs's device inside tfjs's command encoder; its value and gradients equal the float64 js backend's
// forwardBackward, with no buffer mapped (no readback) between the emissions and the gradients, and
// no tensor or GPU memory leaked over 100 training steps. Calls its kernels do not take (a mask with
// holes, a partial annotation, constraints) take the CPU route and give the core's results too.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as TF from '@tensorflow/tfjs';
import { CRF as CoreCRF } from '../../src/index.js';
import { expectClose as close, llhReference } from '../helpers.js';
import type { CRF as TfCRF } from '../../src/tfjs/index.js';
import { nodeGpuDevice } from '../../scripts/node-backends.js';
import { generator } from '../../examples/random.js';

// The backend looks for navigator.gpu when its module is evaluated (Node 20 has no navigator).
const gpu = await nodeGpuDevice();
if (gpu.device) Object.defineProperty(globalThis, 'navigator', { value: { gpu: gpu.instance }, configurable: true, writable: true });
const tf = await import('@tensorflow/tfjs');
if (gpu.device) await import('@tensorflow/tfjs-backend-webgpu');
const { CRF } = await import('../../src/tfjs/index.js');

const onGpu = gpu.device !== null && (await tf.setBackend('webgpu').catch(() => false));

/** Counts GPUBuffer.mapAsync calls: every readback to the CPU maps a buffer. */
const maps = { n: 0 };
let restore = () => {};

const B = 5,
  T = 6,
  K = 4;
const r = generator(11).next;
const emData = Float32Array.from({ length: B * T * K }, () => (r() * 2 - 1) * 2);
const lengths = [6, 3, 1, 0, 6];
const maskRows = lengths.map((l) => Array.from({ length: T }, (_, t) => (t < l ? 1 : 0)));
const tagRows = lengths.map((_, b) => Array.from({ length: T }, (_, t) => (b + 3 * t) % K));
const weights = [0.5, -1.25, 2, 3, 0.75];

/** Emissions on the GPU, made by a tfjs op there as a tagger's output would be. */
const gpuEmissions = (data: Float32Array, shape: number[]) => tf.tidy(() => tf.mul(tf.tensor(data, shape), tf.scalar(1)));

/** Value and gradients of the loss `f` through webcrf/tfjs, read after the fact. */
async function gradsOf(crf: TfCRF, em: TF.Tensor, f: (e: TF.Tensor) => TF.Scalar) {
  const v = crf.variables;
  maps.n = 0;
  const out = tf.tidy(() => {
    const vg = tf.variableGrads(() => f(em), [v.startTransitions, v.endTransitions, v.transitions]);
    return [vg.value, tf.grad(f)(em), vg.grads[v.startTransitions.name], vg.grads[v.endTransitions.name], vg.grads[v.transitions.name]];
  });
  const mapped = maps.n;
  const [value, gEm, gStart, gEnd, gTrans] = await Promise.all(out.map((t) => t.data()));
  tf.dispose(out);
  return { mapped, value: value[0], emissions: gEm, startTransitions: gStart, endTransitions: gEnd, transitions: gTrans };
}

describe.skipIf(!onGpu)('webcrf/tfjs on tfjs’s webgpu backend', () => {
  beforeAll(() => {
    // Small ops on tfjs's webgpu backend otherwise run on the CPU: every op here runs on the GPU.
    tf.env().set('WEBGPU_CPU_HANDOFF_SIZE_THRESHOLD', 0);
    const proto = (globalThis as unknown as { GPUBuffer: { prototype: GPUBuffer } }).GPUBuffer.prototype;
    const mapAsync = proto.mapAsync;
    proto.mapAsync = function (this: GPUBuffer, ...args: Parameters<GPUBuffer['mapAsync']>) {
      maps.n++;
      return mapAsync.apply(this, args);
    };
    restore = () => {
      proto.mapAsync = mapAsync;
    };
  });
  afterAll(() => restore());

  for (const batchFirst of [true, false]) {
    for (const reduction of ['sum', 'mean', 'token_mean', 'none'] as const) {
      for (const masked of [true, false]) {
        it(`${reduction}, ${masked ? 'masked' : 'no mask'}, batchFirst ${batchFirst}: value and gradients are the js backend’s, with no readback`, async () => {
          const crf = await CRF.create(K, { seed: 3, batchFirst });
          // Read while the variables' values are still on the CPU (Node's webgpu backend cannot dataSync from the GPU).
          const sd = crf.stateDict();
          const layout = <X>(rows: X[][]) => (batchFirst ? rows : Array.from({ length: T }, (_, t) => rows.map((row) => row[t])));
          const shape = batchFirst ? [B, T, K] : [T, B, K];
          const data = batchFirst
            ? emData
            : Float32Array.from({ length: B * T * K }, (_, i) => emData[(((i / K) % B) | 0) * T * K + ((i / K / B) | 0) * K + (i % K)]);
          const em = gpuEmissions(data, shape);
          const tags = tf.tensor2d(layout(tagRows), undefined, 'int32');
          const mask = masked ? tf.tensor2d(layout(maskRows), undefined, 'bool') : null;
          const w = tf.tensor1d(weights);
          const before = tf.memory().numTensors;
          const f = (e: TF.Tensor) => {
            const out = crf.forward(e, tags, { reduction, ...(mask ? { mask } : {}) });
            return (reduction === 'none' ? tf.sum(tf.mul(out, w)) : out) as TF.Scalar;
          };
          const got = await gradsOf(crf, em, f);
          expect(got.mapped, 'buffers mapped between the emissions and the gradients').toBe(0);
          expect(tf.memory().numTensors).toBe(before);
          const want = await llhReference(sd, { data, shape }, layout(tagRows), masked ? maskRows : null, {
            batchFirst,
            ...(reduction === 'none' ? { weights } : { reduction }),
          });
          close([got.value], [want.value], 'value');
          for (const k of ['emissions', 'startTransitions', 'endTransitions', 'transitions'] as const) close(got[k], want[k], k);
          tf.dispose([em, tags, w, ...(mask ? [mask] : [])]);
          crf.dispose();
        });
      }
    }
  }

  it('calls its kernels do not take (a mask with holes, a partial annotation, constraints) give the core’s results through the CPU route', async () => {
    const holes = maskRows.map((row, b) => row.map((m, t) => (b === 0 && t === 2 ? 0 : m)));
    const allowed = tagRows.map((row) => row.map((y, t) => Array.from({ length: K }, (_, j) => t % 2 === 1 || j === y)));
    const constraints = Array.from({ length: K }, (_, i) => Array.from({ length: K }, (_, j) => !(i === 0 && j === 1)));
    const cases: [string, Parameters<typeof CRF.create>[1], unknown, number[][]][] = [
      ['a mask with holes', {}, tagRows, holes],
      ['a partial annotation', {}, { allowed }, maskRows],
      ['constraints', { constraints }, tagRows, maskRows],
    ];
    for (const [what, options, labels, mask] of cases) {
      const crf = await CRF.create(K, { seed: 5, ...options });
      // Constraints keep forward on the CPU route; otherwise it records its kernels on tfjs's device.
      expect(/tfjs's webgpu device/.test(crf.backendReason), `${what}: ${crf.backendReason}`).toBe(options?.constraints === undefined);
      const core = await CoreCRF.create(K, { seed: 5, ...options, backend: 'js' });
      // Values on the CPU: the CPU route reads them with dataSync, which Node's webgpu backend cannot do from the GPU.
      const em = tf.tensor3d(emData, [B, T, K]);
      const got = tf.tidy(() => crf.forward(em, labels as number[][], { mask, reduction: 'none' }).arraySync());
      const want = await core.forward({ data: emData, shape: [B, T, K] }, labels as number[][], { mask, reduction: 'none' });
      close(got as number[], want as ArrayLike<number>, what);
      em.dispose();
      crf.dispose();
    }
  });

  it('a sequence with an emission that is not finite gets NaN, the others their log-likelihood', async () => {
    const crf = await CRF.create(K, { seed: 6 });
    const data = emData.slice();
    data[1 * T * K + 2] = Infinity;
    const em = gpuEmissions(data, [B, T, K]);
    const got = await tf.tidy(() => crf.forward(em, tagRows, { mask: maskRows, reduction: 'none' })).data();
    const want = await (
      await CoreCRF.create(K, { seed: 6, backend: 'js' })
    ).forward({ data: emData, shape: [B, T, K] }, tagRows, { mask: maskRows, reduction: 'none' });
    expect(Number.isNaN(got[1])).toBe(true);
    close([got[0], got[2], got[3], got[4]], [want[0], want[2], want[3], want[4]], 'others');
    em.dispose();
    crf.dispose();
  });

  it('trains with one optimizer.minimize, mapping no buffer and leaking no tensor or GPU memory over 100 steps', async () => {
    const crf = await CRF.create(K, { seed: 1 });
    const x = gpuEmissions(emData, [B * T, K]);
    const W = tf.variable(tf.add(tf.eye(K), tf.randomNormal([K, K], 0, 0.1, 'float32', 1)), true, 'tagger-webgpu');
    const tags = tf.tensor2d(tagRows, [B, T], 'int32');
    const mask = tf.tensor2d(maskRows, [B, T], 'bool');
    const opt = tf.train.adam(0.05);
    const step = () => opt.minimize(() => tf.neg(crf.forward(tf.reshape(tf.matMul(x, W), [B, T, K]), tags, { mask })) as TF.Scalar, true)!;
    const first = step();
    const loss0 = (await first.data())[0];
    first.dispose();
    const n0 = tf.memory().numTensors;
    const bytes0 = tf.memory().numBytes;
    maps.n = 0;
    const losses: TF.Tensor[] = [];
    const t0 = performance.now();
    for (let i = 0; i < 100; i++) {
      if (i % 2) losses.push(step());
      else tf.tidy(() => void step());
    }
    console.log(`100 steps: ${((performance.now() - t0) / 100).toFixed(1)} ms a step`);
    expect(maps.n, 'buffers mapped over 100 steps').toBe(0);
    const last = (await losses[losses.length - 1].data())[0];
    tf.dispose(losses);
    expect(tf.memory().numTensors).toBe(n0);
    expect(tf.memory().numBytes).toBe(bytes0);
    expect(last).toBeLessThan(loss0);
    opt.dispose();
    tf.dispose([x, W, tags, mask]);
    crf.dispose();
  }, 300_000);
});
