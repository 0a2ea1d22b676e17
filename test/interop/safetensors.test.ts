import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CRF, CRFInputError, parseSafetensors, tensorValues, writeSafetensors } from '../../src/index.js';

// Files are assembled here byte by byte from the format's specification, independently of the
// package's writer: [N as little-endian u64][N bytes of UTF-8 JSON][data section].

function u64le(n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < 8; i++) {
    out.push(n % 256);
    n = Math.floor(n / 256);
  }
  return out;
}

function assemble(header: string, data: number[] | Uint8Array, lengthOverride?: number[]): Uint8Array {
  const h = new TextEncoder().encode(header);
  return Uint8Array.from([...(lengthOverride ?? u64le(h.length)), ...h, ...data]);
}

/** A file from tensors given as raw little-endian bytes, in order, offsets contiguous. */
function fileOf(tensors: [name: string, dtype: string, shape: number[], bytes: number[]][], metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  const data: number[] = [];
  for (const [name, dtype, shape, bytes] of tensors) {
    header[name] = { dtype, shape, data_offsets: [data.length, data.length + bytes.length] };
    data.push(...bytes);
  }
  return assemble(JSON.stringify(header), data);
}

const f32 = (...v: number[]) => {
  const b = new DataView(new ArrayBuffer(4 * v.length));
  v.forEach((x, i) => b.setFloat32(4 * i, x, true));
  return [...new Uint8Array(b.buffer)];
};
const f64 = (...v: number[]) => {
  const b = new DataView(new ArrayBuffer(8 * v.length));
  v.forEach((x, i) => b.setFloat64(8 * i, x, true));
  return [...new Uint8Array(b.buffer)];
};
/** 16-bit codes, little-endian (low byte first). */
const u16 = (...codes: number[]) => codes.flatMap((c) => [c & 0xff, c >> 8]);

const START = [0.25, -0.5, 1];
const END = [-1, 0.125, 2];
const TRANS = [0.5, -0.25, 0.75, 1.5, -2, 0.0625, 3, -0.375, 0.875];

async function expectWeights(crf: CRF, start: number[], end: number[], trans: number[], tol = 0) {
  expect(crf.numTags).toBe(start.length);
  for (const [got, want] of [
    [crf.startTransitions, start],
    [crf.endTransitions, end],
    [crf.transitions, trans],
  ] as const) {
    expect(got.length).toBe(want.length);
    want.forEach((w, i) => expect(Math.abs(got[i] - w)).toBeLessThanOrEqual(tol));
  }
}

