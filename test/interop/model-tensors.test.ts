// A model's output tensors go into every op as they come: onnxruntime-web's Tensor (the real class) and
// transformers.js's (getters over one, behind a Proxy) give exactly what the same values give as
// { data, shape }, on every backend; what is not accepted (another dtype, a GPU location, dims that do
// not match the data, getters that throw) is a CRFInputError naming the argument, the instance unchanged.
import fc from 'fast-check';
import * as ort from 'onnxruntime-web';
import { afterAll, describe, expect, it } from 'vitest';
import { CRF, CRFInputError, maskFromTags } from '../../src/index.js';
import { backendVariants, splitEveryCall } from '../backends.js';
import { inputError } from '../helpers.js';
// transformers.js 4.x's Tensor as the guides' stand-in rebuilds it (getters over `ort_tensor`, behind a Proxy).
import { Tensor as TransformersTensor } from '../stubs/transformers/index.js';

type Data = Float32Array | Float64Array | Int32Array | Uint8Array | Uint16Array | BigInt64Array;

const ortTensor = (type: string, data: Data, dims: number[]) => new ort.Tensor(type as 'float32', data as Float32Array, dims);
const forms = {
  'onnxruntime-web Tensor': ortTensor,
  'transformers.js Tensor': (type: string, data: Data, dims: number[]) => new TransformersTensor(ortTensor(type, data, dims)),
};

const K = 4;
const B = 3;
const T = 5;
const em = Float32Array.from({ length: B * T * K }, (_, i) => Math.sin(i * 1.7) * 2);
// A gapped mask, as first-piece labelling leaves it, and a sequence with its first step off.
const bits = [1, 0, 1, 1, 0, 0, 1, 1, 0, 1, 1, 1, 1, 0, 0];
const tagValues = [1, -100, 3, 0, -100, -100, 2, 2, -100, 1, 0, 3, 1, -100, -100];
const allowedBits = Uint8Array.from({ length: B * T * K }, (_, i) => (i % 3 === 0 || i % K === 2 ? 1 : 0));

const masks: [string, () => Data][] = [
  ['bool', () => Uint8Array.from(bits)],
  ['uint8', () => Uint8Array.from(bits)],
  ['int32', () => Int32Array.from(bits)],
  ['int64', () => BigInt64Array.from(bits.map(BigInt))],
];
const tagTensors: [string, () => Data][] = [
  ['int64', () => BigInt64Array.from(tagValues.map(BigInt))],
  ['int32', () => Int32Array.from(tagValues)],
];

/** Every op of the CRF on one set of inputs (emissions, tags, mask, allowed), as a comparable value. */
async function everything(crf: CRF, e: unknown, tags: unknown, mask: unknown, allowed: unknown) {
  const m = { mask: mask as never };
  const fb = await crf.forwardBackward(e as never, tags as never, { ...m, reduction: 'none' });
  return {
    forward: Array.from((await crf.forward(e as never, tags as never, { ...m, reduction: 'none' })) as Float32Array),
    forwardBackward: [Array.from(fb.logLikelihood as Float32Array), ...Object.values(fb.grads).map((g) => Array.from(g as Float32Array))],
    partial: Array.from((await crf.forward(e as never, { allowed: allowed as never }, { ...m, reduction: 'none' })) as Float32Array),
    decode: await crf.decode(e as never, m),
    topK: await crf.decode(e as never, { ...m, topK: 3 }),
    constrained: await crf.decode(e as never, { ...m, allowed: allowed as never }),
    logPartition: Array.from(await crf.logPartition(e as never, m)),
    marginals: Array.from(await crf.marginals(e as never, m)),
    entropy: Array.from(await crf.entropy(e as never, { ...m, allowed: allowed as never })),
    sample: await crf.sample(e as never, { ...m, numSamples: 3, seed: 7 }),
  };
}

const variants = await backendVariants();
const restore = await splitEveryCall();
afterAll(restore);

