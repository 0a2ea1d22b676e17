// Fuzzing the input normalisers: random mutations of valid inputs either give the result an
// independent validator predicts or throw CRFInputError; never another exception, never a wrong number.
// The builders (allowedFromTags, maskFromTags) against independent ones, and the habits of new users
// in every argument slot, likewise.
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { CRF, CRFInputError, allowedFromTags, allowedTransitions, maskFromTags } from '../../src/index.js';
import { MAX_ANNOTATION_SLOTS, MAX_TAGS } from '../../src/limits.js';
import { SMALL_EMISSIONS, SMALL_TAGS } from '../helpers.js';

const K = 3,
  B = 2,
  T = 3;
const junk = fc.oneof(
  fc.constantFrom(NaN, Infinity, -Infinity, null, undefined, '1', true, false, [], {}, 1n, 0.5, -1, 3, 1e308, -0, [1], { length: 3 }),
  fc.double(),
  fc.integer({ min: -5, max: 5 }),
);

type Nested = unknown[];
function clone(x: unknown): unknown {
  return Array.isArray(x) ? x.map(clone) : x;
}

/** A mutation: set, delete or wrap at a random path of a nested array. */
const mutation = fc.record({ path: fc.array(fc.nat(4), { minLength: 1, maxLength: 3 }), kind: fc.constantFrom('set', 'delete', 'push', 'wrap'), value: junk });
function mutate(x: Nested, m: { path: number[]; kind: string; value: unknown }): Nested {
  const out = clone(x) as Nested;
  let node: unknown = out;
  for (let i = 0; i < m.path.length - 1; i++) {
    if (!Array.isArray(node) || node.length === 0) return out;
    node = node[m.path[i] % node.length];
  }
  if (!Array.isArray(node) || node.length === 0) return out;
  const at = m.path[m.path.length - 1] % node.length;
  if (m.kind === 'set') node[at] = m.value;
  else if (m.kind === 'delete') node.splice(at, 1);
  else if (m.kind === 'push') node.push(m.value);
  else node[at] = [node[at]];
  return out;
}

/** Independent validity rules from DESIGN.md. */
const isRect = (x: unknown, dims: number[]): boolean =>
  dims.length === 0 ? !Array.isArray(x) : Array.isArray(x) && x.length === dims[0] && x.every((y) => isRect(y, dims.slice(1)));
const validEm = (x: unknown) => isRect(x, [B, T, K]) && (x as number[][][]).flat(2).every((v) => typeof v === 'number' && Number.isFinite(v));
const validMask = (x: unknown) => isRect(x, [B, T]) && (x as unknown[][]).flat().every((v) => v === 0 || v === 1 || v === true || v === false);
function validTags(x: unknown, mask: unknown[][]) {
  if (!isRect(x, [B, T])) return false;
  return (x as unknown[][]).every((row, b) => row.every((v, t) => !mask[b][t] || (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < K)));
}

const em0 = SMALL_EMISSIONS;
const tags0 = SMALL_TAGS;
const mask0 = [
  [1, 1, 0],
  [1, 0, 1],
];

it('forward: mutated emissions, tags and masks give the predicted result or CRFInputError', async () => {
  const crf = await CRF.create(K, { seed: 3, backend: 'js' });
  const ref = (await crf.forward(em0, tags0, { mask: mask0, reduction: 'none' })) as Float32Array;
  await fc.assert(
    fc.asyncProperty(fc.constantFrom('emissions', 'tags', 'mask'), mutation, async (which, m) => {
      const em = which === 'emissions' ? mutate(em0, m) : em0;
      const tags = which === 'tags' ? mutate(tags0, m) : tags0;
      const mask = which === 'mask' ? mutate(mask0, m) : mask0;
      const valid = validEm(em) && validMask(mask) && validTags(tags, mask as unknown[][]);
      let out: Float32Array;
      try {
        out = (await crf.forward(em as number[][][], tags as number[][], { mask: mask as number[][], reduction: 'none' })) as Float32Array;
      } catch (e) {
        expect(e).toBeInstanceOf(CRFInputError);
        expect(valid).toBe(false);
        // A mutation of one argument can make another one mismatch it (fewer sequences, say).
        expect(['emissions', 'tags', 'mask']).toContain((e as CRFInputError).argument);
        return;
      }
      expect(valid).toBe(true);
      // A valid mutation of emissions or tags changes the numbers; recompute them from plain copies.
      const again = (await crf.forward(clone(em) as number[][][], clone(tags) as number[][], {
        mask: clone(mask) as number[][],
        reduction: 'none',
      })) as Float32Array;
      expect(Array.from(out)).toEqual(Array.from(again));
      out.forEach((v) => expect(Number.isFinite(v) && v <= 1e-6).toBe(true));
      if (which === 'tags' && JSON.stringify(tags) === JSON.stringify(tags0)) expect(Array.from(out)).toEqual(Array.from(ref));
    }),
    { numRuns: 400, seed: 77 },
  );
});

