import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

// The examples import the built package by its name ('webcrf'), as a user's script would. `npm test` builds
// it before any test runs; rebuilding here would rewrite dist/ under the tests running beside this one.
const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const run = promisify(execFile);
const node = (script: string) => run(process.execPath, [join(root, 'examples', script)], { cwd: root, timeout: 120_000 }).then((r) => r.stdout);

describe('examples/seed.js', () => {
  it('prints 50 epochs of a falling loss, the test log-likelihood and decode, identically on every run', async () => {
    const [a, b] = await Promise.all([node('seed.js'), node('seed.js')]);
    expect(a).toBe(b);
    const lines = a.trim().split('\n');
    const epochs = lines.filter((l) => l.startsWith('epoch '));
    expect(epochs.length).toBe(50);
    const losses = epochs.map((l, i) => {
      const m = /^epoch (\d+): loss (-?\d+\.\d+)$/.exec(l);
      expect(m, l).not.toBeNull();
      expect(Number(m![1])).toBe(i + 1);
      return Number(m![2]);
    });
    expect(losses[49]).toBeLessThan(losses[0]);
    const llh = /^test log-likelihood: (-?\d+\.\d+)$/m.exec(a);
    expect(llh).not.toBeNull();
    expect(Number(llh![1])).toBeLessThan(0);
    const decode = /^test decode: (.*)$/m.exec(a);
    const paths = JSON.parse(decode![1]) as number[][];
    expect(paths.length).toBe(5);
    for (const p of paths) {
      expect(p.length).toBe(3);
      for (const y of p) expect(y >= 0 && y < 5).toBe(true);
    }
  });
});

describe('examples/joint.js', () => {
  it('reports progress per epoch and ends with held-out accuracies where the CRF adds accuracy', async () => {
    const out = await node('joint.js');
    const lines = out.trim().split('\n');
    const epochs = lines.filter((l) => /^epoch \d+: /.test(l));
    expect(epochs.length).toBeGreaterThan(0);
    for (const l of epochs) expect(l).toMatch(/^epoch \d+: loss -?\d+\.\d+ .*accuracy argmax \d\.\d+, CRF \d\.\d+$/);
    const last = /^held-out token accuracy: emissions argmax (\d\.\d+), CRF decode (\d\.\d+)$/.exec(lines[lines.length - 1]);
    expect(last, lines[lines.length - 1]).not.toBeNull();
    const [argmax, crf] = [Number(last![1]), Number(last![2])];
    expect(argmax).toBeGreaterThan(0.2);
    expect(crf).toBeLessThanOrEqual(1);
    expect(crf).toBeGreaterThanOrEqual(argmax);
  });
});

describe("examples/train-tagger.js (the README's main command)", () => {
  it('imports the package by name and runs on the WASM kernels', async () => {
    const out = await node('train-tagger.js');
    expect(out).toMatch(/^backend: wasm$/m);
    const acc = /^held-out token accuracy: emissions argmax (\d\.\d+), CRF decode (\d\.\d+)$/m.exec(out);
    expect(acc).not.toBeNull();
    expect(Number(acc![2])).toBeGreaterThan(Number(acc![1]));
  });
});

describe('examples/partial.js', () => {
  it('trains once with unlabelled tokens as O and once with partial annotations; the partial run finds more spans', async () => {
    const out = await node('partial.js');
    const lines = out.trim().split('\n');
    for (const mode of ['as O', 'partial']) {
      const epochs = lines.filter((l) => l.startsWith(mode.padEnd(7) + ' epoch'));
      expect(epochs.length).toBeGreaterThan(2);
      for (const l of epochs) expect(l).toMatch(/epoch +\d+: log-likelihood -?\d+\.\d+, held-out span F1 \d\.\d+$/);
    }
    const last = /^held-out span F1: unlabelled as O (\d\.\d+), partial annotations (\d\.\d+)$/.exec(lines[lines.length - 1]);
    expect(last, lines[lines.length - 1]).not.toBeNull();
    expect(Number(last![2])).toBeGreaterThan(Number(last![1]) + 0.1);
  });
});
