// The work and memory of a call are bounded by the data actually given: a claimed shape never drives a
// loop, a sparse row is not walked, a call's k-best memory is bounded before anything is allocated, no
// batch-sized array is spread into arguments, and WASM sizes cannot wrap. The reproducers that hung or
// killed the process run in a child with a deadline and a small heap, so a regression fails the test
// instead of the test run.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CRF, CRFInputError, allowedFromTags } from '../../src/index.js';
import { MAX_ANNOTATION_SLOTS, MAX_KBEST_CELLS, MAX_TAGS } from '../../src/limits.js';
import { availableBackends } from '../backends.js';
import { inputError } from '../helpers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const backends = await availableBackends();

/** Runs `code` (an ES module importing 'webcrf') in a child Node with a deadline and a heap limit. */
function child(code: string, { timeout = 20_000, heapMb = 512 } = {}): string {
  return execFileSync(process.execPath, [`--max-old-space-size=${heapMb}`, '--input-type=module', '-e', code], {
    cwd: root,
    encoding: 'utf8',
    timeout,
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();
}

describe('claimed dimensions never drive work', () => {
  it('an empty batch claiming 2^52 steps (or 2^52 sequences of no steps) returns at once; 2^53 is no dimension', () => {
    const out = child(
      `import { CRF } from 'webcrf';
      const crf = await CRF.create(3, { batchFirst: false });
      const r = [];
      r.push(JSON.stringify(await crf.decode({ data: [], shape: [2 ** 52, 0, 3] })));
      r.push((await crf.marginals({ data: new Float32Array(0), shape: [2 ** 52, 0, 3] })).length);
      r.push((await crf.forwardBackward({ data: [], shape: [2 ** 52, 0, 3] }, { data: [], shape: [2 ** 52, 0] })).grads.emissions.length);
      const bf = await CRF.create(3);
      r.push(JSON.stringify(await bf.decode({ data: [], shape: [0, 2 ** 52, 3] }, { topK: 3 })));
      for (const shape of [[2 ** 52, 0, 3], [2 ** 53, 0, 3]]) {
        try { await bf.decode({ data: [], shape }); r.push('accepted'); } catch (e) { r.push(e.name + ' ' + e.argument); }
      }
      console.log(r.join('|'));`,
      { timeout: 10_000 },
    );
    expect(out).toBe('[]|0|0|[]|CRFInputError emissions|CRFInputError emissions');
  });

  it('a sparse row of 10^8 is refused by its length, not walked', () => {
    const out = child(
      `import { CRF } from 'webcrf';
      const crf = await CRF.create(3);
      const r = [];
      for (const em of [[[new Array(1e8)]], [[[1, 2, 3], new Array(1e8)]], [[new Array(3), [1, 2, 3]]]]) {
        try { await crf.decode(em); r.push('ok'); } catch (e) { r.push(e.name + ' ' + e.argument); }
      }
      console.log(r.join('|'));`,
      { timeout: 10_000, heapMb: 256 },
    );
    expect(out).toBe('CRFInputError emissions|CRFInputError emissions|CRFInputError emissions');
  });

  it('data claiming 3·2^40 values is refused before a value is read', async () => {
    const crf = await CRF.create(3, { backend: 'js' });
    const fake = { length: 3 * 2 ** 40 };
    await expect(crf.decode({ data: fake as unknown as number[], shape: [2 ** 20, 2 ** 20, 3] })).rejects.toThrow(/at most 268435456 values/);
    await expect(crf.forward([[[0, 0, 0]]], { data: fake as unknown as number[], shape: [2 ** 40, 3] })).rejects.toThrow(CRFInputError);
  });
});

describe('allowedFromTags: its nested result is bounded before anything is allocated', () => {
  it('numTags 1e8, a 300 × 300 grid of unknowns at 4096 tags, numTags 2^32 and a claimed 2^40 rows are refused at once, naming the argument', () => {
    const out = child(
      `import { allowedFromTags } from 'webcrf';
      const grid = Array.from({ length: 300 }, () => new Array(300).fill(-1));
      const r = [];
      for (const [labels, K] of [[[[-1, -1, -1, -1]], 1e8], [grid, 4096], [[[0]], 5000], [[[0]], 2 ** 32], [{ length: 2 ** 40, 0: [-1, -1] }, 3]]) {
        try { allowedFromTags(labels, K); r.push('accepted'); } catch (e) { r.push(e.name + ' ' + e.argument); }
      }
      console.log(r.join('|'));`,
      { timeout: 10_000, heapMb: 256 },
    );
    expect(out).toBe('CRFInputError numTags|CRFInputError labels|CRFInputError numTags|CRFInputError numTags|CRFInputError labels');
  });

  it('numTags is bounded as CRF.create bounds it', async () => {
    expect(allowedFromTags([[0, -1]], MAX_TAGS)[0][1].length).toBe(MAX_TAGS);
    for (const K of [MAX_TAGS + 1, 0, 2.5, NaN]) {
      const e = await inputError(() => allowedFromTags([[0]], K));
      expect(e.argument).toBe('numTags');
      expect(e.message).toContain(`an integer in [1, ${MAX_TAGS}]`);
    }
  });

  it('the largest result allowed is built, right; one position more is refused, quoting the bound', async () => {
    // d0 · d1 · (K + 8) + 8 · d0 array slots: each position's array costs about 8 slots besides its K values.
    const K = MAX_TAGS,
      d0 = 4;
    const d1 = Math.floor((MAX_ANNOTATION_SLOTS / d0 - 8) / (K + 8));
    const labels = Array.from({ length: d0 }, (_, a) =>
      Array.from({ length: d1 }, (_, b) => ((a + b) % 3 === 0 ? -1 : (a * 7 + b) % 5 === 0 ? [b % K, (b + 1) % K] : (a + b) % K)),
    );
    const got = allowedFromTags(labels, K);
    expect(got.length).toBe(d0);
    let wrong = 0;
    for (let a = 0; a < d0; a++) {
      expect(got[a].length).toBe(d1);
      for (let b = 0; b < d1; b++) {
        const l = labels[a][b];
        const row = got[a][b];
        if (row.length !== K) wrong++;
        for (let j = 0; j < K; j++) if (row[j] !== (l === -1 ? true : Array.isArray(l) ? l.includes(j) : l === j)) wrong++;
      }
    }
    expect(wrong).toBe(0);
    labels[0].push(0);
    for (const row of labels) if (row.length === d1) row.push(0);
    const e = await inputError(() => allowedFromTags(labels, K));
    expect(e.argument).toBe('labels');
    expect(e.message).toContain('2^24');
    expect(e.message).toContain(`shape [${d0}, ${d1 + 1}] with numTags ${K}`);
  });
});

describe('k-best memory is bounded for the whole call', () => {
  it('B=8, T=25, K=2, topK 1,300,000 (which killed Node with 7 GB) is refused, stating the bound', () => {
    const out = child(
      `import { CRF } from 'webcrf';
      const crf = await CRF.create(2, { backend: 'wasm' });
      try { await crf.decode({ data: new Float32Array(8 * 25 * 2), shape: [8, 25, 2] }, { topK: 1_300_000 }); console.log('accepted'); }
      catch (e) { console.log(e.name + ' | ' + e.message); }`,
      { timeout: 20_000, heapMb: 1024 },
    );
    expect(out).toMatch(
      /^CRFInputError \| topK: expected at most 83886 for 8 sequences of up to 25 steps and 2 tags \(the k-best table, T·K·k with K rounded up to a multiple of 4, is capped at 2\^24 cells; the result at 2\^20 paths and 2\^24 tags\), got 1300000$/,
    );
  });

  it.each(backends.map((b) => [b.name, b.options] as const))(
    '%s: the largest allowed k-best call works and its memory is not kept',
    async (name, options) => {
      const crf = await CRF.create(2, { backend: name, ...options, seed: 3 });
      const T = 25;
      const k = Math.floor(MAX_KBEST_CELLS / (T * 4));
      const em = { data: Float32Array.from({ length: T * 2 }, (_, i) => Math.sin(i)), shape: [1, T, 2] };
      const [list] = await crf.decode(em, { topK: k });
      expect(list.length).toBe(k);
      for (let r = 1; r < 50; r++) expect(list[r].score).toBeLessThanOrEqual(list[r - 1].score);
      expect(list[0].path).toEqual((await crf.decode(em))[0]);
      // The wasm kernels needed 200 MB for it; no more than the 128 MiB a CRF keeps stays behind.
      expect(crf.memoryUsage().wasmBytes).toBeLessThanOrEqual(128 * 2 ** 20);
      await expect(crf.decode(em, { topK: k + 1 })).rejects.toThrow(/topK: expected at most/);
      crf.dispose();
    },
    120_000,
  );

  it('a batch of 140,000 sequences decodes with topK (a spread of the lengths overflowed the stack)', async () => {
    const crf = await CRF.create(2, { backend: 'wasm', seed: 1 });
    const B = 140_000;
    const out = await crf.decode({ data: new Float32Array(B * 2 * 2).map((_, i) => Math.cos(i)), shape: [B, 2, 2] }, { topK: 2 });
    expect(out.length).toBe(B);
    expect(out[B - 1].length).toBe(2);
  });

  it('no source file spreads an array into a call (a batch-sized spread overflows the stack)', () => {
    const offenders: string[] = [];
    const src = new URL('../../src/', import.meta.url);
    for (const f of readdirSync(src, { recursive: true, encoding: 'utf8' })) {
      if (!f.endsWith('.ts') || f.startsWith('generated')) continue;
      const text = readFileSync(new URL(f, src), 'utf8');
      text.split('\n').forEach((line, i) => {
        if (/\b(Math\.(max|min)|\.push|\.unshift|String\.fromCharCode|\.apply)\([^)]*\.\.\./.test(line)) offenders.push(`src/${f}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(offenders).toEqual([]);
  });
});

describe('WASM sizes are computed in float64 and checked before memory grows', () => {
  it('marginals at K=1, T=60,000,000 (a u32 size that wrapped and trapped) are refused with CRFInputError', async () => {
    const crf = await CRF.create(1, { backend: 'wasm' });
    for (const T of [59_000_000, 60_000_000]) {
      const err = await crf.marginals({ data: new Float32Array(T), shape: [1, T, 1] }).catch((e) => e);
      expect(err).toBeInstanceOf(CRFInputError);
      expect(err.argument).toBe('emissions');
      expect(err.message).toMatch(/fits in memory \(a wasm32 module addresses at most 4 GiB\); split the batch, got one that needs \d+ bytes/);
    }
    // The instance is unchanged: the next call computes.
    expect(Array.from(await crf.marginals([[[0.5], [1]]]))).toEqual([1, 1]);
    crf.dispose();
  }, 60_000);
});
