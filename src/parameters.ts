import type { Potentials } from './backend.js';
import type { Allowed } from './constraints.js';
import { CRFInputError, describe, reading } from './errors.js';
import { MAX_MAGNITUDE, MAX_MAGNITUDE_TEXT } from './limits.js';
import { typedArrayKind, typedLength } from './typed.js';

/**
 * The CRF's parameters: what a value may be, how a state dict is read, and the potentials a call
 * computes on. One rule everywhere (loadStateDict, safetensors, the live arrays at every call): a
 * parameter is a float32 within ±1e20, or −Infinity, which forbids that start, end or transition
 * exactly as a constraint does.
 */

/** pytorch-crf's state-dict names and TorchCRF's, in the order start, end, transitions. */
export const PYTORCH_CRF_NAMES = ['start_transitions', 'end_transitions', 'transitions'] as const;
export const TORCHCRF_NAMES = ['start_trans', 'end_trans', 'trans_matrix'] as const;

const EXPECTED = `a finite number within ${MAX_MAGNITUDE_TEXT} in float32, or -Infinity (forbidden)`;

/** Whether a float32 parameter value is one this package computes with. */
function usable(v: number): boolean {
  return v === -Infinity || (v <= MAX_MAGNITUDE && v >= -MAX_MAGNITUDE);
}

/**
 * A value for a parameter array, rounded to float32 as it will be stored; throws naming `arg` when it
 * is not a number, is NaN or +Infinity, or lies (after rounding) beyond the supported range.
 */
export function parameterValue(x: unknown, arg: string, at: string): number {
  const f = typeof x === 'number' ? Math.fround(x) : NaN;
  // -1e39 rounds to -Infinity in float32; only an explicit -Infinity means "forbidden".
  if (typeof x !== 'number' || !usable(f) || (f === -Infinity && x !== -Infinity)) {
    throw new CRFInputError(arg, `${EXPECTED} at ${at}`, describe(x));
  }
  return f;
}

/** Named position of flat index i in a length-K vector or a K × K matrix. */
function at(i: number, K: number, matrix: boolean): string {
  return matrix ? `[${Math.floor(i / K)}][${i % K}] (from tag ${Math.floor(i / K)} to tag ${i % K})` : `[${i}]`;
}

export interface ParameterArrays {
  startTransitions: Float32Array;
  endTransitions: Float32Array;
  transitions: Float32Array;
}

/**
 * The potentials of one call: the live parameters (checked now, since optimizers and users write them
 * between calls) with the constraints folded in as −Infinity.
 */
export function potentials(params: ParameterArrays, K: number, c: Allowed | null): Potentials {
  const f = (src: Float32Array, ok: Uint8Array | undefined, name: string, matrix: boolean) => {
    const n = matrix ? K * K : K;
    // The arrays cannot be replaced, but their buffer can be transferred away (detached: length 0).
    if (typedArrayKind(src) !== 'Float32Array' || typedLength(src) !== n) {
      throw new CRFInputError(name, `a Float32Array of ${n} values`, `${describe(src)} (was its buffer transferred?)`);
    }
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const v = src[i];
      if (!usable(v)) throw new CRFInputError(name, `${EXPECTED} at ${at(i, K, matrix)}`, describe(v));
      out[i] = !ok || ok[i] ? v : -Infinity;
    }
    return out;
  };
  return {
    K,
    start: f(params.startTransitions, c?.start, 'startTransitions', false),
    end: f(params.endTransitions, c?.end, 'endTransitions', false),
    trans: f(params.transitions, c?.trans, 'transitions', true),
  };
}

/** The three arrays of a state dict, checked whole before anything is written. */
export function readStateDict(sd: unknown, K: number): [Float32Array, Float32Array, Float32Array] {
  return reading('stateDict', () => readDict(sd, K));
}

function readDict(sd: unknown, K: number): [Float32Array, Float32Array, Float32Array] {
  if (sd === null || typeof sd !== 'object') throw new CRFInputError('stateDict', 'an object', describe(sd));
  const own = (k: string) => Object.hasOwn(sd, k);
  const names: readonly string[] = PYTORCH_CRF_NAMES.some(own) ? PYTORCH_CRF_NAMES : TORCHCRF_NAMES;
  for (const k of Object.keys(sd)) {
    if (!names.includes(k)) throw new CRFInputError('stateDict', `only the keys ${names.join(', ')}`, `unexpected key ${describe(k)}`);
  }
  // A flat array of n numbers or, for the matrix, K rows of K (nested arrays or typed arrays).
  const read = (name: string, matrix: boolean): Float32Array => {
    if (!own(name)) throw new CRFInputError('stateDict', `key ${name}`, 'it missing');
    const arg = `stateDict.${name}`;
    const want = matrix ? `shape [${K}, ${K}]` : `shape [${K}]`;
    const v = (sd as Record<string, unknown>)[name] as ArrayLike<unknown>;
    const n = matrix ? K * K : K;
    if (v === null || typeof v !== 'object' || typeof v.length !== 'number') throw new CRFInputError(arg, want, describe(v));
    const out = new Float32Array(n);
    const len = v.length;
    if (matrix && len === K && typeof v[0] === 'object') {
      for (let i = 0; i < K; i++) {
        const r = v[i] as ArrayLike<unknown>;
        if (r === null || typeof r !== 'object' || r.length !== K) throw new CRFInputError(arg, want, `row ${i}: ${describe(r)}`);
        for (let j = 0; j < K; j++) out[i * K + j] = parameterValue(r[j], arg, at(i * K + j, K, true));
      }
    } else if (len === n) {
      for (let i = 0; i < n; i++) out[i] = parameterValue(v[i], arg, at(i, K, matrix));
    } else {
      throw new CRFInputError(arg, want, describe(v));
    }
    return out;
  };
  return [read(names[0], false), read(names[1], false), read(names[2], true)];
}
