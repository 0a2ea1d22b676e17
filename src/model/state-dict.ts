// The type is imported for the doc links only.
// eslint-disable-next-line @typescript-eslint/no-unused-vars -- read by TypeDoc's {@link CRF...} references
import type { CRF } from '../api/crf.js';
import { CRFInputError, describe, reading } from '../errors.js';
import {
  PARAMETER_NAMES,
  type ParameterArrays,
  checkParameterArrays,
  isMatrix,
  parameterLength,
  parameterValue,
  perParameter,
  positionOf,
} from './parameters.js';

/**
 * The parameters under PyTorch's names: pytorch-crf's (what a state dict here is written with, so that
 * `load_state_dict` takes it) and TorchCRF's (also read, since both packages' checkpoints are about).
 * Everything that names a parameter the PyTorch way, state dicts and safetensors files alike, takes
 * the names from here.
 */

/** pytorch-crf's names, paired by position with PARAMETER_NAMES (start, end, transitions). */
export const PYTORCH_CRF_NAMES = ['start_transitions', 'end_transitions', 'transitions'] as const;
/** TorchCRF's names, in the same order. */
export const TORCHCRF_NAMES = ['start_trans', 'end_trans', 'trans_matrix'] as const;

/** The parameters under pytorch-crf's state-dict names, as plain arrays (JSON-serialisable). */
export interface StateDict {
  /** Length K: the score of starting with each tag. */
  start_transitions: number[];
  /** Length K: the score of ending with each tag. */
  end_transitions: number[];
  /** `K × K`: `transitions[i][j]` is the score of tag i followed by tag j. */
  transitions: number[][];
}

/**
 * What {@link CRF.loadStateDict} takes: pytorch-crf's names (what {@link CRF.stateDict} returns) or
 * TorchCRF's, each as arrays or typed arrays; the matrix as K rows of K or flat (`[from * K + to]`).
 */
export type StateDictInput =
  | {
      /** Length K. */
      start_transitions: ArrayLike<number>;
      /** Length K. */
      end_transitions: ArrayLike<number>;
      /** `K × K` rows, or K² values row-major. */
      transitions: ArrayLike<ArrayLike<number>> | ArrayLike<number>;
    }
  | {
      /** Length K (TorchCRF's name). */
      start_trans: ArrayLike<number>;
      /** Length K (TorchCRF's name). */
      end_trans: ArrayLike<number>;
      /** `K × K` rows, or K² values row-major (TorchCRF's name). */
      trans_matrix: ArrayLike<ArrayLike<number>> | ArrayLike<number>;
    };

/**
 * The parameters as {@link StateDict}: copies in plain arrays, the matrix as K rows of K.
 * @throws CRFInputError naming a parameter whose buffer was transferred.
 */
export function toStateDict(params: ParameterArrays, K: number): StateDict {
  checkParameterArrays(params, K);
  return Object.fromEntries(
    PARAMETER_NAMES.map((name, n) => {
      const a = params[name];
      return [PYTORCH_CRF_NAMES[n], isMatrix(name) ? Array.from({ length: K }, (_, i) => Array.from(a.subarray(i * K, (i + 1) * K))) : Array.from(a)];
    }),
  ) as unknown as StateDict;
}

/** The arrays of a state dict (either package's names), checked whole before anything is written. */
export function readStateDict(sd: unknown, K: number): ParameterArrays {
  return reading('stateDict', () => readDict(sd, K));
}

/** The first module name (ending in `.`) under which `keys` hold all three names of either package. */
function prefixedSet(keys: readonly string[]): { prefix: string; names: readonly string[] } | null {
  const has = new Set(keys);
  for (const names of [PYTORCH_CRF_NAMES, TORCHCRF_NAMES]) {
    for (const k of keys) {
      if (!k.endsWith(`.${names[0]}`)) continue;
      const prefix = k.slice(0, -names[0].length);
      if (names.every((n) => has.has(prefix + n))) return { prefix, names };
    }
  }
  return null;
}

function readDict(sd: unknown, K: number): ParameterArrays {
  if (sd === null || typeof sd !== 'object') throw new CRFInputError('stateDict', 'an object', describe(sd));
  const own = (k: string) => Object.hasOwn(sd, k);
  const keys = Object.keys(sd);
  // A whole model's state dict: a complete set of either package's names under one module's name.
  const pytorch = PYTORCH_CRF_NAMES.some(own);
  const model = pytorch || TORCHCRF_NAMES.some(own) ? null : prefixedSet(keys);
  const names: readonly string[] = pytorch ? PYTORCH_CRF_NAMES : (model?.names ?? TORCHCRF_NAMES);
  for (const k of keys) {
    if (names.includes(k)) continue;
    const advice = model ? ` (a model's state dict? hand over the CRF's entries without their prefix ${describe(model.prefix)})` : '';
    throw new CRFInputError('stateDict', `only the keys ${names.join(', ')}`, `unexpected key ${describe(k)}${advice}`);
  }
  // A flat array of n numbers or, for the matrix, K rows of K (nested arrays or typed arrays).
  return perParameter((param, p) => {
    const name = names[p];
    const matrix = isMatrix(param);
    if (!own(name)) throw new CRFInputError('stateDict', `key ${name}`, 'it missing');
    const arg = `stateDict.${name}`;
    const want = matrix ? `shape [${K}, ${K}]` : `shape [${K}]`;
    const v = (sd as Record<string, unknown>)[name] as ArrayLike<unknown>;
    const n = parameterLength(param, K);
    if (v === null || typeof v !== 'object' || typeof v.length !== 'number') throw new CRFInputError(arg, want, describe(v));
    const out = new Float32Array(n);
    const len = v.length;
    if (matrix && len === K && typeof v[0] === 'object') {
      for (let i = 0; i < K; i++) {
        const r = v[i] as ArrayLike<unknown>;
        if (r === null || typeof r !== 'object' || r.length !== K) throw new CRFInputError(arg, want, `row ${i}: ${describe(r)}`);
        for (let j = 0; j < K; j++) out[i * K + j] = parameterValue(r[j], arg, positionOf(i * K + j, K, true));
      }
    } else if (len === n) {
      for (let i = 0; i < n; i++) out[i] = parameterValue(v[i], arg, positionOf(i, K, matrix));
    } else {
      throw new CRFInputError(arg, want, describe(v));
    }
    return out;
  });
}
