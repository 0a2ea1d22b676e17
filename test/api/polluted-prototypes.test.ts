// Object.prototype carrying a key the package reads (`Object.prototype.mask = [[0, 0]]`, by a library or
// a prototype-pollution bug) must change no result: options, state dicts, constraints, `{ data, shape }`
// inputs, partial annotations, safetensors tensors and metadata are read through their own properties
// only. Each public function runs once clean and once with Object.prototype and Array.prototype
// polluted with every option name the source reads (scanned from it, so a new option is covered when
// it is added) and every key of the inputs; the two runs must agree exactly. The prototypes are
// restored before anything is compared.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Adam,
  AutomaticWeightedLoss,
  CRF,
  type CRFOptions,
  allowedFromTags,
  allowedTransitions,
  clipGradNorm,
  crossEntropy,
  maskFromTags,
  parseSafetensors,
  tensorValues,
  writeSafetensors,
} from '../../src/index.js';
import { threadsTuning } from '../../src/backends/wasm/threads/backend.js';
import { availableBackends } from '../backends.js';
import { inputError, SMALL_EMISSIONS, SMALL_TAGS } from '../helpers.js';

const K = 3,
  B = 2,
  T = 3;

/** Every name in an option list of the source: `readOptions(o, arg, [...])` calls and `*_OPTIONS = [...]` lists. */
function optionNames(): string[] {
  const names = new Set<string>();
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      else if (path.endsWith('.ts')) {
        const text = readFileSync(path, 'utf8');
        for (const m of text.matchAll(/(?:readOptions\([^;]*?|_OPTIONS\s*=\s*)\[([^\]]*)\]/g)) for (const s of m[1].matchAll(/'(\w+)'/g)) names.add(s[1]);
      }
    }
  };
  walk(new URL('../../src', import.meta.url).pathname);
  return [...names];
}

const onlyTag0 = () => Array.from({ length: B }, () => Array.from({ length: T }, () => [true, false, false]));
const diagonal = () => Array.from({ length: K }, (_, i) => Array.from({ length: K }, (_, j) => i === j));

/**
 * What each key is polluted with: values that a read would notice (a different result or an error).
 * Keys the source reads that are missing here get an object that no option accepts.
 */
const POLLUTION: Record<string, unknown> = {
  mask: Array.from({ length: B }, () => new Array(T).fill(0)),
  reduction: 'none',
  batchFirst: false,
  backend: 'js',
  seed: 7,
  constraints: diagonal(),
  threads: 2,
  device: {},
  wasmModule: {},
  webgpuMinWork: -1,
  topK: 2,
  allowed: onlyTag0(),
  prefix: 'polluted.',
  metadata: { polluted: 'yes' },
  lr: 0.5,
  betas: [0.5, 0.5],
  eps: 1,
  weightDecay: 0.5,
  amsgrad: true,
  maximize: true,
  normType: 1,
  ignoreIndex: 0,
  unknown: 0,
  // The keys of inputs and containers.
  data: new Float32Array(B * T * K).fill(5),
  shape: [B, T, K],
  transitions: diagonal(),
  start: [true, false, false],
  end: [false, false, true],
  startTransitions: [1, 1, 1],
  endTransitions: [1, 1, 1],
  start_transitions: [9, 9, 9],
  end_transitions: [9, 9, 9],
  start_trans: [9, 9, 9],
  end_trans: [9, 9, 9],
  trans_matrix: new Array(K * K).fill(9),
  dtype: 'F64',
  bytes: new Uint8Array(8),
  toJSON() {
    return 'polluted';
  },
};

const KEYS = [...new Set([...optionNames(), ...Object.keys(POLLUTION)])];

/**
 * Members of the package's own objects that some of them leave out: an op's spec (`block`, `slice`,
 * `workArg`), a GPU program (`fixed`, `maxT`, `release`), a thread runtime (`ready`), a backend
 * (`memoryUsage`). Object.prototype only (Array.prototype.slice is the language's). Each value changes
 * a result or throws when read through the prototype.
 */
const INTERNAL: Record<string, unknown> = {
  block: () => 3,
  slice: () => ({ polluted: 'slice' }),
  workArg: () => 2 ** 30,
  fixed: () => 2 ** 40,
  maxT: 0,
  release() {
    throw new Error('an inherited release was called');
  },
  ready: () => Promise.reject(new Error('an inherited ready was called')),
  memoryUsage: () => ({ wasmBytes: -1, gpuBytes: -1 }),
};

