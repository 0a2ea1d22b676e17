import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

// Imports the built package by name, as examples.test.ts's examples do.
const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const run = promisify(execFile);

describe('examples/tfjs-tagger.js', () => {
  it('trains a BiLSTM tagger and the CRF in tfjs: the loss falls, no tensor piles up, and the CRF decodes well', async () => {
    const { stdout } = await run(process.execPath, [join(root, 'examples', 'tfjs-tagger.js')], { cwd: root, timeout: 120_000 });
    const lines = stdout.trim().split('\n');
    const losses = lines.filter((l) => /^epoch \d+: /.test(l)).map((l) => Number(/loss (-?\d+\.\d+)/.exec(l)![1]));
    expect(losses.length).toBe(8);
    expect(losses[7]).toBeLessThan(losses[0] / 2);
    const last = /^held-out token accuracy: emissions argmax (\d\.\d+), CRF decode (\d\.\d+)$/.exec(lines[lines.length - 1]);
    expect(last, lines[lines.length - 1]).not.toBeNull();
    const [argmax, crf] = [Number(last![1]), Number(last![2])];
    expect(crf >= argmax || crf >= 0.85, `CRF ${crf} vs argmax ${argmax}`).toBe(true);
    // The tensors alive at the end: the datasets, the model's and the CRF's variables, Adam's slots.
    expect(Number(/^tensors: (\d+)$/m.exec(stdout)![1])).toBeLessThan(80);
  }, 120_000);
});