describe('CRF.fromSafetensors reads files made to the specification', () => {
  it('F32 under pytorch-crf names', async () => {
    const bytes = fileOf([
      ['start_transitions', 'F32', [3], f32(...START)],
      ['end_transitions', 'F32', [3], f32(...END)],
      ['transitions', 'F32', [3, 3], f32(...TRANS)],
    ]);
    const crf = await CRF.fromSafetensors(bytes, { backend: 'js' });
    await expectWeights(crf, START, END, TRANS);
    expect(crf.backend).toBe('js');
    // The weights are used: the best path of a one-step sequence maximises start + e + end.
    expect(await crf.decode([[[0, 0, 0]]])).toEqual([[2]]);
  });

  it('F64, rounded to float32', async () => {
    const bytes = fileOf([
      ['start_transitions', 'F64', [3], f64(0.1, 0.2, 0.3)],
      ['end_transitions', 'F64', [3], f64(...END)],
      ['transitions', 'F64', [3, 3], f64(...TRANS)],
    ]);
    const crf = await CRF.fromSafetensors(bytes.buffer as ArrayBuffer);
    expect(Array.from(crf.startTransitions)).toEqual([Math.fround(0.1), Math.fround(0.2), Math.fround(0.3)]);
    await expectWeights(crf, [0.1, 0.2, 0.3], END, TRANS, 1e-7);
  });

  it('F16 under TorchCRF names (start_trans, end_trans, trans_matrix)', async () => {
    // Half codes: sign | 5-bit exponent (bias 15) | 10-bit fraction.
    // 0x3800 = 0.5, 0xBD00 = -1.25, 0x4000 = 2, 0x0001 = 2^-24 (smallest subnormal), 0x7BFF = 65504,
    // 0x2E66 = 1.1001100110b · 2^-4 = 0.0999755859375, 0x8000 = -0, 0x3C00 = 1, 0xC500 = -5.
    const bytes = fileOf([
      ['start_trans', 'F16', [2], u16(0x3800, 0xbd00)],
      ['end_trans', 'F16', [2], u16(0x4000, 0x0001)],
      ['trans_matrix', 'F16', [2, 2], u16(0x7bff, 0x2e66, 0x8000, 0xc500)],
    ]);
    const crf = await CRF.fromSafetensors(bytes);
    await expectWeights(crf, [0.5, -1.25], [2, 2 ** -24], [65504, 0.0999755859375, -0, -5]);
  });

  it('BF16 under a prefix, inside a whole model with other dtypes', async () => {
    // BF16 is the top half of a float32: 0x3F80 = 1, 0xC020 = -2.5, 0x3E20 = 0.15625, 0x4049 = 3.140625.
    const bytes = fileOf(
      [
        ['encoder.position_ids', 'I64', [1, 2], [0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]],
        ['classifier.weight', 'F32', [2], f32(9, 9)],
        ['crf.start_transitions', 'BF16', [2], u16(0x3f80, 0xc020)],
        ['crf.end_transitions', 'BF16', [2], u16(0x3e20, 0x4049)],
        ['crf.transitions', 'BF16', [2, 2], u16(0x3f80, 0x3f80, 0xc020, 0x3e20)],
        ['flags', 'BOOL', [3], [1, 0, 1]],
      ],
      { format: 'pt' },
    );
    const want: [number[], number[], number[]] = [
      [1, -2.5],
      [0.15625, 3.140625],
      [1, 1, -2.5, 0.15625],
    ];
    await expectWeights(await CRF.fromSafetensors(bytes, { prefix: 'crf.' }), ...want);
    // Without a prefix the one complete set is found.
    await expectWeights(await CRF.fromSafetensors(bytes), ...want);
    // The module's name without its dot is refused, naming the prefix that was meant.
    await expect(CRF.fromSafetensors(bytes, { prefix: 'crf' })).rejects.toThrow(/got only .* \(did you mean prefix "crf\."\?\)$/);
    const parsed = parseSafetensors(bytes);
    expect(parsed.metadata).toEqual({ format: 'pt' });
    expect(parsed.tensors.get('encoder.position_ids')!.shape).toEqual([1, 2]);
    expect(() => tensorValues(parsed.tensors.get('encoder.position_ids')!, 'ids')).toThrow(/ids: expected a floating-point tensor .*got dtype I64/);
  });

  it('passes CRF options through (batchFirst, backend, constraints)', async () => {
    const crf = await CRF.create(3, { seed: 4 });
    const back = await CRF.fromSafetensors(crf.toSafetensors(), {
      batchFirst: false,
      backend: 'js',
      constraints: {
        start: [1, 1, 0],
        end: [1, 1, 1],
        transitions: [
          [1, 1, 1],
          [1, 1, 1],
          [1, 1, 1],
        ],
      },
    });
    expect(back.batchFirst).toBe(false);
    expect((await back.decode([[[0, 0, 100]]]))[0][0]).not.toBe(2);
  });

  it('accepts a header padded with spaces, as the reference writer pads to 8 bytes', () => {
    const h = JSON.stringify({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }) + '     ';
    const t = parseSafetensors(assemble(h, f32(1.5)));
    expect(Array.from(tensorValues(t.tensors.get('a')!))).toEqual([1.5]);
  });
});

describe('CRF.fromSafetensors reads the bytes as they were at the call', () => {
  it('a buffer the caller overwrites while the reader loads gives the weights it held at the call', async () => {
    const crf = await CRF.create(4, { seed: 22 });
    const other = await CRF.create(4, { seed: 23 });
    for (const asBuffer of [false, true]) {
      const written = crf.toSafetensors();
      const bytes: Uint8Array | ArrayBuffer = asBuffer ? Uint8Array.from(written).buffer : written;
      const pending = CRF.fromSafetensors(bytes);
      (asBuffer ? new Uint8Array(bytes as ArrayBuffer) : (bytes as Uint8Array)).set(other.toSafetensors());
      await expectWeights(await pending, Array.from(crf.startTransitions), Array.from(crf.endTransitions), Array.from(crf.transitions));
    }
  });
});