describe.each(variants.map((v) => [v.label, v] as const))('%s', (_label, v) => {
  for (const batchFirst of [true, false]) {
    const layout = batchFirst ? 'batch-first' : 'time-major';
    // The same values in the CRF's layout: time-major tensors hold [T, B, ·].
    const dims3 = batchFirst ? [B, T, K] : [T, B, K];
    const dims2 = batchFirst ? [B, T] : [T, B];
    const perm = <A extends ArrayLike<number | bigint>>(a: A, inner: number): A => {
      if (batchFirst) return a;
      const out = new (a.constructor as new (n: number) => A)(a.length) as unknown as (number | bigint)[];
      for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) for (let j = 0; j < inner; j++) out[(t * B + b) * inner + j] = a[(b * T + t) * inner + j];
      return out as unknown as A;
    };

    it.each(Object.entries(forms))(`%s (${layout}): every op gives exactly what { data, shape } gives, for every mask and tag dtype`, async (_name, make) => {
      const crf = await CRF.create(K, { backend: v.name, ...v.options, batchFirst, seed: 11 });
      const plain = (d: ArrayLike<number>, dims: number[]) => ({ data: d, shape: dims });
      const want = await everything(
        crf,
        plain(perm(em, K), dims3),
        plain(perm(Int32Array.from(tagValues), 1), dims2),
        plain(perm(Uint8Array.from(bits), 1), dims2),
        plain(perm(allowedBits, K), dims3),
      );
      // Each mask dtype with int64 tags, and int32 tags with a bool mask.
      const combos = [...masks.map((m) => [m, tagTensors[0]] as const), [masks[0], tagTensors[1]] as const];
      for (const [[maskType, maskData], [tagType, tagData]] of combos) {
        const got = await everything(
          crf,
          make('float32', perm(em, K), dims3),
          make(tagType, perm(tagData(), 1), dims2),
          make(maskType, perm(maskData(), 1), dims2),
          make('bool', perm(allowedBits, K), dims3),
        );
        expect(got, `mask ${maskType}, tags ${tagType}`).toEqual(want);
      }
      crf.dispose();
    });
  }
});

describe('maskFromTags', () => {
  it.each(Object.entries(forms))('takes an int64 or int32 %s of labels', (_name, make) => {
    const nested = [tagValues.slice(0, 5), tagValues.slice(5, 10), tagValues.slice(10)];
    for (const [type, data] of tagTensors) expect(maskFromTags(make(type, data(), [B, T]) as never)).toEqual(maskFromTags(nested));
    expect(maskFromTags(make('int64', BigInt64Array.of(0n, -1n, 5n, -100n), [2, 2]) as never, -100)).toEqual([
      [true, true],
      [true, false],
    ]);
  });
});

/** A tensor-like object with one field replaced (or made to throw), read through getters as ORT's are. */
function forged(fields: Record<string, () => unknown>, wrap = false) {
  const t = Object.create(null) as Record<string, unknown>;
  for (const [k, get] of Object.entries(fields)) Object.defineProperty(t, k, { get, enumerable: true });
  return wrap
    ? new Proxy({ ort_tensor: t }, { get: (o, k) => (k === 'ort_tensor' ? o.ort_tensor : t[k as string]), has: (_o, k) => k in t || k === 'ort_tensor' })
    : t;
}
const base = (over: Record<string, () => unknown> = {}) => ({
  type: () => 'float32',
  dims: () => [B, T, K],
  data: () => em,
  location: () => 'cpu',
  ...over,
});
const boom = () => {
  throw new Error('getter threw');
};

