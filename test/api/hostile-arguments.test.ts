// Arguments built to break the reader rather than the math: revoked Proxies and throwing getters,
// replaced or detached parameter arrays, claimed lengths with nothing behind them, shapes of 40,000
// dimensions. Each gets a CRFInputError naming the argument (or the right number), quickly, and
// leaves the instance as it was.
import { describe, expect, it } from 'vitest';
import {
  Adam,
  AutomaticWeightedLoss,
  CRF,
  CRFInputError,
  allowedFromTags,
  allowedTransitions,
  clipGradNorm,
  crossEntropy,
  maskFromTags,
  parseSafetensors,
  writeSafetensors,
} from '../../src/index.js';
import { inputError } from '../helpers.js';

function revoked(): object {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
}

/** An object every property read of which throws (what a broken getter or Proxy trap does). */
function throwingReads(): object {
  return new Proxy(
    {},
    {
      get() {
        throw new Error('boom');
      },
    },
  );
}

async function refused(call: () => unknown, argument: string, text?: RegExp) {
  const err = await inputError(call);
  expect(err.argument).toBe(argument);
  if (text) expect(err.message).toMatch(text);
}

describe('revoked Proxies and throwing getters give CRFInputError, not TypeError', async () => {
  const crf = await CRF.create(2, { backend: 'js', seed: 1 });
  const em = [
    [
      [0.1, 0.2],
      [0.3, 0.4],
    ],
  ];
  const throwing = new Proxy([[0, 1]], {
    get(t, k) {
      if (k === '0') throw new Error('boom');
      return Reflect.get(t, k);
    },
  });
  it.each([
    ['emissions', () => crf.decode(revoked() as number[][][]), 'emissions'],
    ['emissions rows', () => crf.decode([revoked() as number[][]]), 'emissions'],
    [
      '{data} getter',
      () =>
        crf.decode({
          get data(): number[] {
            throw new Error('no');
          },
          shape: [1, 1, 2],
        }),
      'emissions',
    ],
    ['tags', () => crf.forward(em, revoked() as number[][]), 'tags'],
    ['tags getter', () => crf.forward(em, throwing), 'tags', /reading threw Error: boom/],
    ['forwardBackward tags', () => crf.forwardBackward(em, revoked() as number[][]), 'tags'],
    [
      'annotation getter',
      () =>
        crf.forward(em, {
          get allowed(): boolean[][][] {
            throw new Error('boom');
          },
        }),
      'tags',
      /reading threw Error: boom/,
    ],
    ['allowed', () => crf.forward(em, { allowed: revoked() as boolean[][][] }), 'allowed'],
    ['decode allowed', () => crf.decode(em, { allowed: revoked() as boolean[][][] }), 'allowed'],
    ['mask', () => crf.decode(em, { mask: revoked() as number[][] }), 'mask'],
    ['options', () => crf.decode(em, revoked()), 'options'],
    ['create options', () => CRF.create(2, revoked()), 'options'],
    ['constraints', () => CRF.create(2, { constraints: revoked() as boolean[][] }), 'constraints'],
    ['loadStateDict', () => crf.loadStateDict(revoked() as never), 'stateDict'],
    ['maskFromTags', () => maskFromTags(revoked() as number[][]), 'tags'],
    ['crossEntropy logits', () => crossEntropy([revoked() as number[]], [0]), 'logits'],
    ['clipGradNorm', () => clipGradNorm(revoked() as number[][], 1), 'grads'],
    ['Adam params', () => new Adam(revoked() as never), 'params'],
    ['AutomaticWeightedLoss.forward', () => new AutomaticWeightedLoss(2).forward(revoked() as number[]), 'losses'],
    ['allowedTransitions labels', () => allowedTransitions('BIO', revoked() as string[]), 'labels'],
    ['writeSafetensors', () => writeSafetensors(revoked() as never), 'tensors'],
    // The advice for new users reads fields the readers did not (then, dtype, dims): under the argument's name too.
    ['options whose every read throws', () => crf.decode(em, throwingReads() as never), 'options', /reading threw Error: boom/],
    ['emissions whose every read throws', () => crf.decode(throwingReads() as never), 'emissions', /reading threw Error: boom/],
    ['tags whose every read throws', () => crf.forward(em, throwingReads() as never), 'tags', /reading threw Error: boom/],
    ['allowedFromTags labels', () => allowedFromTags(revoked() as number[][], 2), 'labels'],
    ['allowedFromTags labels whose every read throws', () => allowedFromTags(throwingReads() as number[][], 2), 'labels', /reading threw Error: boom/],
  ] as const)('%s', async (_n, call, argument, text?: RegExp) => {
    const before = JSON.stringify(crf.stateDict());
    await refused(call, argument, text);
    expect(JSON.stringify(crf.stateDict())).toBe(before);
  });
});

