// test/webgpu/tfjs-page.html's script: one training step's loss and gradients through webcrf/tfjs on
// tfjs's webgpu backend (the GPU route: webcrf's kernels in tfjs's command encoder), counting every GPU
// map between the emissions and the gradients, then the same step on tfjs's cpu backend (the CPU
// route). Results land in window.__tfjs for test/backends/webgpu/tfjs-browser.test.ts.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-webgpu';
import { CRF } from 'webcrf/tfjs';

const log = (/** @type {string} */ s) => {
  /** @type {HTMLElement} */ (document.getElementById('log')).textContent += `\n${s}`;
};

const B = 4,
  T = 7,
  K = 5;
const lengths = [7, 4, 1, 0];
const emissions = Array.from({ length: B * T * K }, (_, i) => Math.sin(i * 0.7) * 2);
const tags = lengths.map((_, b) => Array.from({ length: T }, (_, t) => (b + 2 * t) % K));
const mask = lengths.map((l) => Array.from({ length: T }, (_, t) => (t < l ? 1 : 0)));
const weights = [0.5, -1, 2, 1.5];

/** The loss (Σ_b w_b llh_b, and the summed llh) and the gradients of the first, read after the step. */
async function step(/** @type {string} */ backend, /** @type {import('webcrf').StateDictInput | null} */ load) {
  await tf.setBackend(backend);
  // Every op on the GPU, as a tagger's output would be.
  tf.env().set('WEBGPU_CPU_HANDOFF_SIZE_THRESHOLD', 0);
  const crf = await CRF.create(K, { seed: 9 });
  if (load) crf.loadStateDict(load);
  const em = tf.tidy(() => tf.mul(tf.tensor3d(emissions, [B, T, K]), 1));
  const tg = tf.tensor2d(tags, [B, T], 'int32');
  const m = tf.tensor2d(mask, [B, T], 'bool');
  const w = tf.tensor1d(weights);
  const v = crf.variables;
  const before = tf.memory().numTensors;
  // No buffer mapped back to the CPU, and each forward's posteriors recorded on tfjs's device (the
  // GPU route: the CPU route would read the emissions with tfjs's synchronous read instead).
  const proto = GPUBuffer.prototype;
  const mapAsync = proto.mapAsync;
  const device = /** @type {any} */ (tf.backend()).device;
  const createBindGroup = device?.createBindGroup;
  let maps = 0;
  let passes = 0;
  proto.mapAsync = function (/** @type {any[]} */ ...a) {
    maps++;
    return mapAsync.apply(this, /** @type {any} */ (a));
  };
  if (device)
    device.createBindGroup = (/** @type {GPUBindGroupDescriptor} */ d) => {
      if (d.label === 'webcrf posteriors') passes++;
      return createBindGroup.call(device, d);
    };
  let out;
  try {
    out = tf.tidy(() => {
      const f = (/** @type {tf.Tensor} */ e) => /** @type {tf.Scalar} */ (tf.sum(tf.mul(crf.forward(e, tg, { mask: m, reduction: 'none' }), w)));
      const vg = tf.variableGrads(() => f(em), [v.startTransitions, v.endTransitions, v.transitions]);
      const summed = crf.forward(em, tg, { mask: m });
      return [vg.value, summed, tf.grad(f)(em), vg.grads[v.startTransitions.name], vg.grads[v.endTransitions.name], vg.grads[v.transitions.name]];
    });
  } finally {
    proto.mapAsync = mapAsync;
    if (device) device.createBindGroup = createBindGroup;
  }
  const [loss, summed, gEm, gStart, gEnd, gTrans] = await Promise.all(out.map((t) => t.data().then((d) => Array.from(d))));
  tf.dispose(out);
  const leaked = tf.memory().numTensors - before;
  // The parameters read asynchronously: tfjs's synchronous read from the GPU (stateDict's dataSync)
  // goes through a canvas, which on SwiftShader gives zeros for a tensor uploaded from the CPU.
  const [start, end, trans] = await Promise.all([v.startTransitions, v.endTransitions, v.transitions].map((x) => x.data().then((d) => Array.from(d))));
  const state = { start_transitions: start, end_transitions: end, transitions: Array.from({ length: K }, (_, i) => trans.slice(i * K, i * K + K)) };
  const result = {
    loss: loss[0],
    summed: summed[0],
    emissions: gEm,
    startTransitions: gStart,
    endTransitions: gEnd,
    transitions: gTrans,
    maps,
    passes,
    leaked,
    state,
  };
  tf.dispose([em, tg, m, w]);
  crf.dispose();
  return result;
}

async function main() {
  if (!navigator.gpu || !(await navigator.gpu.requestAdapter())) return { skipped: 'no WebGPU adapter' };
  const gpu = await step('webgpu', null);
  log(`webgpu: loss ${gpu.loss}, ${gpu.maps} maps`);
  const cpu = await step('cpu', gpu.state);
  log(`cpu: loss ${cpu.loss}`);
  return { gpu, cpu, inputs: { B, T, K, emissions, tags, mask, weights } };
}

main().then(
  (r) => {
    window.__tfjs = r;
    log('done');
  },
  (e) => {
    window.__tfjs = { fatal: String(e?.stack ?? e) };
    log(`fatal: ${e}`);
  },
);