it('shaped inputs with random shapes and lengths give a result or CRFInputError', async () => {
  const crf = await CRF.create(K, { seed: 3, backend: 'js' });
  await fc.assert(
    fc.asyncProperty(fc.array(fc.oneof(fc.integer({ min: -1, max: 4 }), junk), { maxLength: 4 }), fc.integer({ min: 0, max: 40 }), async (shape, n) => {
      const data = new Float32Array(n).map((_, i) => Math.sin(i));
      const ok =
        shape.length === 3 &&
        shape.every((s) => Number.isInteger(s) && (s as number) >= 0) &&
        shape[2] === K &&
        (shape as number[]).reduce((a, b) => a * b, 1) === n &&
        ((shape[0] as number) === 0 || (shape[1] as number) > 0);
      try {
        const paths = await crf.decode({ data, shape: shape as number[] });
        expect(ok).toBe(true);
        expect(paths.length).toBe(shape[0]);
        paths.forEach((p) => expect(p.length).toBe(shape[1]));
      } catch (e) {
        expect(e).toBeInstanceOf(CRFInputError);
        expect(ok).toBe(false);
      }
    }),
    { numRuns: 400, seed: 78 },
  );
});

it('loadStateDict, allowedTransitions and maskFromTags throw only CRFInputError and change nothing when they do', async () => {
  const crf = await CRF.create(K, { seed: 5, backend: 'js' });
  const sd0 = crf.stateDict();
  await fc.assert(
    fc.asyncProperty(fc.constantFrom('start_transitions', 'end_transitions', 'transitions'), mutation, junk, async (key, m, label) => {
      const before = JSON.stringify(crf.stateDict());
      const sd = { ...sd0, [key]: mutate(sd0[key as keyof typeof sd0] as Nested, m) };
      try {
        crf.loadStateDict(sd);
        expect(JSON.stringify(crf.stateDict())).toEqual(
          JSON.stringify({
            ...sd,
            [key]: (sd[key as keyof typeof sd] as unknown[]).map((v) => (Array.isArray(v) ? v.map(Math.fround) : Math.fround(v as number))),
          }),
        );
        crf.loadStateDict(sd0);
      } catch (e) {
        expect(e).toBeInstanceOf(CRFInputError);
        expect(JSON.stringify(crf.stateDict())).toBe(before);
      }
      for (const call of [() => allowedTransitions('BIO', ['O', label as string]), () => maskFromTags(mutate(tags0, m) as number[][], label as number)]) {
        try {
          call();
        } catch (e) {
          expect(e).toBeInstanceOf(CRFInputError);
        }
      }
    }),
    { numRuns: 300, seed: 79 },
  );
});

