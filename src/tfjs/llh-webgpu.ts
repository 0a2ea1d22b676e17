// The log-likelihood on tfjs's webgpu backend, on tfjs's own device with no readback: the
// posteriors are recorded into tfjs's pending command encoder (ordered after the ops that made the
// emissions) reading the emissions' and the variables' own GPU buffers, their results are tfjs
// tensors from tfjs's pool, and the gold score and every gradient are tf ops over them. The tags
// and the mask are read on the CPU (they are the caller's labels, small, usually made there).
//
// It takes the calls the kernels it records can run as they are: tags (not a partial annotation), a
// mask whose positions that are on start each sequence, an instance without constraints, a batch
// within the device's binding limits. Any other call returns null and takes the CPU route.
//
// Emissions are not checked for finite values (that would read them back): a sequence with one that
// is not finite gets NaN as its log-likelihood, where the CPU route throws CRFInputError.
import * as tf from '@tensorflow/tfjs-core';
import type { MaskInput, TagsInput } from '../index.js';
import type * as CoreInternals from './core-internals.js';
import type { LlhCall } from './llh-cpu.js';

type Internals = typeof CoreInternals;

/** The members of tfjs-backend-webgpu's backend this route uses (internal to tfjs, stable across 4.x). */
interface TfWebGpuBackend {
  device: GPUDevice;
  commandEncoder: GPUCommandEncoder | null;
  tensorMap: { get(dataId: object): { resource: GPUBuffer | null } | undefined };
  uploadToGPU(dataId: object): void;
  makeTensorInfo(shape: number[], dtype: 'float32'): tf.TensorInfo;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
}

/** What the route keeps per CRF: the core's internals and the posteriors pipelines on tfjs's device. */
export interface WebGpuRoute {
  device: GPUDevice;
  encoder: CoreInternals.PosteriorsEncoder;
  internals: Internals;
}

/**
 * The route for K tags on tfjs's current webgpu backend, its pipelines compiled; null where the
 * device cannot run them (the CPU route then reads the emissions back).
 */
export async function webGpuRoute(K: number): Promise<WebGpuRoute | null> {
  const device = (tf.backend() as unknown as Partial<TfWebGpuBackend>).device;
  if (!device) return null;
  // A relative path the build keeps as it is: the core's internal entry beside this file in dist/.
  const internals: Internals = await import('./core-internals.js');
  try {
    return { device, encoder: await internals.posteriorsEncoder(device, K), internals };
  } catch {
    return null;
  }
}

/** The tensor's own GPU buffer, uploaded first if tfjs still holds its values on the CPU. */
function bufferOf(backend: TfWebGpuBackend, t: tf.Tensor): GPUBuffer {
  backend.uploadToGPU(t.dataId);
  return backend.tensorMap.get(t.dataId)!.resource!;
}

/** A float32 tensor of tfjs's pool, on the GPU, for a kernel to write. */
function outputTensor(backend: TfWebGpuBackend, shape: number[]): { tensor: tf.Tensor; buffer: GPUBuffer } {
  const info = backend.makeTensorInfo(shape, 'float32');
  backend.uploadToGPU(info.dataId);
  return { tensor: tf.engine().makeTensorFromTensorInfo(info), buffer: backend.tensorMap.get(info.dataId)!.resource! };
}

/**
 * llh per sequence, `[B]`, differentiable with respect to the emissions and the three variables, or
 * null where this call takes the CPU route. `summed`: the caller reduces the result by a sum or a
 * mean, so every sequence gets the same upstream gradient (the transitions' gradient is then summed
 * over the batch on the GPU instead of kept per sequence).
 */