describe.each(variants.map((v) => [v.label, v] as const))('%s: refused tensors', (_label, v) => {
  const cases: [string, (crf: CRF) => Promise<unknown>, string, RegExp][] = [
    [
      'float16 emissions',
      (crf) => crf.decode(ortTensor('float16', new Uint16Array(B * T * K), [B, T, K]) as never),
      'emissions',
      /of type float32, got type "float16"/,
    ],
    ['float64 emissions', (crf) => crf.decode(ortTensor('float64', Float64Array.from(em), [B, T, K]) as never), 'emissions', /float32, got type "float64"/],
    ['int32 emissions', (crf) => crf.decode(ortTensor('int32', new Int32Array(B * T * K), [B, T, K]) as never), 'emissions', /float32, got type "int32"/],
    ['float32 tags', (crf) => crf.forward(em3(), ortTensor('float32', new Float32Array(B * T), [B, T]) as never), 'tags', /int64 or int32, got type "float32"/],
    [
      'a float32 mask',
      (crf) => crf.decode(em3(), { mask: ortTensor('float32', new Float32Array(B * T).fill(1), [B, T]) as never }),
      'mask',
      /got type "float32"/,
    ],
    ['an int64 mask of 2', (crf) => crf.decode(em3(), { mask: ortTensor('int64', new BigInt64Array(B * T).fill(2n), [B, T]) as never }), 'mask', /got 2/],
    // 2^32 + 1 wraps to 1, a valid tag, in an Int32Array: it must be refused, not read as 1.
    [
      'an int64 tag that would wrap to a valid one',
      (crf) => crf.forward(em3(), ortTensor('int64', new BigInt64Array(B * T).fill(2n ** 32n + 1n), [B, T]) as never),
      'tags',
      /got 4294967297/,
    ],
    ['dims longer than the data', (crf) => crf.decode(forged(base({ dims: () => [B, T + 1, K] })) as never), 'emissions', /data of length 72 .*got length 60/],
    ['dims shorter than the data', (crf) => crf.decode(forged(base({ dims: () => [B, T - 1, K] })) as never), 'emissions', /data of length 48 .*got length 60/],
    ['negative dims', (crf) => crf.decode(forged(base({ dims: () => [-B, -T, K] })) as never), 'emissions', /non-negative integer dims/],
    ['fractional dims', (crf) => crf.decode(forged(base({ dims: () => [1.5, 40, K] })) as never), 'emissions', /non-negative integer dims/],
    ['dims that are no array', (crf) => crf.decode(forged(base({ dims: () => 60 })) as never), 'emissions', /dims to be an array/],
    ['rank-2 emissions (one sequence)', (crf) => crf.decode(ortTensor('float32', em.subarray(0, T * K), [T, K]) as never), 'emissions', /shape: \[1, 5, 4\]/],
    [
      'data of another type than it claims',
      (crf) => crf.decode(forged(base({ data: () => Float64Array.from(em) })) as never),
      'emissions',
      /a Float32Array, got a Float64Array/,
    ],
    ['data that is a plain array', (crf) => crf.decode(forged(base({ data: () => Array.from(em) })) as never), 'emissions', /a Float32Array, got an array/],
    ['a type getter that throws', (crf) => crf.decode(forged(base({ type: boom })) as never), 'emissions', /getter threw/],
    ['a dims getter that throws', (crf) => crf.decode(forged(base({ dims: boom })) as never), 'emissions', /getter threw/],
    ['a data getter that throws', (crf) => crf.decode(forged(base({ data: boom })) as never), 'emissions', /getter threw/],
    ['a location getter that throws', (crf) => crf.decode(forged(base({ location: boom }), true) as never), 'emissions', /getter threw/],
    [
      'a mask whose data getter throws',
      (crf) => crf.decode(em3(), { mask: forged({ type: () => 'bool', dims: () => [B, T], data: boom, location: () => 'cpu' }) as never }),
      'mask',
      /getter threw/,
    ],
    [
      'a GPU tensor (its data getter throws, and is never called)',
      (crf) => crf.decode(forged(base({ location: () => 'gpu-buffer', data: () => expect.fail('data read') })) as never),
      'emissions',
      // A webgpu CRF takes GPU tensors (docs/gpu-inputs.md): this one's buffer is not a GPUBuffer.
      v.name === 'webgpu' ? /a GPUBuffer in the tensor/ : /location "gpu-buffer" \(.*getData\(\)/,
    ],
    [
      "onnxruntime-web's own GPU tensor",
      (crf) => crf.decode(ort.Tensor.fromGpuBuffer({ size: 240, usage: 0 } as never, { dataType: 'float32', dims: [B, T, K] }) as never),
      'emissions',
      v.name === 'webgpu' ? /GPUBuffer/ : /location "gpu-buffer"/,
    ],
    [
      'a disposed tensor',
      (crf) => {
        const t = ortTensor('float32', em.slice(), [B, T, K]);
        t.dispose();
        return crf.decode(t as never);
      },
      'emissions',
      /location "none" \(the tensor was disposed\)/,
    ],
  ];
  it.each(cases)('%s', async (_name, call, argument, message) => {
    const crf = await CRF.create(K, { backend: v.name, ...v.options, seed: 2 });
    const before = JSON.stringify([crf.stateDict(), await crf.decode(em3())]);
    const e = await inputError(() => call(crf));
    expect(e.argument).toBe(argument);
    expect(e.message).toMatch(/^\w+: expected .+, got .+/);
    expect(e.message).toMatch(message);
    expect(JSON.stringify([crf.stateDict(), await crf.decode(em3())])).toBe(before);
    crf.dispose();
  });
});

function em3() {
  return { data: em, shape: [B, T, K] };
}

describe('fuzz: tensors of any type, dims and data', () => {
  const types = ['float32', 'float16', 'float64', 'int32', 'int64', 'uint8', 'bool', 'string'];
  const arrays: Record<string, (n: number) => Data> = {
    float32: (n) => Float32Array.from({ length: n }, (_, i) => Math.cos(i)),
    float64: (n) => new Float64Array(n),
    int32: (n) => Int32Array.from({ length: n }, (_, i) => i % 2),
    int64: (n) => BigInt64Array.from({ length: n }, (_, i) => BigInt(i % 2)),
    uint8: (n) => Uint8Array.from({ length: n }, (_, i) => i % 2),
    uint16: (n) => new Uint16Array(n),
  };
  it('every op gives the { data, shape } result or a CRFInputError naming the argument, the instance unchanged', async () => {
    const crf = await CRF.create(3, { backend: 'js', seed: 5 });
    const before = JSON.stringify(crf.stateDict());
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('emissions', 'mask', 'tags'),
        fc.constantFrom(...types),
        fc.option(fc.array(fc.integer({ min: -1, max: 4 }), { minLength: 1, maxLength: 4 }), { freq: 2 }),
        fc.option(fc.constantFrom(...Object.keys(arrays)), { freq: 2 }),
        fc.option(fc.integer({ min: 0, max: 40 }), { freq: 2 }),
        fc.constantFrom('cpu', 'cpu', 'cpu', undefined, 'gpu-buffer', 'none'),
        async (slot, type, someDims, someKind, someN, location) => {
          const arrayKind = someKind ?? ({ bool: 'uint8', float16: 'uint16', string: 'float32' }[type] || type);
          // Mostly the dims and length the slot needs, so that the accepted forms are met too.
          const dims = someDims ?? (slot === 'emissions' ? [2, 3, 3] : [2, 3]);
          const data = arrays[arrayKind](
            someN ??
              Math.max(
                0,
                dims.reduce((a, d) => a * d, 1),
              ),
          );
          const t = forged({ type: () => type, dims: () => dims, data: () => data, location: () => location });
          const e = { data: Float32Array.from({ length: 2 * 3 * 3 }, (_, i) => Math.sin(i)), shape: [2, 3, 3] };
          const args = { emissions: e as unknown, mask: undefined as unknown, tags: { data: new Int32Array(6), shape: [2, 3] } as unknown };
          args[slot] = t;
          const asPlain = { ...args };
          // The same data as { data, shape }, int64 included (taken for tags and masks as a tensor's is).
          asPlain[slot] = { data, shape: dims };
          const run = (a: typeof args) => crf.forward(a.emissions as never, a.tags as never, { mask: a.mask as never, reduction: 'none' });
          try {
            const got = await run(args);
            // Accepted: then it was a CPU tensor of an accepted type whose data is what its type says.
            expect(location === 'cpu' || location === undefined).toBe(true);
            accepted++;
            expect(await run(asPlain)).toEqual(got);
          } catch (err) {
            expect(err).toBeInstanceOf(CRFInputError);
            expect([slot, 'emissions', 'tags', 'mask']).toContain((err as CRFInputError).argument);
          }
          expect(JSON.stringify(crf.stateDict())).toBe(before);
        },
      ),
      { numRuns: 300, seed: 2012 },
    );
    expect(accepted).toBeGreaterThan(3);
  });
});

describe('a polluted Object.prototype', () => {
  it.each(['shape', 'type', 'dims', 'location'])('with %s on it, tensors and arrays read as before', async (key) => {
    const crf = await CRF.create(K, { backend: 'js', seed: 3 });
    const plain = { data: em, shape: [B, T, K] };
    const nested = Array.from({ length: B }, (_, b) => Array.from({ length: T }, (_, t) => Array.from(em.subarray((b * T + t) * K, (b * T + t + 1) * K))));
    const want = await crf.decode(plain);
    const proto = Object.prototype as Record<string, unknown>;
    proto[key] = key === 'dims' ? [B, T, K] : key === 'shape' ? [B, T, K] : key === 'type' ? 'float32' : 'gpu-buffer';
    try {
      expect(await crf.decode(ortTensor('float32', em, [B, T, K]) as never)).toEqual(want);
      expect(await crf.decode(new TransformersTensor(ortTensor('float32', em, [B, T, K])) as never)).toEqual(want);
      expect(await crf.decode(nested)).toEqual(want);
      expect(await crf.decode(plain)).toEqual(want);
    } finally {
      delete proto[key];
    }
  });
});
