import { CRFInputError, describe } from '../errors.js';
import { readOptions } from '../call/options.js';
import { PARAMETER_NAMES, type ParameterArrays, isMatrix } from '../model/parameters.js';
import { writeSafetensors } from './safetensors-writer.js';
import { PYTORCH_CRF_NAMES } from '../model/state-dict.js';

/**
 * A CRF's weights written as a safetensors file under pytorch-crf's names, so that a file written here
 * loads in PyTorch (and back with `CRF.fromSafetensors`).
 */

/** Options of `crf.toSafetensors`. */
export interface ToSafetensorsOptions {
  /** Prepended to each name, e.g. `'crf.'` to match a model whose CRF is `model.crf`. Default `''`. */
  prefix?: string | undefined;
  /** Stored as the file's `__metadata__` (string values only). */
  metadata?: Record<string, string> | undefined;
}

/**
 * A CRF's weights as a safetensors file in float32 under pytorch-crf's names (what
 * `safetensors.torch.load_file` + `crf.load_state_dict` expect).
 * @throws CRFInputError for bad options.
 */
export function writeCRFWeights(params: ParameterArrays, numTags: number, options: ToSafetensorsOptions = {}): Uint8Array {
  const { prefix = '', metadata } = readOptions(options, 'options', ['prefix', 'metadata']);
  if (typeof prefix !== 'string') throw new CRFInputError('prefix', 'a string such as "crf."', describe(prefix));
  const tensors = Object.fromEntries(
    PARAMETER_NAMES.map((name, n) => [
      prefix + PYTORCH_CRF_NAMES[n],
      { dtype: 'F32' as const, shape: isMatrix(name) ? [numTags, numTags] : [numTags], data: params[name] },
    ]),
  );
  return writeSafetensors(tensors, metadata);
}
