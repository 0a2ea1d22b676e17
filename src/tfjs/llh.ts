// Which route computes the log-likelihood: on tfjs's webgpu backend, the GPU route where the CRF was
// made there and the call is one its kernels take; everywhere else (and for the calls the GPU route
// hands back), the CPU route, which reads the emissions with dataSync (a readback on webgl).
import * as tf from '@tensorflow/tfjs-core';
import { type LlhCall, llhCpu } from './llh-cpu.js';
import { type WebGpuRoute, llhWebGpu } from './llh-webgpu.js';

/** llh per sequence `[B]`; `summed`: the caller sums or averages it (one upstream gradient for all). */
export function llh(c: LlhCall, gpu: WebGpuRoute | null, summed: boolean): tf.Tensor1D {
  return (gpu !== null && tf.getBackend() === 'webgpu' ? llhWebGpu(gpu, c, summed) : null) ?? llhCpu(c);
}