it('allowedFromTags: random labels, numTags and markers give what an independent builder predicts, or CRFInputError before anything is built', async () => {
  const label = fc.oneof(fc.integer({ min: -3, max: 6 }), fc.constant(null), fc.array(fc.integer({ min: -1, max: 6 }), { maxLength: 3 }), junk);
  const numTags = fc.oneof(fc.integer({ min: 1, max: 6 }), fc.constantFrom(0, MAX_TAGS, MAX_TAGS + 1, 1e8, 2 ** 32, 2.5, NaN, '3'));
  const grid = fc.oneof(
    fc.array(fc.array(label, { maxLength: 4 }), { maxLength: 4 }),
    // Shapes whose result is past the bound: refused by the claimed shape, before a row is read.
    fc
      .record({ d0: fc.integer({ min: 1, max: 2 ** 40 }), d1: fc.integer({ min: 1, max: 4096 }) })
      .map(({ d0, d1 }) => ({ length: d0, 0: new Array(d1).fill(-1) })),
  );
  await fc.assert(
    fc.asyncProperty(grid, numTags, fc.option(fc.oneof(fc.integer({ min: -3, max: 8 }), junk), { nil: undefined }), async (labels, K, unknown) => {
      const options = unknown === undefined ? undefined : { unknown: unknown as number };
      // An absent or null marker is the default, -1.
      const predicted = predictAllowed(labels, K, unknown ?? -1);
      let got: boolean[][][];
      try {
        got = allowedFromTags(labels as never, K as number, options);
      } catch (e) {
        expect(e).toBeInstanceOf(CRFInputError);
        expect(predicted).toBeInstanceOf(Error);
        expect((e as CRFInputError).argument).toBe((predicted as Error).message);
        return;
      }
      expect(got).toEqual(predicted);
    }),
    { numRuns: 400, seed: 80 },
  );
});

/** What allowedFromTags must give, built independently: the result, or an Error whose message is the argument at fault. */
function predictAllowed(labels: unknown, K: unknown, unknown: unknown): boolean[][][] | Error {
  if (typeof K !== 'number' || !Number.isInteger(K) || K < 1 || K > MAX_TAGS) return new Error('numTags');
  if (typeof unknown !== 'number' || !Number.isInteger(unknown) || (unknown >= 0 && unknown < K)) return new Error('unknown');
  const rows = labels as ArrayLike<unknown>;
  const d0 = rows.length;
  const d1 = d0 > 0 && Array.isArray(rows[0]) ? (rows[0] as unknown[]).length : 0;
  if (d0 > 0 && !Array.isArray(rows[0])) return new Error('labels');
  if (d0 * d1 * (K + 8) + 8 * d0 > MAX_ANNOTATION_SLOTS) return new Error('labels');
  const out: boolean[][][] = [];
  for (let a = 0; a < d0; a++) {
    const row = rows[a];
    if (!Array.isArray(row) || row.length !== d1) return new Error('labels');
    out.push(
      row.map((v: unknown) => {
        const set = Array.isArray(v) ? v : v === null || v === unknown ? null : [v];
        if (set === null) return new Array<boolean>(K).fill(true);
        if (set.length === 0 || set.some((y) => typeof y !== 'number' || !Number.isInteger(y) || y < 0 || y >= K)) return null as unknown as boolean[];
        return Array.from({ length: K }, (_, j) => set.includes(j));
      }),
    );
    if (out[a].some((r) => r === null)) return new Error('labels');
  }
  return out;
}

it('maskFromTags: random labels and pad values give "negative or padValue is off", or CRFInputError', async () => {
  const label = fc.oneof(fc.integer({ min: -101, max: 5 }), fc.constantFrom(-100, -1), junk);
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.array(label, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 4 }),
      fc.option(fc.oneof(fc.integer({ min: -101, max: 5 }), junk), { nil: undefined }),
      async (rows, pad) => {
        const width = rows[0].length;
        const padOk = pad === undefined || (typeof pad === 'number' && Number.isSafeInteger(pad));
        const labelsOk = rows.every((r) => r.length === width && r.every((v) => typeof v === 'number' && Number.isInteger(v)));
        let got: boolean[][];
        try {
          got = maskFromTags(rows as number[][], pad as number | undefined);
        } catch (e) {
          expect(e).toBeInstanceOf(CRFInputError);
          expect(padOk && labelsOk).toBe(false);
          expect((e as CRFInputError).argument).toBe(padOk ? 'tags' : 'padValue');
          return;
        }
        expect(padOk && labelsOk).toBe(true);
        expect(got).toEqual(rows.map((r) => r.map((v) => (pad === undefined ? (v as number) >= 0 : v !== pad))));
      },
    ),
    { numRuns: 400, seed: 81 },
  );
});