/** Runs `body` with both prototypes polluted with every key, restoring them whatever happens. */
async function polluted<R>(body: () => Promise<R>): Promise<R> {
  const protos = [Object.prototype, Array.prototype] as Record<string, unknown>[];
  const saved = protos.map((p) => KEYS.map((k) => Object.getOwnPropertyDescriptor(p, k)));
  const internal = Object.keys(INTERNAL).map((k) => Object.getOwnPropertyDescriptor(Object.prototype, k));
  try {
    for (const p of protos) for (const k of KEYS) p[k] = Object.hasOwn(POLLUTION, k) ? POLLUTION[k] : { polluted: k };
    for (const [k, v] of Object.entries(INTERNAL)) (Object.prototype as Record<string, unknown>)[k] = v;
    return await body();
  } finally {
    Object.keys(INTERNAL).forEach((k, i) => {
      const d = internal[i];
      if (d) Object.defineProperty(Object.prototype, k, d);
      else delete (Object.prototype as Record<string, unknown>)[k];
    });
    protos.forEach((p, n) =>
      KEYS.forEach((k, i) => {
        const d = saved[n][i];
        if (d) Object.defineProperty(p, k, d);
        else delete p[k];
      }),
    );
  }
}

/** A result in comparable form: typed arrays as arrays, errors as their class, argument and message. */
function plain(x: unknown): unknown {
  if (x instanceof Error) return { error: x.name, argument: (x as { argument?: string }).argument, message: x.message };
  if (ArrayBuffer.isView(x)) return Array.from(x as unknown as ArrayLike<number>);
  if (x instanceof Map) return [...x].map(([k, v]) => [k, plain(v)]);
  if (Array.isArray(x)) return x.map(plain);
  if (x !== null && typeof x === 'object') return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, plain(v)]));
  return x;
}

/** Each call's result (or the error it threw), in order; no call is skipped by an earlier failure. */
async function outcomes(calls: [string, () => unknown][]): Promise<[string, unknown][]> {
  const out: [string, unknown][] = [];
  for (const [name, call] of calls) {
    try {
      out.push([name, plain(await call())]);
    } catch (e) {
      out.push([name, plain(e)]);
    }
  }
  return out;
}

/** An array-like that is no Array: a valid nested input that `'data' in x` would take for `{ data, shape }`. */
function arrayLike<T>(rows: T[]): ArrayLike<T> {
  return Object.assign({ length: rows.length }, rows);
}

const em = SMALL_EMISSIONS;
const tags = SMALL_TAGS;
const sd = {
  start_transitions: [0.1, -0.2, 0.3],
  end_transitions: [-0.1, 0.2, 0.05],
  transitions: [
    [0.1, 0.2, -0.3],
    [0, 0.5, -0.5],
    [0.25, -0.25, 0],
  ],
};

/**
 * Every op of `crf` (made with `options`, clean, so that each call below stands alone), every reader
 * and writer of its parameters, and CRF.create and fromSafetensors with those options.
 */
