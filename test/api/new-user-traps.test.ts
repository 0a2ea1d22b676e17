// The obvious calls of a new user, from Python (pytorch-crf, torch) or from another JavaScript tensor
// library, either work or fail at once with a CRFInputError that says what to write instead: `new CRF(K)`,
// a mask passed by position, one sentence without its batch, a tensor of TensorFlow.js, a tensor of
// onnxruntime-web or transformers.js in the wrong place (where they belong, they are read as they come:
// test/interop/model-tensors.test.ts), tags padded with -100. On every backend, and the instance unchanged.
import { describe, expect, it } from 'vitest';
import * as lib from '../../src/index.js';
import { CRF, maskFromTags } from '../../src/index.js';
import { availableBackends } from '../backends.js';
import { inputError, SMALL_EMISSIONS } from '../helpers.js';

const backends = [
  ...(await availableBackends()),
  // Reading the arguments happens before any thread sees them; the large forward below is split across two.
  { name: 'wasm' as const, options: { threads: 2 }, label: 'wasm+threads' },
].map((b) => ({ label: 'label' in b ? b.label : b.name, name: b.name, options: b.options }));

const K = 3;
const nested = SMALL_EMISSIONS;
const flat = Float32Array.from(nested.flat(2));
const tags = [
  [0, 1, 2],
  [2, 2, -100],
];
const mask = [
  [1, 1, 1],
  [1, 1, 0],
];

