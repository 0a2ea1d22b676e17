// The built files' lines. An error the package throws and the application does not catch: Node prints
// the source line it was thrown from before the message. The built files are minified, so that line
// must stay short, or the message sits under tens of kilobytes of code (a new user's report: 30 kB of
// one line, the CRFInputError at the bottom). And the lines break nowhere inside the expressions
// bundlers look for, `new URL('./x', import.meta.url)` and `new Worker(new URL(…), { type: 'module' })`,
// which they find only whole on one line (Vite emitted no scalar .wasm where a break fell inside one).
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const dist = join(root, 'dist');

it("every built JavaScript file's lines are short enough to print", () => {
  for (const f of readdirSync(dist).filter((x) => x.endsWith('.js'))) {
    const longest = Math.max(
      ...readFileSync(join(dist, f), 'utf8')
        .split('\n')
        .map((l) => l.length),
    );
    expect(longest, f).toBeLessThan(1000);
  }
});

it('an uncaught CRFInputError prints its message after a few hundred characters at most', async () => {
  const script = `import { CRF } from ${JSON.stringify(join(dist, 'node.js'))};
const crf = await CRF.create(3, { seed: 1 });
await crf.decode([[[NaN, 0, 0]]]);`;
  const run = promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { cwd: root });
  const err = await run.then(
    () => null,
    (e: { code?: number; stderr?: string }) => e,
  );
  expect(err?.code).toBe(1);
  const stderr = err?.stderr ?? '';
  const at = stderr.indexOf('CRFInputError]: emissions: expected a finite number at [0][0][0], got NaN');
  expect(at).toBeGreaterThan(0);
  expect(at).toBeLessThan(1000);
});

it("every new URL(…) of the built files is whole on one line, with import.meta.url, and so is new Worker(new URL(…), { type: 'module' })", () => {
  let found = 0;
  for (const f of readdirSync(dist).filter((x) => x.endsWith('.js'))) {
    const text = readFileSync(join(dist, f), 'utf8');
    const all = text.match(/new URL\(/g)?.length ?? 0;
    const whole = text.match(/new URL\("\.\/[^"\n]+",import\.meta\.url\)/g)?.length ?? 0;
    expect(whole, f).toBe(all);
    expect(text.match(/new Worker\(new URL\(/g)?.length ?? 0, f).toBe(
      text.match(/new Worker\(new URL\("[^"\n]+",import\.meta\.url\),\{type:"module"\}\)/g)?.length ?? 0,
    );
    found += whole;
  }
  // The kernels' two files, the Web Worker's and Node's worker file.
  expect(found).toBe(4);
});
