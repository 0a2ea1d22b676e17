// Which route computes the log-likelihood on the current tfjs backend. Every backend takes the CPU
// route for now; on a GPU backend (webgl, webgpu) that reads the emissions back with dataSync.
import type * as tf from '@tensorflow/tfjs-core';
import { type LlhCall, llhCpu } from './llh-cpu.js';

export type LlhRoute = (c: LlhCall) => tf.Tensor1D;

/** The route for the tfjs backend named `backend`. */
export function llhRoute(backend: string): LlhRoute {
  void backend;
  return llhCpu;
}
