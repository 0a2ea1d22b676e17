// A parameter array whose buffer was transferred away (`structuredClone(buf, { transfer: [buf] })`, a
// postMessage with a transfer list) is empty from then on. Every reader and writer of the live arrays
// refuses it with a CRFInputError naming the parameter, as the ops do, and a refused write changes
// nothing: the other arrays are checked before any is written.
import { describe, expect, it } from 'vitest';
import { Adam, CRF, type CRFOptions, clipGradNorm } from '../../src/index.js';
import { PARAMETER_NAMES } from '../../src/model/parameters.js';
import { availableBackends } from '../backends.js';
import { inputError } from '../helpers.js';

const K = 3;
const em = [
  [
    [0.5, -1, 2],
    [0, 0.25, 1],
  ],
];
const tags = [[0, 2]];
/** A valid state dict, different from what the CRF holds (so a partial write would show). */
const sd = {
  start_transitions: [1, 2, 3],
  end_transitions: [4, 5, 6],
  transitions: [
    [7, 8, 9],
    [10, 11, 12],
    [13, 14, 15],
  ],
};

function transfer(a: Float32Array): void {
  structuredClone(a.buffer, { transfer: [a.buffer] });
}

/** The values of the arrays that are still readable. */
function readable(crf: CRF): Record<string, number[]> {
  return Object.fromEntries(PARAMETER_NAMES.filter((n) => crf[n].length > 0).map((n) => [n, Array.from(crf[n])]));
}

describe('a parameter whose buffer was transferred', async () => {
  const backends = await availableBackends();
  const all: { label: string; options: CRFOptions }[] = backends.map((b) => ({ label: b.name, options: { backend: b.name, ...b.options } }));
  if (backends.some((b) => b.name === 'wasm')) all.push({ label: 'wasm with threads', options: { backend: 'wasm', threads: 2 } });
  const cases = all.flatMap((b) => PARAMETER_NAMES.map((name) => ({ ...b, name })));

  it.each(cases)('$name on $label: every reader and writer refuses it, naming it, and a refused load writes nothing', async ({ options, name }) => {
    const crf = await CRF.create(K, { seed: 4, ...options });
    try {
      const adam = new Adam(crf.parameters());
      transfer(crf[name]);
      const before = readable(crf);
      const refusals = [
        () => crf.loadStateDict(sd),
        () => crf.stateDict(),
        () => crf.toSafetensors(),
        () => adam.step({ startTransitions: [1, 1, 1], endTransitions: [1, 1, 1], transitions: new Array(K * K).fill(1) }),
        () => new Adam(crf.parameters()),
        () => crf.forward(em, tags),
        () => crf.forwardBackward(em, tags),
        () => crf.decode(em),
        () => crf.decode(em, { topK: 2 }),
        () => crf.logPartition(em),
        () => crf.marginals(em),
        () => crf.entropy(em),
      ];
      const named: string[] = [];
      for (const call of refusals) {
        const err = await inputError(call);
        named.push(err.argument);
        expect(err.message).toMatch(/transferred/);
        expect(readable(crf)).toEqual(before);
      }
      expect(named).toEqual([name, name, name, `params.${name}`, `params.${name}`, name, name, name, name, name, name, name]);
    } finally {
      crf.dispose();
    }
  });
});

describe('gradient arrays whose buffer was transferred', () => {
  it('clipGradNorm refuses them instead of counting them as empty', async () => {
    const g = Float32Array.of(3, 4);
    transfer(g);
    const other = Float64Array.of(1);
    const err = await inputError(() => clipGradNorm({ g, other }, 0.5));
    expect(err.argument).toBe('grads.g');
    expect(err.message).toMatch(/transferred/);
    expect(Array.from(other)).toEqual([1]);
  });
});
