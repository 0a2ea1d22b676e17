// The Quick start snippets of the README and the guide home run as written (importing the built package
// by its name, as a user's script does) and give what their comments say.
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const run = promisify(execFile);

it.each(['README.md', 'docs/index.md'])('the Quick start snippet of %s runs, and its decode and sample give paths as long as the mask', async (file) => {
  const text = readFileSync(join(root, file), 'utf8');
  const block = /```ts\n(import \{ CRF, maskFromTags \} from 'webcrf';[\s\S]*?)```/.exec(text);
  expect(block, `${file}: the Quick start block`).not.toBeNull();
  // Inside the package, 'webcrf' resolves to the package itself (its own exports).
  const dir = join(root, 'test/artifacts');
  mkdirSync(dir, { recursive: true });
  const script = join(dir, `quick-start-${file.replace(/\W/g, '-')}.mjs`);
  writeFileSync(script, `${block![1]}\nconsole.log(JSON.stringify({ best, top3, drawn }));\n`);
  const { stdout } = await run(process.execPath, [script], { cwd: root, timeout: 60_000 });
  const { best, top3, drawn } = JSON.parse(stdout) as { best: number[][]; top3: unknown[][]; drawn: number[][][] };
  expect(best.map((p) => p.length)).toEqual([3, 2]);
  expect(top3.map((l) => l.length)).toEqual([3, 3]);
  expect(drawn.map((s) => s.length)).toEqual([4, 4]);
  expect(drawn.map((s) => s.map((p) => p.length))).toEqual([
    [3, 3, 3, 3],
    [2, 2, 2, 2],
  ]);
});