/** onnxruntime-web's Tensor: `dims`, `type`, and the values behind a getter (they may live on a GPU). */
class OrtTensor<D extends Float32Array | Int32Array | Uint8Array | BigInt64Array> {
  readonly #data: D;
  constructor(
    readonly type: string,
    data: D,
    readonly dims: readonly number[],
  ) {
    this.#data = data;
  }
  get data() {
    return this.#data;
  }
  get location() {
    return 'cpu';
  }
  get size() {
    return this.#data.length;
  }
  getData() {
    return Promise.resolve(this.#data);
  }
}

/** transformers.js's Tensor: getters over an onnxruntime Tensor, behind a Proxy that answers integer keys with sub-tensors. */
function transformersTensor(type: string, data: Float32Array, dims: number[]) {
  const inner = new OrtTensor(type, data, dims);
  const t = {
    ort_tensor: inner,
    get dims() {
      return inner.dims;
    },
    get type() {
      return inner.type;
    },
    get data() {
      return inner.data;
    },
    get size() {
      return inner.size;
    },
    tolist: () => nested,
  };
  return new Proxy(t, {
    get: (obj, key) => (typeof key === 'string' && Number.isInteger(Number(key)) ? transformersTensor(type, data.subarray(0, 1), [1]) : Reflect.get(obj, key)),
  });
}

/** TensorFlow.js's Tensor: `shape`, `dtype`, a `dataId`; the values only through methods (async data(), dataSync(), array()). */
class TfTensor {
  readonly size: number;
  readonly strides: number[];
  readonly dataId = {};
  readonly id = 7;
  readonly kept = false;
  readonly #values: Float32Array | Int32Array;
  constructor(
    values: Float32Array | Int32Array,
    readonly shape: number[],
    readonly dtype = 'float32',
  ) {
    this.#values = values;
    this.size = values.length;
    this.strides = shape.slice(1);
  }
  get rank() {
    return this.shape.length;
  }
  data() {
    return Promise.resolve(this.#values);
  }
  dataSync() {
    return this.#values;
  }
  array() {
    return Promise.resolve(nested);
  }
}

async function teaches(call: () => unknown, argument: string, advice: RegExp) {
  const e = await inputError(call);
  expect(e.argument).toBe(argument);
  expect(e.message).toMatch(/expected .*, got /);
  expect(e.message).toMatch(advice);
  return e;
}

describe('new CRF(K), the habit of pytorch-crf', () => {
  it('throws at once, pointing to await CRF.create(numTags)', async () => {
    const Ctor = CRF as unknown as new (...args: unknown[]) => CRF;
    for (const args of [[3], [], [3, { batchFirst: true }]]) {
      const e = await teaches(() => new Ctor(...args), 'new CRF', /await CRF\.create\(numTags(, options)?\)/);
      if (args.length) expect(e.message).toContain(`new CRF(${args[0]}`);
    }
    // A subclass inherits the guard.
    class Mine extends (CRF as unknown as new (...args: unknown[]) => object) {}
    await teaches(() => new Mine(3), 'new CRF', /CRF\.create/);
  });

  it('every public class either refuses a plain construction or builds an object whose members all work', () => {
    const classes = Object.entries(lib).filter(([, v]) => typeof v === 'function' && /^class\b/.test(Function.prototype.toString.call(v)));
    expect(classes.map(([name]) => name).sort()).toEqual(['Adam', 'AutomaticWeightedLoss', 'CRF', 'CRFInputError', 'WasmLoadError']);
    for (const [name, C] of classes) {
      for (const args of [[], [3], [3, {}]]) {
        let obj: object;
        try {
          obj = new (C as new (...a: unknown[]) => object)(...args);
        } catch {
          // Refused at once: nothing half-built reaches the caller.
          continue;
        }
        // Built: every getter and field of it can be read (a half-built CRF threw TypeErrors here).
        for (let p: object | null = obj; p && p !== Object.prototype && p !== Error.prototype; p = Object.getPrototypeOf(p)) {
          for (const key of Object.getOwnPropertyNames(p)) {
            const d = Object.getOwnPropertyDescriptor(p, key)!;
            if (d.get) expect(() => d.get!.call(obj), `${name}(${args.join(', ')}).${key}`).not.toThrow();
          }
        }
      }
    }
  });

  it.each(backends.map((b) => [b.label, b] as const))('%s: CRF.create still builds a working CRF', async (_label, b) => {
    const crf = await CRF.create(K, { backend: b.name, ...b.options, seed: 1 });
    expect(crf.backend).toBe(b.name);
    expect((await crf.decode(nested)).length).toBe(2);
    crf.dispose();
  });
});

describe('maskFromTags: every negative tag is padding unless padValue says otherwise', () => {
  it('the README\'s "padded with -1 (or -100)": both are off by default', () => {
    const t = [
      [4, 3, -100],
      [1, -1, -1],
      [0, -7, 2],
    ];
    expect(maskFromTags(t)).toEqual(t.map((row) => row.map((y) => y >= 0)));
    expect(maskFromTags({ data: Int32Array.of(0, -100, 5, -1), shape: [2, 2] })).toEqual([
      [true, false],
      [true, false],
    ]);
  });

  it('an explicit padValue means exactly that value (a partial annotation keeps -1 for "unknown")', () => {
    const t = [[0, -1, -100, 4]];
    expect(maskFromTags(t, -100)).toEqual([[true, true, false, true]]);
    expect(maskFromTags(t, -1)).toEqual([[true, false, true, true]]);
    expect(maskFromTags([[0, 9, 2]], 9)).toEqual([[true, false, true]]);
  });

  it('a padValue that no tag can equal, or a label that is no integer, is refused rather than turned on', async () => {
    for (const pad of [NaN, 1.5, Infinity, '-1', null]) await teaches(() => maskFromTags(tags, pad as number), 'padValue', /an integer/);
    for (const bad of [NaN, 0.5, '1', null, undefined, true, 1n]) await teaches(() => maskFromTags([[0, bad as number]]), 'tags', /\[0\]\[1\]/);
  });

  it.each(backends.map((b) => [b.label, b] as const))(
    '%s: forward with maskFromTags(tags) of -100-padded tags equals forward with the mask built by hand',
    async (_label, b) => {
      const js = await CRF.create(K, { backend: 'js', seed: 4 });
      const crf = await CRF.create(K, { backend: b.name, ...b.options });
      crf.loadStateDict(js.stateDict());
      const want = (await js.forward(nested, tags, { mask, reduction: 'none' })) as Float32Array;
      const got = (await crf.forward(nested, tags, { mask: maskFromTags(tags), reduction: 'none' })) as Float32Array;
      const tol = b.name === 'js' ? 0 : 1e-5;
      got.forEach((v, i) => expect(Math.abs(v - want[i])).toBeLessThanOrEqual(tol));
      // A batch large enough to be split across threads, padded with -100 at random.
      const B = 300,
        T = 64;
      const len = Array.from({ length: B }, (_, i) => 1 + ((i * 37) % T));
      const bigTags = Array.from({ length: B }, (_, i) => Array.from({ length: T }, (_, t) => (t < len[i] ? (i + t) % K : -100)));
      const bigEm = { data: Float32Array.from({ length: B * T * K }, (_, i) => Math.sin(i)), shape: [B, T, K] };
      const byHand = bigTags.map((row) => row.map((y) => y !== -100));
      const want2 = (await js.forward(bigEm, bigTags, { mask: byHand, reduction: 'none' })) as Float32Array;
      const got2 = (await crf.forward(bigEm, bigTags, { mask: maskFromTags(bigTags), reduction: 'none' })) as Float32Array;
      got2.forEach((v, i) => expect(Math.abs(v - want2[i])).toBeLessThanOrEqual(b.name === 'js' ? 0 : 1e-4 * Math.max(1, Math.abs(want2[i]))));
      crf.dispose();
    },
  );
});

describe('errors that say what to write instead', () => {
  describe.each(backends.map((b) => [b.label, b] as const))('%s', (_label, b) => {
    const cases: [string, (crf: CRF) => unknown, string, RegExp][] = [
      ['decode(emissions, mask)', (crf) => crf.decode(nested, mask as never), 'options', /\{ mask \}/],
      ['decode(emissions, Uint8Array mask)', (crf) => crf.decode(nested, Uint8Array.of(1, 1, 1, 1, 1, 0) as never), 'options', /\{ mask \}/],
      [
        'decode(emissions, { data, shape } mask)',
        (crf) => crf.decode(nested, { data: Uint8Array.of(1, 1, 1, 1, 1, 0), shape: [2, 3] } as never),
        'options',
        /\{ mask \}/,
      ],
      ['forward(emissions, tags, mask)', (crf) => crf.forward(nested, tags, mask as never), 'options', /\{ mask \}/],
      ['forward(emissions, tags, "mean")', (crf) => crf.forward(nested, tags, 'mean' as never), 'options', /\{ reduction: 'mean' \}/],
      ['forwardBackward(emissions, tags, mask)', (crf) => crf.forwardBackward(nested, tags, mask as never), 'options', /\{ mask \}/],
      ['logPartition(emissions, mask)', (crf) => crf.logPartition(nested, mask as never), 'options', /\{ mask \}/],
      ['marginals(emissions, mask)', (crf) => crf.marginals(nested, mask as never), 'options', /\{ mask \}/],
      ['entropy(emissions, mask)', (crf) => crf.entropy(nested, mask as never), 'options', /\{ mask \}/],
      [
        'decode(emissions, a Promise of the options) (read as no options before)',
        (crf) => crf.decode(nested, Promise.resolve({ mask }) as never),
        'options',
        /await it/,
      ],
      [
        'forward(emissions, tags, an onnxruntime bool mask)',
        (crf) => crf.forward(nested, tags, new OrtTensor('bool', Uint8Array.of(1, 1, 1, 1, 1, 0), [2, 3]) as never),
        'options',
        /pass it by name, \{ mask: t \}/,
      ],
      ['decode(emissions, 3) for the top 3', (crf) => crf.decode(nested, 3 as never), 'options', /\{ topK: 3 \}/],
      ['forward(emissions, { mask }) without tags', (crf) => crf.forward(nested, { mask } as never), 'tags', /forward\(emissions, tags, \{ mask/],
      ['one sentence [seq, tags]', (crf) => crf.decode(nested[0] as never), 'emissions', /\[emissions\]/],
      ['one sentence as { data, shape: [seq, tags] }', (crf) => crf.decode({ data: flat.subarray(0, 9), shape: [3, 3] }), 'emissions', /shape: \[1, 3, 3\]/],
      ['flat values with no shape', (crf) => crf.decode(flat as never), 'emissions', /\{ data, shape: \[batch, seq, tags\] \}/],
      ["one sentence's tags", (crf) => crf.forward([nested[0]], tags[0] as never), 'tags', /\[tags\]/],
      ["one sentence's mask", (crf) => crf.decode([nested[0]], { mask: mask[0] as never }), 'mask', /\[mask\]/],
      [
        'an onnxruntime-web Tensor of one sentence',
        (crf) => crf.decode(new OrtTensor('float32', flat.subarray(0, 9), [3, 3]) as never),
        'emissions',
        /\{ data: t\.data, shape: \[1, 3, 3\] \}/,
      ],
      [
        'a float16 transformers.js Tensor',
        (crf) => crf.decode(transformersTensor('float16', flat, [2, 3, 3]) as never),
        'emissions',
        /float32.*Cast to float32/,
      ],
      [
        'a tf.Tensor',
        (crf) => crf.decode(new TfTensor(flat, [2, 3, 3]) as never),
        'emissions',
        /tf\.Tensor.*\{ data: await t\.data\(\), shape: t\.shape \}, or use the CRF of 'webcrf\/tfjs'/,
      ],
      ['a tf.Tensor of one sentence', (crf) => crf.decode(new TfTensor(flat.subarray(0, 9), [3, 3]) as never), 'emissions', /shape: \[1, \.\.\.t\.shape\]/],
      [
        'a tf.Tensor that typeof calls a function',
        (crf) => crf.decode(Object.assign(() => nested, { shape: [2, 3, 3], dtype: 'float32', dataId: {}, dataSync: () => flat }) as never),
        'emissions',
        /tf\.Tensor.*\{ data: await t\.data\(\), shape: t\.shape \}/,
      ],
      [
        'a tf.Tensor data method not called',
        (crf) => crf.decode({ data: new TfTensor(flat, [2, 3, 3]).data, shape: [2, 3, 3] } as never),
        'emissions',
        /call it/,
      ],
      ['a Promise of emissions', (crf) => crf.decode(new TfTensor(flat, [2, 3, 3]).array() as never), 'emissions', /await/],
      ['data that is a Promise', (crf) => crf.decode({ data: new TfTensor(flat, [2, 3, 3]).data() as never, shape: [2, 3, 3] }), 'emissions', /await/],
      [
        'an int64 mask with a 2 in it, handed over as its data: the value and where',
        (crf) => crf.decode(nested, { mask: { data: BigInt64Array.of(1n, 1n, 1n, 1n, 2n, 0n), shape: [2, 3] } }),
        'mask',
        /expected 0, 1, true or false at \[1\]\[1\], got 2$/,
      ],
      [
        'int64 tags out of range handed over as their data: the value and where',
        (crf) => crf.forward(nested, { data: BigInt64Array.of(0n, 1n, 2n, 2n, 7n, 0n), shape: [2, 3] }),
        'tags',
        /\[0, 2\].*at \[1\]\[1\], got 7$/,
      ],
      [
        'tags as a tf.Tensor',
        (crf) => crf.forward(nested, new TfTensor(Int32Array.of(0, 1, 2, 2, 2, 0), [2, 3], 'int32') as never),
        'tags',
        /await t\.data\(\)/,
      ],
      [
        'allowed as a tf.Tensor',
        (crf) =>
          crf.decode(nested, {
            allowed: new TfTensor(
              Int32Array.from(flat, () => 1),
              [2, 3, 3],
              'bool',
            ) as never,
          }),
        'allowed',
        /await t\.data\(\)/,
      ],
      [
        "decode's options handed to viterbiDecode, whose mask goes by position",
        (crf) => crf.viterbiDecode(nested, { mask } as never),
        'mask',
        /viterbiDecode\(emissions, mask\).*got an options object \{ mask \}$/,
      ],
      ["decode's topK handed to viterbiDecode", (crf) => crf.viterbiDecode(nested, { topK: 2 } as never), 'mask', /got an options object \{ topK \}$/],
      ['booleans where tags go (a mask?)', (crf) => crf.forward(nested, mask.map((r) => r.map(Boolean)) as never), 'tags', /\{ mask \}/],
    ];
    it.each(cases)('%s', async (_name, call, argument, advice) => {
      const crf = await CRF.create(K, { backend: b.name, ...b.options, seed: 2 });
      const before = JSON.stringify([crf.stateDict(), await crf.decode(nested)]);
      await teaches(() => call(crf), argument, advice);
      expect(JSON.stringify([crf.stateDict(), await crf.decode(nested)])).toBe(before);
      crf.dispose();
    });

    it('the rewrites the messages suggest give the same results as nested arrays, and so do the tensors of onnxruntime and transformers.js as they are', async () => {
      const crf = await CRF.create(K, { backend: b.name, ...b.options, seed: 2 });
      const want = await crf.decode(nested, { mask });
      const ortMask = new OrtTensor('bool', Uint8Array.from(mask.flat()), [2, 3]);
      expect(await crf.decode(new OrtTensor('float32', flat, [2, 3, 3]) as never, { mask: ortMask as never })).toEqual(want);
      expect(await crf.decode(transformersTensor('float32', flat, [2, 3, 3]) as never, { mask: ortMask as never })).toEqual(want);
      const int64Tags = new OrtTensor('int64', BigInt64Array.from(tags.flat(), BigInt), [2, 3]);
      expect(await crf.forward(nested, int64Tags as never, { mask })).toBe(await crf.forward(nested, tags, { mask }));
      // int64 tags and masks as their data (a PyTorch export's labels), as a tensor's are taken.
      const int64Mask = { data: BigInt64Array.from(mask.flat(), (m) => BigInt(m)), shape: [2, 3] };
      for (const data of [BigInt64Array.from(tags.flat(), BigInt), BigUint64Array.from(tags.flat(), BigInt)]) {
        expect(await crf.forward(nested, { data, shape: [2, 3] }, { mask: int64Mask })).toBe(await crf.forward(nested, tags, { mask }));
      }
      const ort = new OrtTensor('float32', flat, [2, 3, 3]);
      expect(await crf.decode({ data: ort.data, shape: ort.dims }, { mask })).toEqual(want);
      const hf = transformersTensor('float32', flat, [2, 3, 3]);
      expect(await crf.decode({ data: hf.data, shape: hf.dims }, { mask })).toEqual(want);
      const tf = new TfTensor(flat, [2, 3, 3]);
      expect(await crf.decode({ data: await tf.data(), shape: tf.shape }, { mask })).toEqual(want);
      const one = new OrtTensor('float32', flat.subarray(0, 9), [3, 3]);
      expect(await crf.decode({ data: one.data, shape: [1, ...one.dims] })).toEqual(await crf.decode([nested[0]]));
      expect(await crf.decode([nested[0]])).toEqual([want[0]]);
      crf.dispose();
    });
  });

  it('time-major CRFs suggest the time-major rewrite of one sentence, and it works', async () => {
    const crf = await CRF.create(K, { backend: 'js', batchFirst: false, seed: 6 });
    await teaches(() => crf.decode(nested[0] as never), 'emissions', /emissions\.map\(\(step\) => \[step\]\)/);
    await teaches(() => crf.decode({ data: flat.subarray(0, 9), shape: [3, 3] }), 'emissions', /shape: \[3, 1, 3\]/);
    const bf = await CRF.create(K, { backend: 'js', seed: 6 });
    const want = await bf.decode([nested[0]]);
    expect(await crf.decode(nested[0].map((step) => [step]))).toEqual(want);
    expect(await crf.decode({ data: flat.subarray(0, 9), shape: [3, 1, 3] })).toEqual(want);
  });

  it('CRF.create(K, true), the positional batch_first of pytorch-crf, says { batchFirst: true }', async () => {
    await teaches(() => CRF.create(K, true as never), 'options', /\{ batchFirst: true \}/);
    await teaches(() => CRF.create(K, 'wasm' as never), 'options', /\{ backend: 'wasm' \}/);
  });
});
