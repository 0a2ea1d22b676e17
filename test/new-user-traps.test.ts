// The obvious calls of a new user, from Python (pytorch-crf, torch), either work or fail at once with a
// CRFInputError that says what to write instead: `new CRF(K)`, tags padded with -100. On every backend.
import { describe, expect, it } from 'vitest';
import * as lib from '../src/index.js';
import { CRF, maskFromTags } from '../src/index.js';
import { availableBackends } from './backends.js';
import { inputError } from './helpers.js';

const backends = [
  ...(await availableBackends()),
  // Reading the arguments happens before any thread sees them; the large forward below is split across two.
  { name: 'wasm' as const, options: { threads: 2 }, label: 'wasm+threads' },
].map((b) => ({ label: 'label' in b ? b.label : b.name, name: b.name, options: b.options }));

const K = 3;
const nested = [
  [
    [0.5, -1, 2],
    [0, 0.25, 1],
    [1, 1, -2],
  ],
  [
    [0.1, 0.2, 0.3],
    [3, -3, 0],
    [0, 0, 0.5],
  ],
];
const tags = [
  [0, 1, 2],
  [2, 2, -100],
];
const mask = [
  [1, 1, 1],
  [1, 1, 0],
];

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
