// The training helpers work on typed arrays in place (or read other arrays once into a typed array
// whose length was bounded first): no value-by-value copy into a plain array, which at 1.2e8 values
// aborted Node ("Fatal JavaScript invalid size error") and at 1.1e8 took 3 GB. The reproducers run in a
// child Node whose heap is far smaller than such a copy, so a regression fails the test instead of
// aborting the test run.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Adam, AutomaticWeightedLoss, clipGradNorm, crossEntropy } from '../../src/index.js';
import { MAX_VALUES } from '../../src/limits.js';
import { inputError } from '../helpers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Runs `code` (an ES module importing 'webcrf') in a child Node with a 64 MB heap; its stdout, or what killed it. */
function child(code: string): string {
  try {
    return execFileSync(process.execPath, ['--max-old-space-size=64', '--input-type=module', '-e', code], {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
      stdio: ['ignore', 'pipe', 'pipe'],
    }).trim();
  } catch (e) {
    const err = e as { status: number | null; signal: string | null; stderr?: string };
    return `child died (status ${err.status}, signal ${err.signal}): ${(err.stderr ?? '').split('\n').find((l) => /FATAL|Error/.test(l)) ?? ''}`;
  }
}

// 10^7 values: 40 MB as a Float32Array (outside the heap), 80 MB and more as a plain array (inside it).
const N = 1e7;

describe('the training helpers on 10^7 values run within a 64 MB heap', () => {
  it('clipGradNorm scales a Float32Array in place and returns its norm', () => {
    const out = child(
      `import { clipGradNorm } from 'webcrf';
      const emb = new Float32Array(${N}).fill(1e-3);
      const norm = clipGradNorm({ emb }, 1);
      console.log(JSON.stringify([norm, emb[0], emb[${N - 1}]]));`,
    );
    const want = Math.sqrt(N) * Math.fround(1e-3);
    const [norm, first, last] = JSON.parse(out) as number[];
    expect(Math.abs(norm - want)).toBeLessThan(1e-9 * want);
    expect(first).toBe(Math.fround(Math.fround(1e-3) * (1 / (norm + 1e-6))));
    expect(last).toBe(first);
  });

  it('Adam steps Float32Array parameters with a Float32Array gradient', () => {
    const out = child(
      `import { Adam } from 'webcrf';
      const emb = new Float32Array(${N}).fill(1);
      const adam = new Adam({ emb }, { lr: 0.5 });
      adam.step({ emb: new Float32Array(${N}).fill(2) });
      console.log(JSON.stringify([emb[0], emb[${N - 1}], adam.stepCount]));`,
    );
    // A constant gradient's first step is lr·g/(|g| + eps).
    const want = Math.fround(1 - (0.5 * 2) / (2 + 1e-8));
    expect(JSON.parse(out)).toEqual([want, want, 1]);
  });

  it('crossEntropy reads Float32Array logits of [N, C] and returns the loss and its gradient', () => {
    const C = 4;
    const out = child(
      `import { crossEntropy } from 'webcrf';
      const n = ${N / C};
      const logits = new Float32Array(${N});
      for (let i = 0; i < n; i++) logits[i * ${C} + (i % ${C})] = 1;
      const labels = Int32Array.from({ length: n }, (_, i) => i % ${C});
      const { loss, grad } = crossEntropy({ data: logits, shape: [n, ${C}] }, { data: labels, shape: [n] });
      console.log(JSON.stringify([loss, grad.length, grad[0]]));`,
    );
    // Every token: logits 1 at its label and 0 elsewhere, so loss = log(e + C − 1) − 1 and ∂/∂label = (p − 1)/n.
    const lse = Math.log(Math.E + C - 1);
    const [loss, length, g0] = JSON.parse(out) as number[];
    expect(Math.abs(loss - (lse - 1))).toBeLessThan(1e-9); // a mean of 2.5·10^6 equal terms, summed in order
    expect(length).toBe(N);
    expect(g0).toBe(Math.fround((Math.exp(1 - lse) - 1) / (N / C)));
  });
});

describe('arrays that are not typed arrays are bounded before they are read', () => {
  const bound = new RegExp(`at most ${MAX_VALUES} values \\(2\\^28\\)`);

  it('clipGradNorm refuses an array claiming more than 2^28 values, naming the bound, without reading or allocating for it', async () => {
    for (const length of [MAX_VALUES + 1, 2 ** 31, 2 ** 32 - 1]) {
      const t0 = performance.now();
      const err = await inputError(() => clipGradNorm({ w: new Array(length) }, 1));
      expect(err.argument).toBe('grads.w');
      expect(err.message).toMatch(bound);
      expect(err.message).toMatch(/Float32Array/);
      expect(performance.now() - t0).toBeLessThan(1000);
    }
  });

  it('an array of up to 2^28 values fails at the first one it lacks', async () => {
    const err = await inputError(() => clipGradNorm([new Array(MAX_VALUES)], 1));
    expect(err.message).toMatch(/at \[0\], got undefined/);
  });

  it('crossEntropy, Adam and AutomaticWeightedLoss refuse claimed sizes before reading a value', async () => {
    const claim = (length: number) => ({ length }) as unknown as number[];
    let err = await inputError(() => crossEntropy({ data: claim(2 ** 31), shape: [2 ** 29, 4] }, { data: claim(2 ** 29), shape: [2 ** 29] }));
    expect(err.argument).toBe('logits');
    expect(err.message).toMatch(bound);
    err = await inputError(() => crossEntropy({ data: Float32Array.of(0, 1), shape: [1, 2] }, { data: claim(2 ** 31), shape: [2 ** 31] }));
    expect(err.argument).toBe('labels');
    err = await inputError(() => new Adam({ x: new Float32Array(4) }).step({ x: claim(2 ** 31) }));
    expect(err.message).toMatch(/grads\.x: expected length 4/);
    err = await inputError(() => new AutomaticWeightedLoss(2).forward(claim(2 ** 31)));
    expect(err.argument).toBe('losses');
  });
});
