// tf tensors as the core's inputs: `{ data, shape }` read out of the tensor, after its dtype is checked
// (the core checks everything else: rank, shape, values). Anything else passes through unchanged.
import * as tf from '@tensorflow/tfjs-core';
import { CRFInputError } from '../index.js';

/** The dtypes each argument takes as a tensor. */
const DTYPES = {
  emissions: ['float32'],
  tags: ['int32'],
  mask: ['bool', 'int32'],
  allowed: ['bool', 'int32'],
} as const satisfies Record<string, readonly tf.DataType[]>;

export type TensorArgument = keyof typeof DTYPES;

export function isTensor(x: unknown): x is tf.Tensor {
  return x instanceof tf.Tensor;
}

const article = (word: string) => (/^[aeiou]/.test(word) ? 'an' : 'a');

function checked(arg: TensorArgument, t: tf.Tensor): tf.Tensor {
  if (t.isDisposed) throw new CRFInputError(arg, 'a tf.Tensor that is not disposed', 'a disposed tf.Tensor');
  const ok: readonly tf.DataType[] = DTYPES[arg];
  if (!ok.includes(t.dtype))
    throw new CRFInputError(arg, `${article(ok[0])} ${ok.join(' or ')} tf.Tensor`, `${article(t.dtype)} ${t.dtype} tf.Tensor of shape [${t.shape.join(', ')}]`);
  return t;
}

/** A tensor's values now (dataSync: a readback on a GPU backend), as `{ data, shape }`; anything else as it is. */
export function readNow<T>(arg: TensorArgument, x: T | tf.Tensor): T {
  if (!isTensor(x)) return x;
  const t = checked(arg, x);
  return { data: t.dataSync(), shape: t.shape } as T;
}

/** As {@link readNow}, awaiting the values (no blocking readback on a GPU backend). */
export async function readLater<T>(arg: TensorArgument, x: T | tf.Tensor): Promise<T> {
  if (!isTensor(x)) return x;
  const t = checked(arg, x);
  return { data: await t.data(), shape: t.shape } as T;
}

/** The emissions of `forward`, which must be a float32 tensor: the gradient flows back into it. */
export function emissionsTensor(x: unknown): tf.Tensor {
  if (!isTensor(x)) {
    throw new CRFInputError(
      'emissions',
      'a float32 tf.Tensor (forward is differentiated by tfjs; decode and the other ops also take arrays)',
      Array.isArray(x) ? 'an array' : typeof x === 'object' && x !== null ? 'an object that is not a tf.Tensor' : typeof x,
    );
  }
  return checked('emissions', x);
}