describe('the parameter arrays', () => {
  it('cannot be replaced (a shorter array left wasm reading stale memory)', async () => {
    const crf = await CRF.create(5, { backend: 'wasm', seed: 2 });
    const live = crf.transitions;
    expect(() => {
      (crf as { startTransitions: Float32Array }).startTransitions = new Float32Array(2);
    }).toThrow(TypeError);
    expect(() => {
      (crf as { transitions: Float32Array | null }).transitions = null;
    }).toThrow(TypeError);
    expect(() => {
      (crf as { numTags: number }).numTags = 3;
    }).toThrow(TypeError);
    expect(crf.transitions).toBe(live);
    expect(crf.numTags).toBe(5);
  });

  it('whose buffer was transferred away are refused, naming the parameter', async () => {
    const crf = await CRF.create(3, { backend: 'wasm', seed: 2 });
    structuredClone(crf.endTransitions.buffer, { transfer: [crf.endTransitions.buffer] });
    await refused(() => crf.logPartition([[[0, 0, 0]]]), 'endTransitions', /a Float32Array of 3 values/);
  });

  it('are checked before toSafetensors writes a file fromSafetensors would refuse', async () => {
    const crf = await CRF.create(3, { backend: 'js', seed: 2 });
    crf.transitions[2] = NaN;
    await refused(() => crf.toSafetensors(), 'transitions', /at \[0\]\[2\]/);
  });
});

describe('claimed sizes with nothing behind them', () => {
  it('maskFromTags of [2^32, 0] (an array of 2^32 rows) is refused', async () => {
    await refused(() => maskFromTags({ data: [], shape: [2 ** 32, 0] } as unknown as number[][]), 'tags', /rows of at least one label/);
  });

  it('data claiming 2^28 values fails at the first one it lacks, without allocating for the claim', async () => {
    const crf = await CRF.create(4, { backend: 'js' });
    const t0 = performance.now();
    await refused(
      () => crf.decode({ data: { length: 2 ** 28, 0: 1 } as unknown as number[], shape: [1, 2 ** 26, 4] }),
      'emissions',
      /at \[0\]\[0\]\[1\], got undefined/,
    );
    await refused(() => clipGradNorm([new Array(2 ** 32 - 1)], 1), 'grads[0]', /at most 268435456 values \(2\^28\)/);
    await refused(() => clipGradNorm([new Array(2 ** 20)], 1), 'grads[0]', /at \[0\], got undefined/);
    await refused(() => clipGradNorm(new Array(2 ** 32 - 1) as number[][], 1), 'grads[0]');
    expect(performance.now() - t0).toBeLessThan(5_000);
  });

  it('allowedTransitions refuses more labels than tags and sparse label lists', async () => {
    await refused(() => allowedTransitions('BIO', new Array(5000).fill('O')), 'labels', /at most 4096/);
    // eslint-disable-next-line no-sparse-arrays -- the hole is the input under test
    await refused(() => allowedTransitions('BIO', ['O', , 'B-X'] as string[]), 'labels', /at \[1\]/);
  });

  it('constraints with an unknown key are refused (a misspelt start was ignored)', async () => {
    await refused(
      () =>
        CRF.create(2, {
          constraints: {
            transitions: [
              [1, 1],
              [1, 1],
            ],
            strat: [1, 0],
          } as never,
        }),
      'constraints',
      /unknown key "strat"/,
    );
  });

  it('a safetensors shape of 40,000 huge dimensions is refused at once with a short message', async () => {
    const shape = JSON.stringify(new Array(40_000).fill(2 ** 53 - 1));
    const h = new TextEncoder().encode(`{"w":{"dtype":"F4","shape":${shape},"data_offsets":[0,8]}}`);
    const file = new Uint8Array(8 + h.length + 8);
    new DataView(file.buffer).setUint32(0, h.length, true);
    file.set(h, 8);
    const t0 = performance.now();
    let err: Error | null = null;
    try {
      parseSafetensors(file);
    } catch (e) {
      err = e as Error;
    }
    expect(performance.now() - t0).toBeLessThan(1_000);
    expect(err).toBeInstanceOf(CRFInputError);
    expect(err!.message).toMatch(/more than 8 bytes for F4 \[9007199254740991, .* \(40000 dimensions\)\]/);
    expect(err!.message.length).toBeLessThan(400);
  });
});

