// Reading an op's options argument, and what to write instead when a pytorch-crf habit put something
// else there.
import { CRFInputError, describe, reading } from '../errors.js';
import { BACKEND_NAMES } from '../backends/backend.js';
import { foreignAdvice, pendingAdvice } from '../call/inputs.js';
import { readOptions } from '../call/options.js';
import type { Reduction } from './types.js';

export const REDUCTIONS: readonly Reduction[] = ['none', 'sum', 'mean', 'token_mean'];
export const BACKENDS = ['auto', ...BACKEND_NAMES] as const;
/** The option names each public function accepts (anything else is a CRFInputError). */
export const CREATE_OPTIONS = ['batchFirst', 'backend', 'device', 'seed', 'constraints', 'wasmModule', 'webgpuMinWork', 'threads'] as const;
export const REDUCTION_OPTIONS = ['mask', 'reduction'] as const;
export const POSTERIOR_OPTIONS = ['mask', 'allowed'] as const;
export const DECODE_OPTIONS = ['mask', 'topK', 'constraints', 'allowed'] as const;

/**
 * A `seed` option (create's weights, sample's draws): an integer in [0, 2^32), the generators' one word
 * of state, refused otherwise rather than truncated or wrapped (1.5 and 2^32 + 1 would give seed 1's
 * numbers).
 */
export function readSeed(seed: unknown): number {
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32) {
    throw new CRFInputError('seed', 'an integer in [0, 2^32)', describe(seed));
  }
  return seed;
}

/**
 * An op's options, read by readOptions. What a pytorch-crf habit puts there instead (a mask by
 * position, a bare reduction, k, flag or backend name) is refused with what to write: `usage`. The
 * habits are looked for once readOptions has refused the value, so that options that read cost nothing
 * more; but for a Promise, which has no keys of its own and would read as no options at all.
 */
export function opOptions<T extends object>(o: T | undefined, known: readonly string[], usage: string): Partial<T> {
  let read: Partial<T>;
  try {
    read = readOptions(o, 'options', known);
  } catch (e) {
    const instead = e instanceof CRFInputError ? reading('options', () => misplaced(o, known)) : '';
    throw instead ? new CRFInputError('options', `an options object, as in ${usage}`, instead) : e;
  }
  if (o !== undefined && o !== null && isEmpty(read)) {
    const pending = reading('options', () => pendingAdvice(o));
    if (pending) throw new CRFInputError('options', `an options object, as in ${usage}`, `${describe(o)}${pending}`);
  }
  return read;
}

function isEmpty(o: object): boolean {
  for (const _ in o) return false;
  return true;
}

/** Bare values a pytorch-crf user passes where the options go, and the option each one meant. */
const BARE: readonly { option: string; takes: (v: unknown) => boolean }[] = [
  { option: 'reduction', takes: (v) => (REDUCTIONS as readonly unknown[]).includes(v) },
  { option: 'backend', takes: (v) => (BACKENDS as readonly unknown[]).includes(v) },
  { option: 'batchFirst', takes: (v) => typeof v === 'boolean' },
  { option: 'topK', takes: (v) => typeof v === 'number' },
];

/** What to write instead of `o` in an op's options slot, or '' when `o` is no such habit. */
function misplaced(o: unknown, known: readonly string[]): string {
  // A Promise has no keys of its own: read as options, it would silently be none.
  const pending = pendingAdvice(o);
  if (pending) return `${describe(o)}${pending}`;
  const tensor = known.includes('mask') ? foreignAdvice(o, 2, true, 'mask') : '';
  if (tensor) return tensor;
  const shaped = o !== null && typeof o === 'object' && Object.hasOwn(o, 'data') && Object.hasOwn(o, 'shape');
  if (known.includes('mask') && (Array.isArray(o) || ArrayBuffer.isView(o) || shaped)) return `${describe(o)} (a mask goes by name: { mask })`;
  const meant = BARE.find((b) => known.includes(b.option) && b.takes(o));
  return meant ? `${describe(o)} (options go by name: { ${meant.option}: ${typeof o === 'string' ? `'${o}'` : String(o)} })` : '';
}
