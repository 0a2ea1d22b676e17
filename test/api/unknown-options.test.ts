// Every options object is checked for keys it does not know: a misspelt or Python-spelt option is a
// CRFInputError (naming what is meant), never a setting silently ignored.
import { describe, expect, it } from 'vitest';
import { Adam, CRF, CRFInputError, clipGradNorm, crossEntropy } from '../../src/index.js';
import { inputError } from '../helpers.js';

const em = [
  [
    [0.1, 0.2],
    [0.3, -0.1],
  ],
];
const tags = [[0, 1]];

async function refused(call: () => unknown, key: string, hint?: string) {
  const m = (await inputError(call)).message;
  expect(m).toContain(`an unknown option "${key}"`);
  if (hint) expect(m).toContain(`(did you mean ${hint}?)`);
  else expect(m).not.toContain('did you mean');
}

describe('unknown option keys', async () => {
  const crf = await CRF.create(2, { backend: 'js', seed: 1 });
  it.each([
    ['CRF.create: batch_first', () => CRF.create(5, { batch_first: false } as object), 'batch_first', 'batchFirst'],
    ['CRF.create: a typo', () => CRF.create(5, { backnd: 'js' } as object), 'backnd', 'backend'],
    ['CRF.create: something else', () => CRF.create(5, { gpu: true } as object), 'gpu', undefined],
    ['forward: reducton', () => crf.forward(em, tags, { reducton: 'none' } as object), 'reducton', 'reduction'],
    ['forwardBackward: masks', () => crf.forwardBackward(em, tags, { masks: [[1, 1]] } as object), 'masks', 'mask'],
    ['decode: top_k', () => crf.decode(em, { top_k: 2 } as object), 'top_k', 'topK'],
    ['logPartition: reduction', () => crf.logPartition(em, { reduction: 'sum' } as object), 'reduction', undefined],
    ['marginals', () => crf.marginals(em, { mask: null, extra: 1 } as object), 'extra', undefined],
    ['entropy', () => crf.entropy(em, { mak: null } as object), 'mak', 'mask'],
    ['fromSafetensors: prefx', () => CRF.fromSafetensors(crf.toSafetensors(), { prefx: 'crf.' } as object), 'prefx', 'prefix'],
    ['toSafetensors: meta', () => crf.toSafetensors({ meta: {} } as object), 'meta', undefined],
    ['Adam: weight_decay', () => new Adam(crf.parameters(), { weight_decay: 0.1 } as object), 'weight_decay', 'weightDecay'],
    ['clipGradNorm: norm_type', () => clipGradNorm([[1, 2]], 1, { norm_type: 1 } as object), 'norm_type', 'normType'],
    ['crossEntropy: ignore_index', () => crossEntropy([[1, 2]], [0], { ignore_index: -1 } as object), 'ignore_index', 'ignoreIndex'],
  ] as const)('%s', async (_name, call, key, hint) => {
    await refused(call as () => unknown, key, hint);
  });

  it('the known options still work, undefined values included', async () => {
    const c = await CRF.create(2, { backend: 'js', batchFirst: true, seed: undefined });
    expect(c.batchFirst).toBe(true);
    expect(await c.forward(em, tags, { reduction: 'none', mask: undefined })).toBeInstanceOf(Float32Array);
  });

  it('an options argument that is not an object is refused', async () => {
    await expect(crf.decode(em, [] as unknown as object)).rejects.toThrow(
      /options: expected an options object, as in crf.decode\(emissions, { mask, topK, constraints, allowed }\), got an array of length 0 \(a mask goes by name: { mask }\)/,
    );
    await expect(CRF.create(2, 'js' as unknown as object)).rejects.toThrow(CRFInputError);
  });
});
