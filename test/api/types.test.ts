// A user's TypeScript, strict, with no casts (test/types/consumer.ts and consumer.cts), compiles against
// the built declarations under nodenext and bundler resolution: overloads keyed on reduction and topK,
// loadStateDict(stateDict()), the .wasm subpath, and an ESM-only package required from CommonJS. Under
// exactOptionalPropertyTypes (tsconfig.exact.json), every options type takes an explicit undefined.
// With skipLibCheck off, and in a Node project with no DOM types at all (tsconfig.node-only.json): the
// declarations a user's import reaches name no WebGPU or WebAssembly type, which TypeScript 5's DOM
// types (no WebGPU) and Node's (no WebAssembly) lack.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const tsc = fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url));

it.each(['nodenext', 'bundler', 'exact', 'node-only'])(
  'the consumer files type-check under the %s configuration',
  (mode) => {
    let out: string;
    try {
      out = execFileSync(process.execPath, [tsc, '-p', `test/types/tsconfig.${mode}.json`], { cwd: root, encoding: 'utf8' });
    } catch (e) {
      out = String((e as { stdout?: string }).stdout ?? e);
    }
    expect(out).toBe('');
  },
  60_000,
);

it("the public declarations reach nothing of the backends or the op registry (ARCHITECTURE.md's conventions)", () => {
  const types = resolve(root, 'dist/types');
  for (const entry of ['index.d.ts', 'tfjs/index.d.ts']) {
    const seen = new Set<string>();
    const todo = [resolve(types, entry)];
    while (todo.length > 0) {
      const f = todo.pop()!;
      if (seen.has(f) || !existsSync(f)) continue;
      seen.add(f);
      for (const m of readFileSync(f, 'utf8').matchAll(/from '(\.[^']+)'|import\('(\.[^']+)'\)/g)) {
        todo.push(resolve(dirname(f), (m[1] ?? m[2]).replace(/\.js$/, '.d.ts')));
      }
    }
    const internal = [...seen].map((f) => relative(types, f)).filter((f) => /^(backends|ops)\//.test(f));
    expect(seen.size, entry).toBeGreaterThan(10);
    expect(internal, entry).toEqual([]);
  }
});