describe('crf.toSafetensors', () => {
  it('round-trips, in float32 under pytorch-crf names, with the data section 8-aligned', async () => {
    const crf = await CRF.create(4, { seed: 21 });
    const bytes = crf.toSafetensors();
    const n = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
    expect(n % 8).toBe(0);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    expect(header).toEqual({
      start_transitions: { dtype: 'F32', shape: [4], data_offsets: [0, 16] },
      end_transitions: { dtype: 'F32', shape: [4], data_offsets: [16, 32] },
      transitions: { dtype: 'F32', shape: [4, 4], data_offsets: [32, 96] },
    });
    expect(bytes.length).toBe(8 + n + 96);
    const back = await CRF.fromSafetensors(bytes);
    await expectWeights(back, Array.from(crf.startTransitions), Array.from(crf.endTransitions), Array.from(crf.transitions));
  });

  it('writes a prefix and metadata', async () => {
    const crf = await CRF.create(2, { seed: 1 });
    const bytes = crf.toSafetensors({ prefix: 'model.crf.', metadata: { note: 'trained in JS' } });
    const file = parseSafetensors(bytes);
    expect([...file.tensors.keys()]).toEqual(['model.crf.start_transitions', 'model.crf.end_transitions', 'model.crf.transitions']);
    expect(file.metadata).toEqual({ note: 'trained in JS' });
    const back = await CRF.fromSafetensors(bytes, { prefix: 'model.crf.' });
    expect(Array.from(back.transitions)).toEqual(Array.from(crf.transitions));
    expect(() => crf.toSafetensors({ metadata: { n: 1 as unknown as string } })).toThrow(/metadata\.n: expected a string/);
  });

  it('writeSafetensors F64 and a tensor named __proto__ survive the trip', () => {
    // fromEntries defines an own key named __proto__ (an object literal would set the prototype).
    const bytes = writeSafetensors(
      Object.fromEntries([
        ['__proto__', { dtype: 'F64', shape: [2], data: [Math.PI, -0] }],
        ['e', { shape: [0, 3], data: [] }],
      ]),
    );
    const file = parseSafetensors(bytes);
    expect(Array.from(tensorValues(file.tensors.get('__proto__')!))).toEqual([Math.PI, -0]);
    expect(file.tensors.get('e')!.shape).toEqual([0, 3]);
  });
});