function crfCalls(crf: CRF, options: CRFOptions): [string, () => unknown][] {
  const shaped = { data: Float32Array.from(em.flat(2)), shape: [B, T, K] };
  const constraints = { transitions: diagonal().map((r) => r.map((v, j) => v || j === 0)) };
  const matrix = arrayLike(constraints.transitions);
  return [
    ['create', () => made(CRF.create(K, { seed: 3, ...options }), (c) => [c.backend, c.batchFirst, c.backendReason, c.stateDict()])],
    ['loadStateDict', () => crf.loadStateDict(sd)],
    ['stateDict', () => crf.stateDict()],
    ['parameters', () => crf.parameters()],
    ['forward', () => crf.forward(em, tags)],
    ['forward shaped', () => crf.forward(shaped, { data: Int32Array.from(tags.flat()), shape: [B, T] })],
    ['forward array-likes', () => crf.forward(arrayLike(em), arrayLike(tags), { mask: arrayLike([arrayLike([1, 1, 0]), arrayLike([1, 0, 1])]) })],
    ['forward mean', () => crf.forward(em, tags, { reduction: 'mean' })],
    ['forward partial', () => crf.forward(em, { allowed: onlyTag0() })],
    ['forwardBackward', () => crf.forwardBackward(em, tags)],
    ['forwardBackward partial', () => crf.forwardBackward(em, { allowed: onlyTag0() })],
    ['decode', () => crf.decode(em)],
    ['decode array-like', () => crf.decode(arrayLike(em))],
    ['decode topK', () => crf.decode(em, { topK: 3 })],
    ['decode constraints', () => crf.decode(em, { constraints })],
    ['decode array-like constraints', () => crf.decode(em, { constraints: matrix })],
    ['decode allowed', () => crf.decode(em, { allowed: onlyTag0() })],
    ['viterbiDecode', () => crf.viterbiDecode(em)],
    ['logPartition', () => crf.logPartition(em)],
    ['marginals', () => crf.marginals(em)],
    ['entropy', () => crf.entropy(em)],
    ['entropy allowed', () => crf.entropy(em, { allowed: onlyTag0() })],
    ['memoryUsage', () => crf.memoryUsage()],
    ['toSafetensors', () => parseSafetensors(crf.toSafetensors())],
    [
      'fromSafetensors',
      async () => {
        const back = await CRF.fromSafetensors(crf.toSafetensors(), { seed: 1, ...options });
        back.dispose();
        return [back.backend, back.batchFirst, back.stateDict()];
      },
    ],
  ];
}

/** What `read` gives of a CRF, which is then disposed. */
async function made<R>(create: Promise<CRF>, read: (c: CRF) => R): Promise<Awaited<R>> {
  const crf = await create;
  try {
    return await read(crf);
  } finally {
    crf.dispose();
  }
}

/** The functions that take no CRF, and CRF.create with its defaults. */
function freeCalls(): [string, () => unknown][] {
  const file = writeSafetensors({ 'crf.start_transitions': { shape: [K], data: sd.start_transitions } }, { note: 'x' });
  return [
    ['create defaults', () => made(CRF.create(K, { seed: 1 }), (c) => [c.backend, c.batchFirst, c.backendReason])],
    // Two unseeded instances alike: a seed was read from somewhere. (Compared value by value: JSON.stringify
    // would call the polluted toJSON.)
    [
      'create unseeded',
      async () => {
        const [a, b] = [await made(CRF.create(K), (c) => Array.from(c.transitions)), await made(CRF.create(K), (c) => Array.from(c.transitions))];
        return a.every((v, i) => v === b[i]);
      },
    ],
    ['create with constraints', () => made(CRF.create(K, { seed: 1, constraints: { transitions: diagonal() } }), (c) => c.decode(em))],
    ['allowedTransitions', () => allowedTransitions('BIO', ['O', 'B-X', 'I-X'])],
    ['allowedFromTags', () => allowedFromTags([[0, -1, [1, 2]]], K)],
    ['maskFromTags', () => maskFromTags([[1, 0, -1]])],
    [
      'Adam',
      () => {
        const p = { w: Float32Array.of(1, -2, 3) };
        new Adam(p).step({ w: [0.5, 0.5, -1] });
        return p.w;
      },
    ],
    [
      'Adam without a gradient',
      () => {
        const p = { startTransitions: new Float32Array(K) };
        new Adam(p).step({} as never);
        return p.startTransitions;
      },
    ],
    ['clipGradNorm', () => clipGradNorm({ a: Float64Array.of(3, 4) }, 1)],
    [
      'crossEntropy',
      () =>
        crossEntropy(
          [
            [2, 1, 0],
            [0, 1, 2],
          ],
          [0, 2],
        ),
    ],
    ['AutomaticWeightedLoss', () => new AutomaticWeightedLoss(2).forward([1, 2])],
    ['writeSafetensors', () => parseSafetensors(writeSafetensors({ w: { shape: [2], data: [1, 2] } }))],
    ['parseSafetensors', () => parseSafetensors(file)],
    ['tensorValues', () => tensorValues(parseSafetensors(file).tensors.get('crf.start_transitions')!)],
  ];
}