describe('values read once, outside the tensor readers too', () => {
  it('AutomaticWeightedLoss.forward reads each loss once', () => {
    let reads = 0;
    const losses = new Proxy([1, 2], { get: (t, k) => (k === '0' ? (reads++ ? NaN : 1) : Reflect.get(t, k)) });
    const r = new AutomaticWeightedLoss(2).forward(losses);
    expect(Number.isFinite(r.loss)).toBe(true);
    expect(reads).toBe(1);
  });

  it('writeSafetensors reads each field once (a data getter changing length could write out of bounds)', () => {
    let n = 0;
    const t = {
      shape: [2],
      get data() {
        return n++ ? [1, 2, 3, 4] : [1, 2];
      },
    };
    const file = writeSafetensors({ w: t });
    const back = parseSafetensors(file).tensors.get('w')!;
    expect(back.shape).toEqual([2]);
    expect(n).toBe(1);
  });

  it('the shape probe of nested arrays does not read the first value (the walk does, once)', async () => {
    const crf = await CRF.create(2, { backend: 'js', seed: 1 });
    let reads = 0;
    const row = new Proxy([0.5, 0.25], {
      get: (t, k) => {
        if (k === '0') reads++;
        return Reflect.get(t, k);
      },
    });
    await crf.logPartition([[row]]);
    expect(reads).toBe(1);
  });
});

describe('clipGradNorm with large p', () => {
  it('a 2000-norm of one gradient 1.9 is 1.9 (it overflowed to Infinity and zeroed the gradient)', () => {
    const g = [[1.9]];
    expect(clipGradNorm(g, 10, { normType: 2000 })).toBeCloseTo(1.9, 12);
    expect(g[0][0]).toBe(1.9);
    expect(clipGradNorm([[1, 1, 1]], 10, { normType: 1e6 })).toBeCloseTo(1, 5);
  });
});

describe('topK = 1 beyond the k-best table', () => {
  it('returns the Viterbi path with its score instead of building a table of 2^25 cells', async () => {
    const crf = await CRF.create(2, { backend: 'wasm', seed: 3 });
    // T·K·k = (2^22 + 1)·4·1 cells (K rounded up to 4) is past 2^24 even for k = 1.
    const T = 2 ** 22 + 1;
    const em = { data: Float32Array.from({ length: T * 2 }, (_, i) => Math.sin(i)), shape: [1, T, 2] };
    const [[best]] = await crf.decode(em, { topK: 1 });
    expect(best.path).toEqual((await crf.decode(em))[0]);
    expect(Number.isFinite(best.score)).toBe(true);
    await refused(() => crf.decode(em, { topK: 2 }), 'topK', /at most 1 for 1 sequences/);
  }, 60_000);
});
