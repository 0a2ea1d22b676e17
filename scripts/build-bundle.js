// Bundles the package's `node` and `browser`/`default` entries (what tsc wrote to dist/) into one module
// each, dist/bundle/node.js and dist/bundle/index.js, which package.json's `exports` point at. Loading
// some forty modules one by one was most of a fresh process's time to its first decode (an ES module
// costs its own resolve, read and link); one file is one. The inlined kernels stay separate chunks,
// loaded only where the .wasm files cannot be (splitting keeps the dynamic import). The bundles sit one
// folder below dist/, as dist/backends/ does, so `new URL('../webcrf.simd.wasm', import.meta.url)`
// still names dist/webcrf.simd.wasm, for the runtime and for the bundlers that follow that pattern.
// The workerd entry is not bundled: it imports the .wasm files as modules, which wrangler bundles.
import { build } from 'esbuild';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
/** @type {import('esbuild').BuildOptions} */
const common = {
  bundle: true,
  format: 'esm',
  splitting: true,
  target: 'es2022',
  outdir: `${dist}bundle`,
  chunkNames: 'chunks/[name]-[hash]',
  logLevel: 'warning',
  legalComments: 'none',
};
await build({ ...common, platform: 'node', entryPoints: { node: `${dist}node.js` } });
await build({ ...common, platform: 'neutral', entryPoints: { index: `${dist}index.js` } });
// Their types are the declarations tsc wrote beside the unbundled entries (package.json's `types`
// condition names dist/index.d.ts; these are for pages and tools that import a bundle by path).
for (const name of ['node', 'index']) writeFileSync(`${dist}bundle/${name}.d.ts`, "export * from '../index.js';\n");
