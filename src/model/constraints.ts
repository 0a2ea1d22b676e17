import { CRFInputError, describe, reading } from '../errors.js';
import { MAX_TAGS } from '../limits.js';

/** Which paths are allowed: pair transitions `[from][to]`, and the tags a path may start and end with. */
export interface TransitionConstraints {
  /** `K × K`: `transitions[i][j]` is true when tag j may follow tag i. */
  transitions: ArrayLike<ArrayLike<boolean | number>>;
  /** Length K: tags a path may start with (all when absent). */
  start?: ArrayLike<boolean | number> | undefined;
  /** Length K: tags a path may end with (all when absent). */
  end?: ArrayLike<boolean | number> | undefined;
}

/** Constraints as given to `CRF.create` or `decode`: the object above or a bare `K × K` matrix. */
export type ConstraintsInput = TransitionConstraints | ArrayLike<ArrayLike<boolean | number>>;

/** Normalised constraints: 1 = allowed. */
export interface Allowed {
  trans: Uint8Array;
  start: Uint8Array;
  end: Uint8Array;
}

/**
 * The tagging schemes {@link allowedTransitions} knows, as AllenNLP defines them: `BIO` (IOB2), `IOB1`,
 * `BIOES` and its synonym `BIOUL` (E ≡ L, S ≡ U), and `BMES` (Chinese word segmentation, no `O`).
 */
export type TaggingScheme = 'BIO' | 'IOB1' | 'BIOES' | 'BIOUL' | 'BMES';

function bit(v: unknown, arg: string, at: string): number {
  if (v === true || v === 1) return 1;
  if (v === false || v === 0) return 0;
  throw new CRFInputError(arg, `true, false, 0 or 1 at ${at}`, describe(v));
}

function vector(v: ArrayLike<unknown> | undefined, K: number, arg: string): Uint8Array {
  const out = new Uint8Array(K);
  if (v === undefined) return out.fill(1);
  if (v === null || typeof v !== 'object' || v.length !== K) throw new CRFInputError(arg, `an array of ${K} booleans`, describe(v));
  for (let j = 0; j < K; j++) out[j] = bit(v[j], arg, `[${j}]`);
  return out;
}

export function readConstraints(c: unknown, K: number, arg = 'constraints'): Allowed {
  return reading(arg, () => read(c, K, arg));
}

function read(c: unknown, K: number, arg: string): Allowed {
  if (c === null || typeof c !== 'object') throw new CRFInputError(arg, `a ${K}×${K} boolean matrix or {transitions, start, end}`, describe(c));
  // Own keys only: an inherited `transitions` or `start` (a polluted Object.prototype) is no constraint.
  const isObject = !Array.isArray(c) && !ArrayBuffer.isView(c) && Object.hasOwn(c, 'transitions');
  if (isObject) {
    for (const k of Object.keys(c)) {
      if (k !== 'transitions' && k !== 'start' && k !== 'end')
        throw new CRFInputError(arg, 'only the keys transitions, start, end', `an unknown key ${describe(k)}`);
    }
  }
  const own = (k: keyof TransitionConstraints) => (isObject && Object.hasOwn(c, k) ? (c as TransitionConstraints)[k] : undefined);
  const m = (isObject ? own('transitions') : c) as ArrayLike<ArrayLike<unknown>>;
  if (m === null || typeof m !== 'object' || m.length !== K) {
    throw new CRFInputError(`${arg}.transitions`, `a ${K}×${K} boolean matrix`, describe(m));
  }
  const trans = new Uint8Array(K * K);
  for (let i = 0; i < K; i++) {
    const row = m[i];
    if (row === null || typeof row !== 'object' || row.length !== K) {
      throw new CRFInputError(`${arg}.transitions`, `row ${i} of length ${K}`, describe(row));
    }
    for (let j = 0; j < K; j++) trans[i * K + j] = bit(row[j], `${arg}.transitions`, `[${i}][${j}]`);
  }
  return { trans, start: vector(own('start'), K, `${arg}.start`), end: vector(own('end'), K, `${arg}.end`) };
}

/** Both sets of constraints at once: a path must satisfy each. */
export function intersect(a: Allowed | null, b: Allowed | null): Allowed | null {
  if (!a) return b;
  if (!b) return a;
  const and = (x: Uint8Array, y: Uint8Array) => x.map((v, i) => v & y[i]);
  return { trans: and(a.trans, b.trans), start: and(a.start, b.start), end: and(a.end, b.end) };
}

