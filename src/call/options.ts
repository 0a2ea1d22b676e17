import { CRFInputError, describe, reading } from '../errors.js';

/**
 * Options objects of every public function are checked here: an unknown key is an error rather than a
 * silently ignored setting (pytorch-crf users type `batch_first`, and `reducton: 'none'` would sum).
 */

/** Python (pytorch-crf, torch) spellings and what they are called here. */
const PYTHON_NAMES: Readonly<Record<string, string>> = {
  batch_first: 'batchFirst',
  num_tags: 'numTags',
  top_k: 'topK',
  weight_decay: 'weightDecay',
  max_norm: 'maxNorm',
  norm_type: 'normType',
  ignore_index: 'ignoreIndex',
};

/** Edit distance with a cut-off: only near misses (≤ 2 edits) are worth suggesting. */
function near(a: string, b: string): boolean {
  if (Math.abs(a.length - b.length) > 2) return false;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur.push(Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1)));
    }
    prev = cur;
  }
  return prev[b.length] <= 2;
}

/**
 * Reads an options argument: undefined gives `{}`; anything but an object (arrays and functions
 * included), or an object with an own key outside `known`, throws CRFInputError naming `arg`. The
 * values are read once, into a copy with no prototype: an option the caller left out reads as
 * undefined even when Object.prototype carries a property of that name.
 */
export function readOptions<T extends object>(o: T | undefined | null, arg: string, known: readonly string[], allowNull = false): Partial<T> {
  return reading(arg, () => readOwn(o, arg, known, allowNull));
}

function readOwn<T extends object>(o: T | undefined | null, arg: string, known: readonly string[], allowNull: boolean): Partial<T> {
  const out = Object.create(null) as Record<string, unknown>;
  if (o === undefined || (allowNull && o === null)) return out as Partial<T>;
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new CRFInputError(arg, 'an options object', describe(o));
  for (const key of Object.keys(o)) {
    if (!known.includes(key)) {
      const meant = Object.hasOwn(PYTHON_NAMES, key) && known.includes(PYTHON_NAMES[key]) ? PYTHON_NAMES[key] : known.find((k) => near(key, k));
      const hint = meant ? ` (did you mean ${meant}?)` : '';
      throw new CRFInputError(arg, `only the options ${known.join(', ')}`, `an unknown option ${describe(key)}${hint}`);
    }
    const v = (o as Record<string, unknown>)[key];
    if (v !== undefined) out[key] = v;
  }
  return out as Partial<T>;
}
