// Bun and Deno load the package by its export conditions and run the wasm kernels, agreeing with the
// float64 js backend. Their binaries come from the npm registry (`npm run setup:runtimes`, which
// .ci/run runs); where they are absent the tests skip, saying so.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
// A Node without process.getBuiltinModule and with a navigator stands for the runtimes before it (Deno
// before 2.1): the node entry imports node:fs/promises to read the kernels' file and counts the cores
// from the navigator.
const older = 'data:text/javascript,delete process.getBuiltinModule; globalThis.navigator = { hardwareConcurrency: 2 };';
const runtimes = {
  bun: { bin: `${root}.runtimes/node_modules/@oven/bun-linux-x64/bin/bun`, args: [] as string[] },
  deno: { bin: `${root}.runtimes/node_modules/@deno/linux-x64-glibc/deno`, args: ['run', '--allow-read', '--allow-env'] },
  'node without getBuiltinModule': { bin: process.execPath, args: ['--import', older] },
};

for (const [name, rt] of Object.entries(runtimes)) {
  const present = existsSync(rt.bin);
  if (!present) console.warn(`${name} tests skipped: no ${name} binary in .runtimes/ (npm run setup:runtimes installs it)`);
  it.skipIf(!present)(
    `${name} imports webcrf, picks wasm and agrees with js; threads: 2 gives one thread's bits and exits undisposed`,
    () => {
      const out = JSON.parse(execFileSync(rt.bin, [...rt.args, 'test/runtimes/check.mjs'], { cwd: root, encoding: 'utf8', timeout: 60_000 }));
      expect(out.auto.backend).toBe('wasm');
      expect(out.auto.reason).toMatch(name === 'deno' ? /from (file|inline)/ : /from file/);
      expect(out.js.backend).toBe('js');
      expect(out.auto.decode).toEqual(out.js.decode);
      expect(out.auto.top3).toEqual(out.js.top3);
      out.auto.llh.forEach((v: number, i: number) => expect(Math.abs(v - out.js.llh[i])).toBeLessThan(1e-4 * (1 + Math.abs(out.js.llh[i]))));
      out.auto.marginals.forEach((v: number, i: number) => expect(Math.abs(v - out.js.marginals[i])).toBeLessThan(1e-5));
      // threads: 2 started its worker, gave one thread's bits, and (left undisposed) let the process exit.
      expect(out.threads.reason).toMatch(/on 2 threads/);
      expect(out.threads.same).toBe(true);
    },
    120_000,
  );
}
