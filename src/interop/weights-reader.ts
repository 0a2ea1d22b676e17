import type { CRFOptions } from '../api/types.js';
import { CRFInputError, describe, shapeStr } from '../errors.js';
import { type ParameterArrays, parameterValue, perParameter } from '../model/parameters.js';
import { parseSafetensors, tensorValues } from './safetensors-reader.js';
import { PYTORCH_CRF_NAMES, TORCHCRF_NAMES } from '../model/state-dict.js';

/**
 * A CRF's weights read from a safetensors file: where they are (pytorch-crf's or TorchCRF's names, bare
 * or under a model's prefix), and what they must be (shapes [K], [K], [K, K]; values as loadStateDict
 * takes them), so that a file PyTorch wrote loads here. `CRF.fromSafetensors` imports this file (and
 * with it the reader and the JSON parser) only when it is called.
 */

/** Options of `CRF.fromSafetensors`: a key prefix, and every option `CRF.create` takes. */
export interface FromSafetensorsOptions extends CRFOptions {
  /**
   * Prepended to the tensor names, e.g. `'crf.'` for a whole model's state dict whose CRF is `model.crf`.
   * When absent, the names are looked up bare and, failing that, under the one prefix (ending in `.`)
   * that holds a complete set; several such prefixes are an error asking for this option.
   */
  prefix?: string | undefined;
}

/** The CRF weights found in a safetensors file, checked as loadStateDict checks them. */
interface CRFWeights {
  numTags: number;
  parameters: ParameterArrays;
}

function listNames(names: Iterable<string>): string {
  const all = [...names];
  const shown = all
    .slice(0, 12)
    .map((n) => JSON.stringify(n))
    .join(', ');
  return all.length === 0 ? 'no tensors' : all.length > 12 ? `${shown} and ${all.length - 12} more` : shown;
}

/**
 * Finds a CRF's weights (pytorch-crf or TorchCRF names, optionally under a prefix) in a safetensors
 * file and checks their shapes (`[K]`, `[K]`, `[K, K]`) and values (float32 within ±1e20, or -Infinity).
 * @throws CRFInputError for a malformed file, missing or ambiguous weights, bad shapes or values.
 */
export function readCRFWeights(input: Uint8Array | ArrayBuffer | ArrayBufferView, prefix?: string): CRFWeights {
  if (prefix !== undefined && typeof prefix !== 'string') throw new CRFInputError('prefix', 'a string such as "crf."', describe(prefix));
  const file = parseSafetensors(input);
  const has = (p: string, names: readonly string[]) => names.every((n) => file.tensors.has(p + n));
  let found: { p: string; names: readonly string[] } | null = null;
  if (prefix !== undefined) {
    for (const names of [PYTORCH_CRF_NAMES, TORCHCRF_NAMES]) if (!found && has(prefix, names)) found = { p: prefix, names };
    if (!found) {
      const partial = [PYTORCH_CRF_NAMES, TORCHCRF_NAMES].find((names) => names.some((n) => file.tensors.has(prefix + n)));
      const missing = partial ? partial.filter((n) => !file.tensors.has(prefix + n)).map((n) => prefix + n) : null;
      // A module's name without the dot that joins it to the parameter's.
      const dotted = [PYTORCH_CRF_NAMES, TORCHCRF_NAMES].some((names) => has(`${prefix}.`, names)) ? ` (did you mean prefix ${describe(`${prefix}.`)}?)` : '';
      throw new CRFInputError(
        'safetensors',
        `CRF weights ${PYTORCH_CRF_NAMES.map((n) => prefix + n).join(', ')} (or TorchCRF's ${TORCHCRF_NAMES.map((n) => prefix + n).join(', ')})`,
        (missing ? `no ${missing.join(', ')}` : `only ${listNames(file.tensors.keys())}`) + dotted,
      );
    }
  } else {
    const candidates: { p: string; names: readonly string[] }[] = [];
    for (const names of [PYTORCH_CRF_NAMES, TORCHCRF_NAMES]) {
      for (const key of file.tensors.keys()) {
        if (!key.endsWith(names[0])) continue;
        const p = key.slice(0, key.length - names[0].length);
        if ((p === '' || p.endsWith('.')) && has(p, names) && !candidates.some((c) => c.p === p)) candidates.push({ p, names });
      }
    }
    const bare = candidates.find((c) => c.p === '');
    if (bare) found = bare;
    else if (candidates.length === 1) found = candidates[0];
    else if (candidates.length > 1) {
      throw new CRFInputError('prefix', `one of ${candidates.map((c) => JSON.stringify(c.p)).join(', ')} (the file holds several CRFs)`, 'none');
    } else {
      throw new CRFInputError(
        'safetensors',
        `CRF weights ${PYTORCH_CRF_NAMES.join(', ')} or ${TORCHCRF_NAMES.join(', ')} (under any prefix)`,
        `only ${listNames(file.tensors.keys())}`,
      );
    }
  }
  const { p, names } = found;
  const get = (n: string) => {
    const key = p + n;
    const t = file.tensors.get(key)!;
    return { key, t, values: tensorValues(t, `safetensors ${key}`) };
  };
  const [s, e, tr] = names.map(get);
  if (s.t.shape.length !== 1 || s.t.shape[0] < 1) throw new CRFInputError(`safetensors ${s.key}`, 'shape [K] with K ≥ 1', `shape ${shapeStr(s.t.shape)}`);
  const K = s.t.shape[0];
  if (e.t.shape.length !== 1 || e.t.shape[0] !== K) throw new CRFInputError(`safetensors ${e.key}`, `shape [${K}] as ${s.key}`, `shape ${shapeStr(e.t.shape)}`);
  if (tr.t.shape.length !== 2 || tr.t.shape[0] !== K || tr.t.shape[1] !== K) {
    throw new CRFInputError(`safetensors ${tr.key}`, `shape [${K}, ${K}] as ${s.key} is [${K}]`, `shape ${shapeStr(tr.t.shape)}`);
  }
  // The same rule as loadStateDict (float32 within ±1e20, or -Infinity = forbidden): what one accepts
  // the other reads back.
  const f32 = (x: { key: string; values: Float64Array }) => {
    const out = new Float32Array(x.values.length);
    for (let i = 0; i < out.length; i++) out[i] = parameterValue(x.values[i], `safetensors ${x.key}`, `flat index ${i}`);
    return out;
  };
  return { numTags: K, parameters: perParameter((_, n) => f32([s, e, tr][n])) };
}