/**
 * The transitions a tagging scheme allows, as AllenNLP's `allowed_transitions` defines them, plus the
 * tags a path may start and end with. Give the result to `CRF.create({ constraints })` (or to one
 * `decode` call).
 * Labels are `O` or `<tag>-<type>` (e.g. `B-PER`); `BIOES` and `BIOUL` are one scheme (E ≡ L, S ≡ U).
 * @param scheme one of {@link TaggingScheme}.
 * @param labels the K labels in tag-id order, e.g. `['O', 'B-PER', 'I-PER']`.
 * @returns K × K `transitions[from][to]`, and length-K `start` and `end`, as booleans.
 * @throws {@link CRFInputError} for an unknown scheme, an empty or non-array `labels`, or a label whose
 *   tag letter the scheme lacks.
 */
export function allowedTransitions(
  scheme: TaggingScheme,
  labels: readonly string[],
): Required<TransitionConstraints> & {
  /** `K × K`: `transitions[i][j]` is true when `labels[j]` may follow `labels[i]`. */
  transitions: boolean[][];
  /** Length K: whether a path may start with each label. */
  start: boolean[];
  /** Length K: whether a path may end with each label. */
  end: boolean[];
} {
  const letters: Record<string, string> = { BIO: 'BIO', IOB1: 'BIO', BIOES: 'BIOULES', BIOUL: 'BIOULES', BMES: 'BMES' };
  if (typeof scheme !== 'string' || !Object.hasOwn(letters, scheme)) {
    throw new CRFInputError('scheme', `one of ${Object.keys(letters).join(', ')}`, describe(scheme));
  }
  const list = reading('labels', () => {
    if (!Array.isArray(labels) || labels.length === 0 || labels.length > MAX_TAGS) {
      throw new CRFInputError('labels', `a non-empty array of at most ${MAX_TAGS} label strings`, describe(labels));
    }
    // Each label read once, holes included (map would skip them).
    const out: unknown[] = [];
    for (let i = 0; i < labels.length; i++) {
      const l: unknown = labels[i];
      if (typeof l !== 'string' || l.length === 0) throw new CRFInputError('labels', `a label string at [${i}]`, describe(l));
      out.push(l);
    }
    return out as string[];
  });
  const parsed = list.map((l, i) => {
    let tag = l === 'O' ? 'O' : l[0];
    const entity = l === 'O' ? '' : l.slice(1);
    if (!letters[scheme].includes(tag) || (tag === 'O' && scheme === 'BMES')) {
      throw new CRFInputError('labels', `a ${scheme} label at [${i}]`, describe(l));
    }
    if (scheme === 'BIOES' || scheme === 'BIOUL') tag = tag === 'E' ? 'L' : tag === 'S' ? 'U' : tag;
    return { tag, entity };
  });
  const inSet = (t: string, set: string) => set.includes(t);
  const allowStart = (t: string) =>
    scheme === 'BIO' ? inSet(t, 'OB') : scheme === 'IOB1' ? inSet(t, 'OI') : scheme === 'BMES' ? inSet(t, 'BS') : inSet(t, 'OBU');
  const allowEnd = (t: string) => (scheme === 'BIO' || scheme === 'IOB1' ? inSet(t, 'OBI') : scheme === 'BMES' ? inSet(t, 'ES') : inSet(t, 'OLU'));
  const allowPair = (f: { tag: string; entity: string }, t: { tag: string; entity: string }) => {
    const same = f.entity === t.entity;
    switch (scheme) {
      case 'BIO':
        return inSet(t.tag, 'OB') || (t.tag === 'I' && inSet(f.tag, 'BI') && same);
      case 'IOB1':
        return inSet(t.tag, 'OI') || (t.tag === 'B' && inSet(f.tag, 'BI') && same);
      case 'BMES':
        return (inSet(f.tag, 'BM') && inSet(t.tag, 'ME') && same) || (inSet(f.tag, 'ES') && inSet(t.tag, 'BS'));
      default:
        return (inSet(f.tag, 'OLU') && inSet(t.tag, 'OBU')) || (inSet(f.tag, 'BI') && inSet(t.tag, 'IL') && same);
    }
  };
  return {
    transitions: parsed.map((f) => parsed.map((t) => allowPair(f, t))),
    start: parsed.map((t) => allowStart(t.tag)),
    end: parsed.map((t) => allowEnd(t.tag)),
  };
}
