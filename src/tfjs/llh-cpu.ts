// The per-sequence log-likelihood on tfjs's CPU backends: the core's synchronous forwardBackward over
// the tensors' values, its gradients handed to tfjs by a customGrad. A backend with its own route
// (a GPU one, keeping the emissions on its device) is another function with this signature, picked
// in llh.ts.
import * as tf from '@tensorflow/tfjs-core';
import type { CRF as CoreCRF, MaskInput, PartialAnnotation, TagsInput } from '../index.js';

/** What an llh route gets: the call read into the core's inputs, and the tensors tfjs differentiates. */
export interface LlhCall {
  core: CoreCRF;
  emissions: tf.Tensor;
  start: tf.Variable;
  end: tf.Variable;
  trans: tf.Variable;
  labels: TagsInput | PartialAnnotation;
  /** The mask as flat 0/1 in the emissions' first two dimensions' layout; null: all on. */
  mask: ArrayLike<number | boolean> | null;
}

/** Positions per sequence that are on, as indices into the flat `[d0, d1]` layout. */
function positionsOf(mask: ArrayLike<number | boolean> | null, B: number, T: number, batchFirst: boolean): number[][] {
  const at = batchFirst ? (b: number, t: number) => b * T + t : (b: number, t: number) => t * B + b;
  const out: number[][] = [];
  for (let b = 0; b < B; b++) {
    const on: number[] = [];
    for (let t = 0; t < T; t++) if (!mask || mask[at(b, t)]) on.push(at(b, t));
    out.push(on);
  }
  return out;
}

/**
 * llh per sequence, `[B]`, differentiable with respect to the emissions and the three variables. The
 * core returns the gradients of Σ_b llh_b; an upstream gradient dy_b that differs between sequences
 * scales each sequence's part: the emissions' by their own sequence's dy (each position belongs to one
 * sequence), the start and end vectors by the same rule (their per-sequence gradient is the emission
 * gradient at the sequence's first and last positions), and the transitions, summed over the batch by
 * the kernels, by running the core once more per distinct dy over the sequences that have it.
 */
export function llhCpu(c: LlhCall): tf.Tensor1D {
  const { core, emissions } = c;
  const [d0, d1, K] = emissions.shape as [number, number, number];
  const batchFirst = core.batchFirst;
  const [B, T] = batchFirst ? [d0, d1] : [d1, d0];
  const input = { data: emissions.dataSync() as Float32Array, shape: emissions.shape };
  const mask: MaskInput | null = c.mask ? { data: c.mask, shape: [d0, d1] } : null;
  core.startTransitions.set(c.start.dataSync());
  core.endTransitions.set(c.end.dataSync());
  core.transitions.set(c.trans.dataSync());
  // Read before tfjs's customGrad: a refused input is thrown here, outside tfjs's engine.
  const r = core.sync.forwardBackward(input, c.labels, { mask, reduction: 'none' });
  const params = { start: core.startTransitions.slice(), end: core.endTransitions.slice(), trans: core.transitions.slice() };

  function transitionsGrad(dy: ArrayLike<number>, positions: number[][]): Float32Array {
    const groups = new Map<number, number[]>();
    for (let b = 0; b < B; b++) if (positions[b].length > 1) groups.set(dy[b], [...(groups.get(dy[b]) ?? []), b]);
    const out = new Float32Array(K * K);
    if (groups.size === 1) {
      const [v] = groups.keys();
      for (let i = 0; i < K * K; i++) out[i] = v * r.grads.transitions[i];
      return out;
    }
    // Another forward–backward per distinct dy, the other sequences masked off, with the parameters
    // of the forward pass (an optimizer may have stepped the variables since).
    core.startTransitions.set(params.start);
    core.endTransitions.set(params.end);
    core.transitions.set(params.trans);
    for (const [v, seqs] of groups) {
      if (v === 0) continue;
      const only = new Uint8Array(d0 * d1);
      for (const b of seqs) for (const i of positions[b]) only[i] = 1;
      const g = core.sync.forwardBackward(input, c.labels, { mask: { data: only, shape: [d0, d1] }, reduction: 'none' }).grads.transitions;
      for (let i = 0; i < K * K; i++) out[i] += v * g[i];
    }
    return out;
  }

  // The inputs are there for tfjs to route their gradients; their values were read above.
  const f = tf.customGrad(() => {
    return {
      value: tf.tensor1d(r.logLikelihood, 'float32'),
      gradFunc: (dyT: tf.Tensor) => {
        const dy = dyT.dataSync();
        const positions = positionsOf(c.mask, B, T, batchFirst);
        const ge = r.grads.emissions;
        const gs = new Float32Array(K),
          gn = new Float32Array(K);
        for (let b = 0; b < B; b++) {
          const on = positions[b];
          if (on.length === 0) continue;
          for (let j = 0; j < K; j++) {
            gs[j] += dy[b] * ge[on[0] * K + j];
            gn[j] += dy[b] * ge[on[on.length - 1] * K + j];
          }
        }
        const scale = tf.reshape(dyT, batchFirst ? [B, 1, 1] : [1, B, 1]);
        return [tf.mul(tf.tensor(ge, emissions.shape, 'float32'), scale), tf.tensor1d(gs), tf.tensor1d(gn), tf.tensor(transitionsGrad(dy, positions), [K, K])];
      },
    };
  });
  return f(emissions, c.start, c.end, c.trans) as tf.Tensor1D;
}