/** The outcomes of `calls` clean and polluted must be equal; `calls` makes what they need afresh each time. */
async function compare(calls: () => Promise<[string, () => unknown][]>) {
  const members = () => [Object.prototype, Array.prototype].map((p) => Object.getOwnPropertyNames(p).join());
  const before = members();
  const clean = await outcomes(await calls());
  const cs = await calls();
  const dirty = await polluted(() => outcomes(cs));
  expect(members()).toEqual(before);
  // Every call that differs, named, with both outcomes.
  const differ = clean.flatMap(([name, want], i) => (isDeepStrictEqual(dirty[i][1], want) ? [] : [{ name, clean: want, polluted: dirty[i][1] }]));
  expect(differ).toEqual([]);
}

describe('a polluted Object.prototype changes no result', async () => {
  const backends = [...(await availableBackends())];
  const wasm = backends.find((b) => b.name === 'wasm');
  const all = [...backends.map((b) => ({ label: b.name as string, options: { backend: b.name, ...b.options } as CRFOptions }))];
  if (wasm) all.push({ label: 'wasm with threads', options: { backend: 'wasm', threads: 2 } });
  let savedForce: typeof threadsTuning.force = null;
  beforeAll(() => {
    savedForce = threadsTuning.force;
    // Every call of the threaded instance is split across both threads, however small.
    threadsTuning.force = 'split';
  });
  afterAll(() => {
    threadsTuning.force = savedForce;
  });

  it('the source has option lists to pollute with', () => {
    expect(KEYS).toEqual(
      expect.arrayContaining(['mask', 'reduction', 'batchFirst', 'topK', 'allowed', 'constraints', 'threads', 'prefix', 'metadata', 'normType']),
    );
  });

  it.each(all)('every op and parameter reader on $label', async ({ options }) => {
    const instances: CRF[] = [];
    try {
      await compare(async () => {
        const crf = await CRF.create(K, { seed: 3, ...options });
        instances.push(crf);
        return crfCalls(crf, options);
      });
    } finally {
      for (const c of instances) c.dispose();
    }
  });

  it('CRF.create with its defaults, the helpers and the safetensors functions', async () => {
    await compare(async () => freeCalls());
  });
});

describe('keys named like Object.prototype members are plain keys', () => {
  const odd = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'];
  /** An object with these own keys (an object literal would set the prototype for __proto__). */
  const own = (value: (k: string) => unknown) => Object.fromEntries(odd.map((k) => [k, value(k)])) as Record<string, never>;

  it('metadata keys survive toSafetensors and parseSafetensors', async () => {
    const crf = await CRF.create(K, { backend: 'js', seed: 1 });
    const metadata = own((k) => `value of ${k}`);
    const back = parseSafetensors(crf.toSafetensors({ metadata })).metadata!;
    expect(Object.keys(back)).toEqual(odd);
    for (const k of odd) expect(Object.getOwnPropertyDescriptor(back, k)?.value).toBe(`value of ${k}`);
    expect(Object.getPrototypeOf(back)).toBe(null);
  });

  it('tensor names survive writeSafetensors and parseSafetensors', () => {
    const file = writeSafetensors(own((k) => ({ shape: [1], data: [k.length] })));
    const back = parseSafetensors(file).tensors;
    expect([...back.keys()]).toEqual(odd);
    for (const k of odd) expect(Array.from(tensorValues(back.get(k)!))).toEqual([k.length]);
  });

  it('are refused as options, state-dict keys and constraint keys, naming them', async () => {
    const crf = await CRF.create(K, { backend: 'js', seed: 1 });
    for (const k of odd) {
      const one = JSON.parse(`{${JSON.stringify(k)}: 1}`) as Record<string, never>;
      expect((await inputError(() => crf.decode(em, one))).message).toContain(`unknown option ${JSON.stringify(k)}`);
      expect((await inputError(() => CRF.create(K, one))).message).toContain(`unknown option ${JSON.stringify(k)}`);
      expect((await inputError(() => crf.loadStateDict({ ...sd, ...one }))).message).toContain(`unexpected key ${JSON.stringify(k)}`);
      expect((await inputError(() => crf.decode(em, { constraints: { transitions: diagonal(), ...one } }))).message).toContain(
        `unknown key ${JSON.stringify(k)}`,
      );
      expect((await inputError(() => allowedFromTags([[0]], K, one))).message).toContain(`unknown option ${JSON.stringify(k)}`);
    }
  });
});