/**
 * The habits of a new user in any argument slot: another library's tensor, a Promise, a method, a mask
 * or a bare value where the options go, one sequence without its batch. Each call gives a result or a
 * CRFInputError naming an argument it was handed, with "expected …, got …"; never another exception,
 * and the instance unchanged.
 */
it('habits from PyTorch and other tensor libraries, in any argument of any op, give a result or a CRFInputError naming it', async () => {
  const crf = await CRF.create(K, { seed: 3, backend: 'js' });
  const before = JSON.stringify([crf.stateDict(), await crf.decode(em0)]);
  const flat = Float32Array.from(em0.flat(2));
  const habit = fc.constantFrom(
    { type: 'float32', dims: [B, T, K], data: flat, location: 'cpu' },
    { type: 'int64', dims: [B, T], data: BigInt64Array.of(0n, 1n, 2n, 2n, 2n, 0n) },
    { type: 'float32', dims: [T, K], data: flat.subarray(0, T * K), ort_tensor: {} },
    Object.assign(Object.create({ data: () => Promise.resolve(flat), dataSync: () => flat }), { shape: [B, T, K], dtype: 'float32', dataId: {} }),
    Promise.resolve(em0),
    () => em0,
    mask0,
    Uint8Array.of(1, 1, 0, 1, 0, 1),
    { data: Uint8Array.of(1, 1, 0, 1, 0, 1), shape: [B, T] },
    em0[0],
    tags0[0],
    flat,
    { mask: mask0 },
    'mean',
    'none',
    3,
    true,
    null,
  );
  const ops: [string, (x: unknown[]) => Promise<unknown>, number, string[]][] = [
    ['forward', (a) => crf.forward(a[0] as never, a[1] as never, a[2] as never), 3, ['emissions', 'tags', 'options']],
    ['forwardBackward', (a) => crf.forwardBackward(a[0] as never, a[1] as never, a[2] as never), 3, ['emissions', 'tags', 'options']],
    ['decode', (a) => crf.decode(a[0] as never, a[1] as never), 2, ['emissions', 'options']],
    ['logPartition', (a) => crf.logPartition(a[0] as never, a[1] as never), 2, ['emissions', 'options']],
    ['marginals', (a) => crf.marginals(a[0] as never, { mask: a[1] as never }), 2, ['emissions', 'mask']],
    ['entropy', (a) => crf.entropy(a[0] as never, { allowed: a[1] as never }), 2, ['emissions', 'allowed']],
  ];
  await fc.assert(
    fc.asyncProperty(fc.nat(ops.length - 1), fc.nat(2), habit, async (o, slot, value) => {
      const [, call, n, names] = ops[o];
      const at = slot % n;
      const args: unknown[] = [em0, tags0, { mask: mask0 }].slice(0, n);
      if (n === 2) args[1] = names[1] === 'options' ? { mask: mask0 } : names[1] === 'mask' ? mask0 : undefined;
      args[at] = value;
      try {
        await call(args);
      } catch (e) {
        expect(e).toBeInstanceOf(CRFInputError);
        const err = e as CRFInputError;
        // A value in one slot can make another mismatch it (a one-sentence batch against two-sentence tags).
        expect([...names, 'mask', 'allowed', 'reduction', 'topK']).toContain(err.argument);
        expect(err.message).toMatch(/^[\w ]+: expected .+, got .+/);
        // Another library's tensor, a Promise or a method, refused where it was put, says what to write;
        // an onnxruntime or transformers.js tensor refused where tensors are read says what it should be.
        const foreign = typeof value === 'function' || value instanceof Promise || (value !== null && typeof value === 'object' && 'dtype' in value);
        if (foreign && err.argument === names[at]) expect(err.message).toMatch(/pass \{ (mask: \{ )?data: |await it|call it/);
        const ortLike = value !== null && typeof value === 'object' && 'dims' in value;
        if (ortLike && err.argument === names[at])
          expect(err.message).toMatch(
            /pass it by name, \{ mask: t \}|Tensor of type |dims of rank|to match emissions|as in crf\.\w+\(|0, 1, true or false at|an integer in \[0, \d\] where/,
          );
      }
      expect(JSON.stringify([crf.stateDict(), await crf.decode(em0)])).toBe(before);
    }),
    { numRuns: 300, seed: 82 },
  );
});
