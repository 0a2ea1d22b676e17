// npm run typecheck: tsc over the TypeScript and JavaScript of src/, test/, scripts/, examples/, demo/
// and bench/, type-checked and not emitted, as three programs (the pages and Node see different globals):
//   tsconfig.json --noEmit       src/, as npm run build compiles it
//   tsconfig.check.json          what runs outside a page: vitest, scripts, examples, bench/run.js, the
//                                Deno/Bun and workerd checks ('webcrf' is src/index.ts)
//   tsconfig.check-browser.json  the pages' scripts and what they import, with the DOM and no Node
//                                globals ('webcrf' is dist/types/index.d.ts, the package the pages load)
// It checks the tree as npm run build leaves it: src/ imports src/generated/ (the kernels inlined from
// the .wasm build) and the pages import dist/, whose declarations only the build writes, so
// npm run typecheck builds first; run directly without those files, this says so instead of listing
// every module it cannot find. Every program runs even when one fails, so one run shows every error.
// Left out on purpose: test/types/ (consumers of the published declarations, compiled by
// test/api/types.test.ts under their own configs).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const built = ['src/generated/kernels-simd.ts', 'src/generated/kernels-scalar.ts', 'dist/types/index.d.ts', 'build/internals.d.ts'];
const missing = built.filter((f) => !existsSync(join(root, f)));
if (missing.length) {
  console.error(`typecheck: ${missing.join(', ')} missing: run npm run build first`);
  process.exit(1);
}
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
let failed = false;
for (const args of [
  ['-p', 'tsconfig.json', '--noEmit'],
  ['-p', 'tsconfig.check.json'],
  ['-p', 'tsconfig.check-browser.json'],
]) {
  const r = spawnSync(process.execPath, [tsc, ...args], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`typecheck: tsc ${args.join(' ')} failed`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
