// The js blocks of docs/models.md's "Training in TensorFlow.js" section run as written, as a user's ES
// module (under build/, inside the package, so that 'webcrf' and 'webcrf/tfjs' resolve to the built
// package through its own exports), and print what they say.
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const run = promisify(execFile);
const text = readFileSync(join(root, 'docs/models.md'), 'utf8');
const section = text.slice(text.indexOf('## Training in TensorFlow.js'));
const blocks = [...section.matchAll(/^```js\n([\s\S]*?)^```$/gm)].map((m) => m[1]);

it('the section has its three snippets', () => {
  expect(blocks.length).toBe(3);
});

it.each(blocks.map((code, i) => [i, code]))(
  'snippet %i runs',
  async (i, code) => {
    const dir = join(root, 'build/snippets-tfjs');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `snippet-${i}.mjs`);
    writeFileSync(file, code as string);
    const { stdout } = await run(process.execPath, [file], { cwd: root, timeout: 60_000 });
    if (i === 0) {
      const losses = [...stdout.matchAll(/loss (\d+\.\d+)/g)].map((m) => Number(m[1]));
      expect(losses.length).toBe(2);
      expect(stdout).toMatch(/\[\s*\[\s*\d, \d, \d, \d\s*\],\s*\[\s*\d, \d, \d\s*\]\s*\]/);
    }
    if (i === 1) {
      // Three steps, the same variables each (a layer whose weights appeared after the first step made
      // tfjs's Adam pair moments with the wrong variables at the second), the loss falling.
      const steps = [...stdout.matchAll(/^loss (\d+\.\d+), gradient norm \d+\.\d+$/gm)].map((m) => Number(m[1]));
      expect(steps.length).toBe(3);
      expect(steps[2]).toBeLessThan(steps[0]);
    }
    if (i === 2) expect(stdout).toMatch(/^-?\d+(\.\d+)? 9 \[ \[ 0, 1, 2 \] \]$/m);
  },
  60_000,
);