describe('malformed files throw CRFInputError saying what is wrong', () => {
  const ok = (extra: Record<string, unknown> = {}) => ({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, ...extra });
  const cases: [string, () => Uint8Array | ArrayBuffer, RegExp][] = [
    ['fewer than 8 bytes', () => Uint8Array.of(1, 0, 0), /at least 8 bytes .*got a file of 3 bytes/],
    ['header length past the end', () => assemble('{}', [], u64le(50)), /header length within the file \(at most 2 bytes.*got header length 50/],
    ['header length over 2^32', () => assemble('{}', [], [2, 0, 0, 0, 1, 0, 0, 0]), /got header length 4294967298/],
    ['invalid UTF-8', () => Uint8Array.from([...u64le(3), 0x7b, 0xff, 0x7d]), /UTF-8 header/],
    ['invalid JSON', () => assemble('{"a": {"dtype": "F32", ', []), /valid JSON header/],
    ['header not an object', () => assemble('[1, 2]', []), /header starting with '\{'/],
    ['content after the object', () => assemble('{} x', []), /extra content/],
    [
      'duplicate keys',
      () => assemble('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', f32(1, 2)),
      /unique keys in the header, got the key "a" twice/,
    ],
    ['entry not an object', () => assemble(JSON.stringify({ a: [1] }), []), /tensor "a" to be an object/],
    [
      'unknown field',
      () => assemble(JSON.stringify(ok({ b: { dtype: 'F32', shape: [0], data_offsets: [8, 8], extra: 1 } })), f32(1, 2)),
      /only dtype, shape, data_offsets.*"extra"/,
    ],
    [
      'unknown dtype',
      () => assemble(JSON.stringify({ a: { dtype: 'F128', shape: [1], data_offsets: [0, 16] } }), new Array(16).fill(0)),
      /a dtype among .*got "F128"/,
    ],
    [
      'shape with a fraction',
      () => assemble(JSON.stringify({ a: { dtype: 'F32', shape: [2.5], data_offsets: [0, 8] } }), f32(1, 2)),
      /shape of non-negative integers, got \[2\.5\]/,
    ],
    [
      'shape with a negative',
      () => assemble(JSON.stringify({ a: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } }), f32(1, 2)),
      /shape of non-negative integers/,
    ],
    [
      'shape not an array',
      () => assemble(JSON.stringify({ a: { dtype: 'F32', shape: '2', data_offsets: [0, 8] } }), f32(1, 2)),
      /shape of non-negative integers, got "2"/,
    ],
    [
      'byte length against dtype and shape',
      () => assemble(JSON.stringify({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }), f32(1, 2)),
      /12 bytes for F32 \[3\], got data_offsets \[0, 8\] \(8 bytes\)/,
    ],
    [
      'a shape whose product overflows',
      () => assemble(JSON.stringify({ a: { dtype: 'F32', shape: [2 ** 40, 2 ** 40], data_offsets: [0, 8] } }), f32(1, 2)),
      /bytes for F32/,
    ],
    [
      'offsets past the data section',
      () => assemble(JSON.stringify({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }), f32(1, 2)),
      /inside the data section of 8 bytes, got \[0, 16\]/,
    ],
    ['begin after end', () => assemble(JSON.stringify({ a: { dtype: 'F32', shape: [0], data_offsets: [8, 4] } }), f32(1, 2)), /begin ≤ end/],
    ['offsets not a pair', () => assemble(JSON.stringify({ a: { dtype: 'F32', shape: [2], data_offsets: [0] } }), f32(1, 2)), /data_offsets \[begin, end\]/],
    ['overlapping tensors', () => assemble(JSON.stringify(ok({ b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } })), f32(1, 2)), /do not overlap/],
    [
      'a hole in the data section',
      () => assemble(JSON.stringify({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }), f32(1, 2)),
      /no holes, got bytes \[0, 4\)/,
    ],
    ['trailing bytes', () => assemble(JSON.stringify(ok()), f32(1, 2, 3)), /no holes, got bytes \[8, 12\) after the last tensor/],
    ['metadata not strings', () => assemble(JSON.stringify(ok({ __metadata__: { epoch: 3 } })), f32(1, 2)), /__metadata__ values to be strings/],
    [
      'sub-byte dtype not filling a byte',
      () => assemble(JSON.stringify({ a: { dtype: 'F4', shape: [3], data_offsets: [0, 2] } }), [0, 0]),
      /whole number of bytes/,
    ],
    ['nesting too deep', () => assemble('{"a":' + '['.repeat(100) + ']'.repeat(100) + '}', []), /nested at most 64 deep/],
  ];
  for (const [name, make, message] of cases) {
    it(name, () => {
      const bytes = make();
      expect(() => parseSafetensors(bytes)).toThrow(CRFInputError);
      expect(() => parseSafetensors(bytes)).toThrow(message);
    });
  }

  it('not bytes at all', () => {
    expect(() => parseSafetensors('file.safetensors' as never)).toThrow(/bytes: expected a Uint8Array/);
  });

  const crfFile = (start: [string, number[], number[]], end: [string, number[], number[]], trans: [string, number[], number[]]) =>
    fileOf([
      ['start_transitions', ...start],
      ['end_transitions', ...end],
      ['transitions', ...trans],
    ]);

  it('CRF weights of an integer dtype', async () => {
    const bytes = crfFile(['I32', [1], [1, 0, 0, 0]], ['F32', [1], f32(0)], ['F32', [1, 1], f32(0)]);
    await expect(CRF.fromSafetensors(bytes)).rejects.toThrow(/safetensors start_transitions: expected a floating-point tensor.*got dtype I32/);
  });

  it('CRF weights whose shapes disagree', async () => {
    await expect(CRF.fromSafetensors(crfFile(['F32', [2], f32(0, 0)], ['F32', [3], f32(0, 0, 0)], ['F32', [2, 2], f32(0, 0, 0, 0)]))).rejects.toThrow(
      /end_transitions: expected shape \[2\] as start_transitions, got shape \[3\]/,
    );
    await expect(CRF.fromSafetensors(crfFile(['F32', [2], f32(0, 0)], ['F32', [2], f32(0, 0)], ['F32', [4], f32(0, 0, 0, 0)]))).rejects.toThrow(
      /transitions: expected shape \[2, 2\]/,
    );
    await expect(CRF.fromSafetensors(crfFile(['F32', [0], []], ['F32', [0], []], ['F32', [0, 0], []]))).rejects.toThrow(/expected shape \[K\] with K ≥ 1/);
  });

  it('CRF weights outside float32 ±1e20 (−Infinity aside, which forbids) are refused as loadStateDict refuses them', async () => {
    await expect(CRF.fromSafetensors(crfFile(['F16', [1], u16(0x7c00)], ['F32', [1], f32(0)], ['F32', [1, 1], f32(0)]))).rejects.toThrow(
      /start_transitions: expected a finite number within ±1e20 in float32, or -Infinity \(forbidden\) at flat index 0, got Infinity/,
    );
    await expect(CRF.fromSafetensors(crfFile(['F32', [1], f32(0)], ['F64', [1], f64(1e39)], ['F32', [1, 1], f32(0)]))).rejects.toThrow(
      /end_transitions: expected a finite number within ±1e20.*got 1e\+39/,
    );
    // -1e39 would round to -Infinity in float32: only an explicit -Infinity means forbidden.
    await expect(CRF.fromSafetensors(crfFile(['F32', [1], f32(0)], ['F64', [1], f64(-1e39)], ['F32', [1, 1], f32(0)]))).rejects.toThrow(
      /end_transitions: expected .*got -1e\+39/,
    );
    await expect(CRF.fromSafetensors(crfFile(['F32', [1], f32(0)], ['F32', [1], f32(NaN)], ['F32', [1, 1], f32(0)]))).rejects.toThrow(
      /end_transitions: .*got NaN/,
    );
    const ok = await CRF.fromSafetensors(crfFile(['F16', [1], u16(0xfc00)], ['F32', [1], f32(1e20)], ['F32', [1, 1], f32(-1e20)]));
    expect(ok.stateDict()).toEqual({ start_transitions: [-Infinity], end_transitions: [Math.fround(1e20)], transitions: [[Math.fround(-1e20)]] });
  });

  it('no CRF weights, a partial set under a prefix, or several CRFs without a prefix', async () => {
    const other = fileOf([['encoder.weight', 'F32', [1], f32(1)]]);
    await expect(CRF.fromSafetensors(other)).rejects.toThrow(/CRF weights .* \(under any prefix\), got only "encoder.weight"/);
    const partial = fileOf([
      ['crf.start_transitions', 'F32', [1], f32(1)],
      ['crf.transitions', 'F32', [1, 1], f32(1)],
    ]);
    await expect(CRF.fromSafetensors(partial, { prefix: 'crf.' })).rejects.toThrow(/got no crf\.end_transitions/);
    const set = (p: string): [string, string, number[], number[]][] => [
      [p + 'start_transitions', 'F32', [1], f32(1)],
      [p + 'end_transitions', 'F32', [1], f32(2)],
      [p + 'transitions', 'F32', [1, 1], f32(3)],
    ];
    const two = fileOf([...set('a.crf.'), ...set('b.crf.')]);
    await expect(CRF.fromSafetensors(two)).rejects.toThrow(/prefix: expected one of "a\.crf\.", "b\.crf\."/);
    expect(Array.from((await CRF.fromSafetensors(two, { prefix: 'b.crf.' })).endTransitions)).toEqual([2]);
    await expect(CRF.fromSafetensors(two, { prefix: 3 as unknown as string })).rejects.toThrow(/prefix: expected a string/);
  });

  it('a header string of 90 MB parses whole, in a child with a 1 GB heap (built a character at a time it took 3.3 GB)', async () => {
    const { execFileSync } = await import('node:child_process');
    const out = execFileSync(
      process.execPath,
      [
        '--max-old-space-size=1024',
        '--input-type=module',
        '-e',
        `
      import { parseSafetensors, writeSafetensors } from 'webcrf';
      const big = 'x'.repeat(45e6) + '\\u00e9\\n' + 'y'.repeat(45e6);
      const file = writeSafetensors({ w: { shape: [1], data: [2] } }, { note: big });
      const f = parseSafetensors(file);
      console.log(f.metadata.note.length, f.metadata.note.slice(45e6 - 1, 45e6 + 3) === 'x\\u00e9\\ny');`,
      ],
      { cwd: new URL('../..', import.meta.url), encoding: 'utf8', timeout: 60_000 },
    );
    expect(out.trim()).toBe(`${90e6 + 2} true`);
  }, 90_000);

  it('error messages stay short when the file is hostile (a 2M-entry shape)', () => {
    const shape = JSON.stringify(new Array(2_000_000).fill(-1));
    const err = (() => {
      try {
        parseSafetensors(assemble(`{"w":{"dtype":"F32","shape":${shape},"data_offsets":[0,0]}}`, []));
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err).toBeInstanceOf(CRFInputError);
    expect(err!.message).toMatch(/a shape of non-negative integers, got \[-1, -1, -1, -1, -1, -1, … \(2000000 dimensions\)\]/);
    expect(err!.message.length).toBeLessThan(300);
  });

  it('never reads out of bounds: any truncation or corruption parses or throws CRFInputError', async () => {
    const good = fileOf(
      [
        ['crf.start_transitions', 'BF16', [2], u16(0x3f80, 0xc020)],
        ['crf.end_transitions', 'F16', [2], u16(0x3800, 0x4000)],
        ['crf.transitions', 'F32', [2, 2], f32(1, 2, 3, 4)],
      ],
      { a: 'b' },
    );
    for (let cut = 0; cut < good.length; cut++) {
      expect(() => parseSafetensors(good.subarray(0, cut)), `cut at ${cut}`).toThrow(CRFInputError);
    }
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.nat(good.length - 1), fc.nat(255)), { minLength: 1, maxLength: 4 }), async (edits) => {
        const bytes = Uint8Array.from(good);
        for (const [at, v] of edits) bytes[at] = v;
        try {
          await CRF.fromSafetensors(bytes);
        } catch (e) {
          if (!(e instanceof CRFInputError)) throw e;
        }
      }),
      { seed: 1234, numRuns: 400 },
    );
  });
});

