// Every rejected input throws CRFInputError naming the argument, and leaves the instance unchanged.
import { describe, expect, it } from 'vitest';
import { AutomaticWeightedLoss, CRF, CRFInputError, allowedTransitions, maskFromTags, parseSafetensors, writeSafetensors } from '../../src/index.js';
import { inputError } from '../helpers.js';
import type { StateDictInput } from '../../src/index.js';

const em = [
  [
    [0.1, 0.2, 0.3],
    [0.3, 0.2, 0.1],
  ],
  [
    [1, 2, 3],
    [0, 0, 0],
  ],
];
const tags = [
  [0, 1],
  [2, 2],
];

async function rejects(p: Promise<unknown> | (() => unknown), argument: string, text?: RegExp) {
  const e = await inputError(p);
  expect(e.argument).toBe(argument);
  expect(e.message.startsWith(`${argument}:`)).toBe(true);
  expect(e.message).toMatch(/expected .*, got /);
  if (text) expect(e.message).toMatch(text);
}

async function snapshot(crf: CRF) {
  return JSON.stringify([crf.stateDict(), await crf.forward(em, tags), await crf.decode(em)]);
}

describe('rejected inputs', () => {
  it('numTags not a positive integer', async () => {
    for (const k of [0, -1, 2.5, NaN, '3', undefined]) await rejects(CRF.create(k as number), 'numTags');
  });
  it('numTags beyond the 4096 the K × K tables allow (a RangeError from a typed array before)', async () => {
    for (const k of [4097, 100000, 2 ** 31]) await rejects(CRF.create(k), 'numTags', /an integer in \[1, 4096\]/);
    expect((await CRF.create(4096, { backend: 'js' })).transitions.length).toBe(4096 * 4096);
  });
  it('AutomaticWeightedLoss of 2^33 losses', async () => {
    await rejects(() => new AutomaticWeightedLoss(2 ** 33), 'n', /an integer in \[1, 65536\]/);
  });
  it('writeSafetensors with a huge shape, or data claiming a huge length', async () => {
    await rejects(() => writeSafetensors({ a: { shape: [2 ** 40, 2 ** 20], data: { length: 2 ** 60 } } }), 'tensors.a.shape', /at most 268435456 values/);
    await rejects(() => writeSafetensors({ a: { shape: [3], data: { length: 2 ** 40 } } }), 'tensors.a.data');
  });
  it('parseSafetensors of a detached buffer, or of a view of one', async () => {
    const b = new ArrayBuffer(16);
    const view = new Uint8Array(b);
    structuredClone(b, { transfer: [b] });
    await rejects(() => parseSafetensors(b), 'bytes', /detached/);
    await rejects(() => parseSafetensors(view), 'bytes', /detached/);
  });
  it('a device that is not a GPUDevice, fake or partial', async () => {
    const partial = {
      createBuffer() {},
      createShaderModule() {},
      createComputePipeline() {},
      createBindGroup() {},
      createCommandEncoder() {},
      pushErrorScope() {},
      popErrorScope() {},
      queue: { writeBuffer() {}, submit() {} },
    };
    await rejects(CRF.create(3, { device: { createBuffer() {} }, backend: 'webgpu' }), 'device', /no method createShaderModule/);
    await rejects(CRF.create(3, { device: partial, backend: 'webgpu' }), 'device', /no limits\.maxStorageBufferBindingSize/);
    await rejects(
      CRF.create(3, {
        device: new Proxy(
          {},
          {
            get() {
              throw new Error('boom');
            },
          },
        ),
      }),
      'device',
      /cannot be read/,
    );
  });
  it("allowedTransitions with a scheme named after an Object property ('toString', '__proto__')", async () => {
    for (const s of ['toString', '__proto__', 'constructor', 'hasOwnProperty']) await rejects(() => allowedTransitions(s as 'BIO', ['O']), 'scheme');
  });
  it('loadStateDict: a value that float32 turns into Infinity (1e39) is refused, not stored', async () => {
    const crf = await CRF.create(2, { backend: 'js', seed: 2 });
    const before = JSON.stringify(crf.stateDict());
    await rejects(
      () =>
        crf.loadStateDict({
          start_transitions: [1e39, 0],
          end_transitions: [0, 0],
          transitions: [
            [0, 0],
            [0, 0],
          ],
        }),
      'stateDict.start_transitions',
      /got 1e\+39/,
    );
    await rejects(
      () =>
        crf.loadStateDict({
          start_transitions: [0, 0],
          end_transitions: [0, -1e39],
          transitions: [
            [0, 0],
            [0, 0],
          ],
        }),
      'stateDict.end_transitions',
      /got -1e\+39/,
    );
    expect(JSON.stringify(crf.stateDict())).toBe(before);
    // What loadStateDict accepts, toSafetensors writes and fromSafetensors reads back.
    crf.loadStateDict({
      start_transitions: [-Infinity, 1e20],
      end_transitions: [0, -1e20],
      transitions: [
        [0.5, -Infinity],
        [1, 2],
      ],
    });
    expect((await CRF.fromSafetensors(crf.toSafetensors(), { backend: 'js' })).stateDict()).toEqual(crf.stateDict());
  });
  it('nested arrays: a ragged row, a deeper value or a row that is no array is named by its path', async () => {
    const crf = await CRF.create(3, { backend: 'js' });
    const row = [0, 0, 0];
    await rejects(
      crf.decode([
        [row, row],
        [row, [0, 0]],
      ]),
      'emissions',
      /length 3 at \[1\]\[1\], got length 2 \(ragged\)/,
    );
    await rejects(crf.decode([[row], [[0, [1], 0]]] as unknown as number[][][]), 'emissions', /a deeper array at \[1\]\[0\]\[1\]/);
    await rejects(crf.decode([[row], [5]] as unknown as number[][][]), 'emissions', /an array of length 3 at \[1\]\[0\], got 5/);
    await rejects(crf.forward([[row, row]], [[0, [1]]] as unknown as number[][]), 'tags', /a deeper array at \[0\]\[1\]/);
  });
  it('unknown backend', () => rejects(CRF.create(3, { backend: 'cuda' as 'js' }), 'backend', /cuda/));
  it('batchFirst not a boolean', () => rejects(CRF.create(3, { batchFirst: 1 as unknown as boolean }), 'batchFirst'));
  it('seed not an integer in [0, 2^32), as sample takes it: refused, never truncated or wrapped onto another seed', async () => {
    for (const v of [Infinity, NaN, 1.5, -1, 2 ** 32, 2 ** 32 + 1, '7']) {
      await rejects(CRF.create(3, { seed: v as number }), 'seed', /expected an integer in \[0, 2\^32\)/);
    }
    // The bounds themselves are seeds, each its own.
    const [a, b] = await Promise.all([0, 2 ** 32 - 1].map((seed) => CRF.create(3, { seed, backend: 'js' })));
    expect(Array.from(a.transitions)).not.toEqual(Array.from(b.transitions));
  });
  it('device not a GPUDevice', () => rejects(CRF.create(3, { device: {} }), 'device'));
  it('wasmModule not a WebAssembly.Module', () => rejects(CRF.create(3, { wasmModule: new Uint8Array(8) }), 'wasmModule'));
  it('webgpuMinWork not a number ≥ 0', async () => {
    for (const v of [NaN, -1, '5']) await rejects(CRF.create(3, { webgpuMinWork: v as number }), 'webgpuMinWork');
  });
  it('constraints of the wrong shape', async () => {
    await rejects(
      CRF.create(3, {
        constraints: [
          [true, true],
          [true, true],
        ],
      }),
      'constraints.transitions',
    );
    await rejects(
      CRF.create(3, {
        constraints: {
          transitions: [
            [1, 1, 1],
            [1, 1, 1],
            [1, 1, 2],
          ],
        },
      }),
      'constraints.transitions',
      /\[2\]\[2\]/,
    );
    await rejects(
      CRF.create(3, {
        constraints: {
          transitions: [
            [1, 1, 1],
            [1, 1, 1],
            [1, 1, 1],
          ],
          start: [1, 1],
        },
      }),
      'constraints.start',
    );
  });
  it('unknown scheme or label', () => {
    expect(() => allowedTransitions('BIOX' as 'BIO', ['O'])).toThrow(CRFInputError);
    return rejects(() => allowedTransitions('BIO', ['O', 'E-PER']), 'labels', /E-PER/);
  });

  describe('on an instance', async () => {
    const crf = await CRF.create(3, { seed: 1, backend: 'js' });
    const before = await snapshot(crf);
    const cases: [string, () => Promise<unknown>, string, RegExp?][] = [
      ['wrong rank', () => crf.forward([[0.1, 0.2, 0.3]] as unknown as number[][][], tags), 'emissions', /rank/],
      [
        'ragged emissions',
        () =>
          crf.decode([
            [
              [0, 0, 0],
              [0, 0, 0],
            ],
            [[0, 0, 0]],
          ]),
        'emissions',
        /ragged/,
      ],
      [
        'wrong number of tags',
        () =>
          crf.decode([
            [
              [0, 0],
              [0, 0],
            ],
          ]),
        'emissions',
        /last dimension 3/,
      ],
      ['shaped data of the wrong length', () => crf.decode({ data: new Float32Array(5), shape: [1, 2, 3] }), 'emissions', /length 6/],
      ['non-finite emissions', () => crf.decode([[[0, NaN, 0]]]), 'emissions', /NaN/],
      ['infinite emissions', () => crf.logPartition({ data: Float32Array.of(0, Infinity, 0), shape: [1, 1, 3] }), 'emissions', /Infinity/],
      ['zero timesteps', () => crf.decode({ data: new Float32Array(0), shape: [2, 0, 3] }), 'emissions', /timestep/],
      [
        'tags shape mismatch',
        () =>
          crf.forward(em, [
            [0, 1, 2],
            [0, 1, 2],
          ]),
        'tags',
        /shape \[2, 2\]/,
      ],
      [
        'tags out of range',
        () =>
          crf.forward(em, [
            [0, 3],
            [0, 0],
          ]),
        'tags',
        /\[0\]\[1\]/,
      ],
      [
        'negative tag where on',
        () =>
          crf.forward(em, [
            [0, -1],
            [0, 0],
          ]),
        'tags',
      ],
      [
        'non-integer tag',
        () =>
          crf.forward(em, [
            [0, 1.5],
            [0, 0],
          ]),
        'tags',
        /1.5/,
      ],
      ['mask shape mismatch', () => crf.forward(em, tags, { mask: [[1, 1]] }), 'mask', /shape/],
      [
        'mask value 2',
        () =>
          crf.decode(em, {
            mask: [
              [1, 2],
              [1, 1],
            ],
          }),
        'mask',
        /\[0\]\[1\]/,
      ],
      [
        'mask value "1"',
        () =>
          crf.decode(em, {
            mask: [
              [1, '1' as unknown as number],
              [1, 1],
            ],
          }),
        'mask',
      ],
      ['unknown reduction', () => crf.forward(em, tags, { reduction: 'avg' as 'sum' }), 'reduction', /avg/],
      ['topK < 1', () => crf.decode(em, { topK: 0 }), 'topK'],
      ['topK not an integer', () => crf.decode(em, { topK: 1.5 }), 'topK'],
      [
        'emissions beyond ±1e20',
        () => crf.decode({ data: Float64Array.of(0, 0, 1.0001e20), shape: [1, 1, 3] }),
        'emissions',
        /within ±1e20 \(the supported range\) at \[0\]\[0\]\[2\]/,
      ],
      [
        'a NaN written into the live transitions',
        async () => {
          crf.transitions[4] = NaN;
          try {
            return await crf.forward(em, tags);
          } finally {
            crf.transitions[4] = (await CRF.create(3, { seed: 1, backend: 'js' })).transitions[4];
          }
        },
        'transitions',
        /at \[1\]\[1\] \(from tag 1 to tag 1\), got NaN/,
      ],
      ['allowed of the wrong shape', () => crf.forward(em, { allowed: [[[1, 1, 1]]] }), 'allowed', /shape \[2, 2, 3\] to match emissions/],
      [
        'allowed with a value 2',
        () =>
          crf.decode(em, {
            allowed: [
              [
                [1, 1, 2],
                [1, 1, 1],
              ],
              [
                [1, 1, 1],
                [1, 1, 1],
              ],
            ],
          }),
        'allowed',
        /true, false, 0 or 1 at \[0\]\[0\]\[2\]/,
      ],
      [
        'allowed with no tag at a position',
        () =>
          crf.marginals(em, {
            allowed: [
              [
                [0, 0, 0],
                [1, 1, 1],
              ],
              [
                [1, 1, 1],
                [1, 1, 1],
              ],
            ],
          }),
        'allowed',
        /at least one allowed tag/,
      ],
      [
        'allowed and constraints with no path',
        () =>
          crf.decode(em, {
            allowed: [
              [
                [1, 0, 0],
                [0, 1, 0],
              ],
              [
                [1, 1, 1],
                [1, 1, 1],
              ],
            ],
            constraints: {
              transitions: [
                [1, 0, 1],
                [1, 1, 1],
                [1, 1, 1],
              ],
            },
          }),
        'allowed',
        /permits at least one path/,
      ],
      ['allowedFromTags with a tag out of range', async () => (await import('../../src/index.js')).allowedFromTags([[0, 5]], 3), 'labels', /\[0\]\[1\]/],
      ['allowedFromTags with an empty set', async () => (await import('../../src/index.js')).allowedFromTags([[[]]], 3), 'labels', /non-empty set/],
      [
        'topK beyond the k-best table',
        () => crf.decode({ data: new Float32Array(3 * 100).fill(0.5), shape: [1, 100, 3] }, { topK: 900000 }),
        'topK',
        /at most 41943 /,
      ],
      ['per-call constraints of the wrong shape', () => crf.decode(em, { constraints: [[true]] }), 'constraints.transitions'],
      [
        'no allowed path',
        () =>
          crf.decode(em, {
            constraints: {
              transitions: [
                [1, 1, 1],
                [1, 1, 1],
                [1, 1, 1],
              ],
              start: [0, 0, 0],
            },
          }),
        'constraints',
      ],
      [
        'no allowed path, k-best',
        () =>
          crf.decode(em, {
            topK: 2,
            constraints: {
              transitions: [
                [1, 1, 1],
                [1, 1, 1],
                [1, 1, 1],
              ],
              end: [0, 0, 0],
            },
          }),
        'constraints',
      ],
      [
        'no allowed path, marginals',
        () =>
          crf
            .marginals(em, {
              mask: [
                [1, 1],
                [0, 1],
              ],
            })
            .then(() =>
              crf.decode(em, {
                constraints: [
                  [0, 0, 0],
                  [0, 0, 0],
                  [0, 0, 0],
                ],
              }),
            ),
        'constraints',
      ],
      [
        'state dict with a missing key',
        async () => crf.loadStateDict({ start_transitions: [0, 0, 0], end_transitions: [9, 9, 9] } as unknown as StateDictInput),
        'stateDict',
        /transitions/,
      ],
      [
        'state dict with a wrong shape',
        async () =>
          crf.loadStateDict({
            start_transitions: [9, 9, 9],
            end_transitions: [9, 9, 9],
            transitions: [
              [1, 2],
              [3, 4],
            ],
          }),
        'stateDict.transitions',
        /shape \[3, 3\]/,
      ],
      [
        'state dict with an unexpected key',
        async () =>
          crf.loadStateDict({
            start_transitions: [9, 9, 9],
            end_transitions: [9, 9, 9],
            transitions: [
              [9, 9, 9],
              [9, 9, 9],
              [9, 9, 9],
            ],
            extra: 1,
          } as StateDictInput),
        'stateDict',
        /extra/,
      ],
      [
        "a whole model's state dict: the names expected are pytorch-crf's, and the prefix to take off is named",
        // The encoder's keys first, as a PyTorch model registers its CRF last.
        async () =>
          crf.loadStateDict({
            'encoder.weight': [1, 2],
            ...Object.fromEntries(Object.entries(crf.stateDict()).map(([k, v]) => [`model.crf.${k}`, v])),
          } as unknown as StateDictInput),
        'stateDict',
        /only the keys start_transitions, end_transitions, transitions, got unexpected key "encoder\.weight" \(a model's state dict\? hand over the CRF's entries without their prefix "model\.crf\."\)$/,
      ],
      [
        'state dict with a non-finite value',
        async () =>
          crf.loadStateDict({
            start_trans: [9, 9, 9],
            end_trans: [9, 9, NaN],
            trans_matrix: [
              [9, 9, 9],
              [9, 9, 9],
              [9, 9, 9],
            ],
          }),
        'stateDict.end_trans',
        /NaN/,
      ],
      ['options not an object', () => crf.forward(em, tags, 'sum' as unknown as object), 'options'],
      ['maskFromTags of a non-array', async () => maskFromTags(5 as unknown as number[][]), 'tags'],
    ];
    it.each(cases)('%s', async (_name, call, argument, text) => {
      await rejects(call(), argument, text);
      expect(await snapshot(crf)).toBe(before);
    });
  });
});
