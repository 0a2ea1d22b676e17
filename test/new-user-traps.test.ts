// The obvious calls of a new user, from Python (pytorch-crf, torch), either work or fail at once with a
// CRFInputError that says what to write instead: `new CRF(K)`. On every backend.
import { describe, expect, it } from 'vitest';
import * as lib from '../src/index.js';
import { CRF } from '../src/index.js';
import { availableBackends } from './backends.js';
import { inputError } from './helpers.js';

const backends = [...(await availableBackends()), { name: 'wasm' as const, options: { threads: 2 }, label: 'wasm+threads' }].map((b) => ({
  label: 'label' in b ? b.label : b.name,
  name: b.name,
  options: b.options,
}));

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