describe('tensorValues checks the tensor object it is given', () => {
  const ok = { dtype: 'F32', shape: [2], bytes: Uint8Array.from(f32(1.5, -2)) };

  it.each([
    ['null', null, /expected a tensor \{dtype, shape, bytes\}.*got null/],
    ['a number', 5, /got 5/],
    ['an array', [1, 2], /got an array of length 2/],
    ['no dtype', { shape: [2], bytes: ok.bytes }, /a dtype among .*F32.*got undefined/],
    ['an unknown dtype', { ...ok, dtype: 'F33' }, /a dtype among .*got "F33"/],
    ['no shape', { dtype: 'F32', bytes: ok.bytes }, /a shape of non-negative integers, got undefined/],
    ['a negative dimension', { ...ok, shape: [-2] }, /a shape of non-negative integers, got \[-2\]/],
    ['a fractional dimension', { ...ok, shape: [1.5] }, /a shape of non-negative integers, got \[1.5\]/],
    ['a shape [5] over 4 bytes', { dtype: 'F32', shape: [5], bytes: new Uint8Array(4) }, /20 bytes for F32 \[5\], got 4 bytes/],
    ['6 bytes of F32', { dtype: 'F32', shape: [1], bytes: new Uint8Array(6) }, /4 bytes for F32 \[1\], got 6 bytes/],
    ['3 bytes of F16', { dtype: 'F16', shape: [1], bytes: new Uint8Array(3) }, /2 bytes for F16 \[1\], got 3 bytes/],
    ['a shape past 2^53 elements', { dtype: 'F64', shape: [2 ** 40, 2 ** 40], bytes: new Uint8Array(8) }, /more than 8 bytes for F64/],
    ['no bytes', { dtype: 'F32', shape: [2] }, /bytes: a Uint8Array .*got undefined/],
    ['bytes as numbers', { ...ok, bytes: f32(1.5, -2) }, /bytes: a Uint8Array .*got an array of length 8/],
    ['bytes as a Float32Array', { ...ok, bytes: Float32Array.of(1.5, -2) }, /bytes: a Uint8Array .*got a Float32Array/],
  ])('%s is refused naming the tensor', (_n, t, message) => {
    expect(() => tensorValues(t as never, 'w')).toThrow(CRFInputError);
    expect(() => tensorValues(t as never, 'w')).toThrow(message);
    try {
      tensorValues(t as never, 'w');
    } catch (e) {
      expect((e as CRFInputError).argument).toBe('w');
    }
  });

  it('bytes whose buffer was transferred away are refused', () => {
    const bytes = Uint8Array.from(f32(1.5, -2));
    structuredClone(bytes.buffer, { transfer: [bytes.buffer] });
    expect(() => tensorValues({ dtype: 'F32', shape: [2], bytes })).toThrow(/bytes whose buffer is still readable, got .*transferred/);
  });

  it('an integer dtype is named as before', () => {
    expect(() => tensorValues({ dtype: 'I32', shape: [1], bytes: new Uint8Array(4) }, 'w')).toThrow(
      /w: expected a floating-point tensor \(F32, F64, F16 or BF16\), got dtype I32/,
    );
  });

  it('a well-formed tensor decodes, also one of a Node Buffer and one of a scalar', () => {
    expect(Array.from(tensorValues(ok))).toEqual([1.5, -2]);
    expect(Array.from(tensorValues({ ...ok, bytes: Buffer.from(ok.bytes) }))).toEqual([1.5, -2]);
    expect(Array.from(tensorValues({ dtype: 'F64', shape: [], bytes: Uint8Array.from(f64(0.25)) }))).toEqual([0.25]);
    expect(Array.from(tensorValues({ dtype: 'BF16', shape: [0, 7], bytes: new Uint8Array(0) }))).toEqual([]);
  });

  it('random tensor objects decode to product(shape) values or throw CRFInputError, as an independent check predicts', () => {
    const dtypes = ['F32', 'F64', 'F16', 'BF16', 'I32', 'U8', 'F4', 'f32', '', 7, null];
    const size: Record<string, number> = { F32: 4, F64: 8, F16: 2, BF16: 2 };
    fc.assert(
      fc.property(
        fc.constantFrom(...dtypes),
        fc.array(fc.oneof(fc.integer({ min: -1, max: 4 }), fc.constantFrom(0.5, NaN, '2', null)), { maxLength: 3 }),
        fc.integer({ min: 0, max: 40 }),
        fc.constantFrom('Uint8Array', 'Buffer', 'array', 'Int8Array', 'absent'),
        (dtype, shape, n, kind) => {
          const raw = Uint8Array.from({ length: n }, (_, i) => (i * 37) & 0xff);
          const bytes =
            kind === 'Uint8Array'
              ? raw
              : kind === 'Buffer'
                ? Buffer.from(raw)
                : kind === 'array'
                  ? Array.from(raw)
                  : kind === 'Int8Array'
                    ? new Int8Array(raw)
                    : undefined;
          const t = { dtype, shape, ...(bytes === undefined ? {} : { bytes }) };
          const dims = shape.every((d) => typeof d === 'number' && Number.isInteger(d) && d >= 0);
          const count = dims ? (shape as number[]).reduce((a, b) => a * b, 1) : -1;
          const valid = typeof dtype === 'string' && dtype in size && dims && (kind === 'Uint8Array' || kind === 'Buffer') && count * size[dtype] === n;
          let out: Float64Array;
          try {
            out = tensorValues(t as never);
          } catch (e) {
            expect(e).toBeInstanceOf(CRFInputError);
            expect(valid).toBe(false);
            return;
          }
          expect(valid).toBe(true);
          expect(out.length).toBe(count);
        },
      ),
      { seed: 2027, numRuns: 1000 },
    );
  });
});

describe('writeSafetensors writes what it is given or refuses it', () => {
  it('an F32 tensor refuses a finite value that F32 cannot hold (it became Infinity)', () => {
    for (const v of [1e39, -3.5e38]) {
      let err: unknown = null;
      try {
        writeSafetensors({ w: { shape: [2], data: [0, v] } });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(CRFInputError);
      expect((err as CRFInputError).argument).toBe('tensors.w.data');
      expect((err as Error).message).toMatch(/within F32's range .* at \[1\]/);
    }
    // Rounding within the range, the infinities and NaN are written as given; F64 holds 1e39.
    const back = parseSafetensors(
      writeSafetensors({ w: { shape: [4], data: [0.1, Infinity, -Infinity, NaN] }, d: { dtype: 'F64', shape: [1], data: [1e39] } }),
    );
    expect(Array.from(tensorValues(back.tensors.get('w')!))).toEqual([Math.fround(0.1), Infinity, -Infinity, NaN]);
    expect(Array.from(tensorValues(back.tensors.get('d')!))).toEqual([1e39]);
  });
});