export function llhWebGpu(route: WebGpuRoute, c: LlhCall, summed: boolean): tf.Tensor1D | null {
  const backend = tf.backend() as unknown as TfWebGpuBackend;
  if (backend.device !== route.device || 'allowed' in (c.labels as object)) return null;
  const { emissions } = c;
  const [d0, d1, K] = emissions.shape as [number, number, number];
  const batchFirst = c.core.batchFirst;
  const [B, T] = batchFirst ? [d0, d1] : [d1, d0];
  if (B === 0 || T === 0 || K !== route.encoder.K) return null;
  const limits = backend.device.limits;
  if (B > limits.maxComputeWorkgroupsPerDimension || 4 * B * T * K * 2 > limits.maxStorageBufferBindingSize) return null;
  if (!summed && 4 * B * K * K > limits.maxStorageBufferBindingSize) return null;

  const { readMask, readTags } = route.internals;
  const maskInput: MaskInput | null = c.mask ? { data: c.mask, shape: [d0, d1] } : null;
  const mask = readMask(maskInput, B, T, batchFirst);
  const lengths = new Int32Array(B);
  for (let b = 0; b < B; b++) {
    let n = 0;
    while (n < T && mask[b * T + n]) n++;
    for (let t = n; t < T; t++) if (mask[b * T + t]) return null;
    lengths[b] = n;
  }
  const tags = readTags(c.labels as TagsInput, mask, B, T, K, batchFirst);

  // The gold path as indices: each position's tag (−1 off the mask, a zero row of oneHot), each
  // sequence's first and last tag, and each step's transition into a zero slot past K·K when off.
  const KK = K * K;
  const at = new Int32Array(B * T).fill(-1);
  const first = new Int32Array(B).fill(-1);
  const last = new Int32Array(B).fill(-1);
  const steps = Math.max(T - 1, 1);
  const pairs = new Int32Array(B * steps).fill(KK);
  const goldPairs = new Float32Array(summed ? KK : B * KK);
  for (let b = 0; b < B; b++) {
    const n = lengths[b];
    if (n === 0) continue;
    for (let t = 0; t < n; t++) at[b * T + t] = tags[b * T + t];
    first[b] = tags[b * T];
    last[b] = tags[b * T + n - 1];
    for (let t = 1; t < n; t++) {
      const p = tags[b * T + t - 1] * K + tags[b * T + t];
      pairs[b * steps + t - 1] = p;
      goldPairs[(summed ? 0 : b * KK) + p] += 1;
    }
  }

  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [em, start, end, trans] = args as tf.Tensor[];
    const save = args[4] as tf.GradSaveFunc;
    const emBF = batchFirst ? em : tf.transpose(em, [1, 0, 2]);
    const out = {
      logZ: outputTensor(backend, [B]),
      unary: outputTensor(backend, [B, T, K]),
      transitions: outputTensor(backend, summed ? [K, K] : [B, K, K]),
      first: outputTensor(backend, [B, K]),
      last: outputTensor(backend, [B, K]),
    };
    const buffers = { emissions: bufferOf(backend, emBF), start: bufferOf(backend, start), end: bufferOf(backend, end), trans: bufferOf(backend, trans) };
    backend.ensureCommandEncoderReady();
    backend.endComputePassEncoder();
    const recorded = route.encoder.encode(backend.commandEncoder!, {
      B,
      T,
      ...buffers,
      lengths,
      weights: summed ? new Float32Array(B).fill(1) : null,
      out: { logZ: out.logZ.buffer, unary: out.unary.buffer, transitions: out.transitions.buffer, first: out.first.buffer, last: out.last.buffer },
    });
    // Submitted now, so that the encoder's scratch buffers can go (WebGPU keeps them until it is done).
    backend.submitQueue();
    recorded.release();

    const gold = tf.oneHot(tf.tensor2d(at, [B, T], 'int32'), K);
    const firstHot = tf.oneHot(tf.tensor1d(first, 'int32'), K);
    const lastHot = tf.oneHot(tf.tensor1d(last, 'int32'), K);
    const transPadded = tf.concat([tf.reshape(trans, [KK]), tf.zeros([1])]);
    const score = tf.addN([
      tf.sum(tf.mul(emBF, gold), [1, 2]),
      tf.sum(tf.mul(firstHot, tf.reshape(start, [1, K])), 1),
      tf.sum(tf.mul(lastHot, tf.reshape(end, [1, K])), 1),
      tf.sum(tf.gather(transPadded, tf.tensor2d(pairs, [B, steps], 'int32')), 1),
      // 0 where every emission of the sequence is finite, NaN where one is not.
      tf.sum(tf.mul(emBF, 0), [1, 2]),
    ]);
    save([out.unary.tensor, out.first.tensor, out.last.tensor, out.transitions.tensor, gold, firstHot, lastHot]);
    return {
      value: tf.sub<tf.Tensor1D>(score, out.logZ.tensor),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [unary, firstMarginal, lastMarginal, expected, goldHot, firstGold, lastGold] = saved;
        const perSequence = tf.reshape(dy, [1, B]);
        const gEm = tf.mul(tf.sub(goldHot, unary), tf.reshape(dy, [B, 1, 1]));
        const gStart = tf.reshape(tf.matMul(perSequence, tf.sub(firstGold, firstMarginal)), [K]);
        const gEnd = tf.reshape(tf.matMul(perSequence, tf.sub(lastGold, lastMarginal)), [K]);
        const gTrans = summed
          ? tf.mul(tf.sub(tf.tensor2d(goldPairs, [K, K]), expected), tf.mean(dy))
          : tf.reshape(tf.matMul(perSequence, tf.sub(tf.tensor2d(goldPairs, [B, KK]), tf.reshape(expected, [B, KK]))), [K, K]);
        return [batchFirst ? gEm : tf.transpose(gEm, [1, 0, 2]), gStart, gEnd, gTrans];
      },
    };
  });
  return f(emissions, c.start, c.end, c.trans);
}
