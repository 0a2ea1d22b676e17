// Bundles the package's `node` and `browser`/`default` entries (what tsc wrote to dist/) into one module
// each, dist/bundle/node.js and dist/bundle/index.js, which package.json's `exports` point at. Loading
// some forty modules one by one was most of a fresh process's time to its first decode (an ES module
// costs its own resolve, read and link); one file is one. The inlined kernels stay separate chunks,
// loaded only where the .wasm files cannot be (splitting keeps the dynamic import). The bundles sit one
// folder below dist/, as dist/backends/ does, so `new URL('../webcrf.simd.wasm', import.meta.url)`
// still names dist/webcrf.simd.wasm, for the runtime and for the bundlers that follow that pattern.
// The workerd entry is not bundled: it imports the .wasm files as modules, which wrangler bundles.
import { build } from 'esbuild';
import { rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
// Chunk names carry content hashes: last build's would stay behind and ship.
rmSync(`${dist}bundle`, { recursive: true, force: true });
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
// One build per entry, so that nothing but the lazily imported kernels is split out: code shared
// between two entries would move into a chunk under chunks/, and `new URL('../webcrf.simd.wasm',
// import.meta.url)` there would name the wrong folder. The worker threads' entries sit where the bundled
// code names them, relative to its own URL as in the unbundled tree: `new URL('./backends/wasm/threads/node-worker.js',
// …)` in node.ts, `new URL('./web-worker.js', …)` in backends/wasm/threads/spawn.ts.
for (const [name, from, platform] of [
  ['node', 'node.js', 'node'],
  ['backends/wasm/threads/node-worker', 'backends/wasm/threads/node-worker.js', 'node'],
  ['index', 'index.js', 'neutral'],
  ['web-worker', 'backends/wasm/threads/web-worker.js', 'neutral'],
]) {
  await build({ ...common, platform: /** @type {'node' | 'neutral'} */ (platform), entryPoints: { [name]: `${dist}${from}` } });
}
// Their types are the declarations tsc wrote beside the unbundled entries (package.json's `types`
// condition names dist/index.d.ts; these are for pages and tools that import a bundle by path).
for (const name of ['node', 'index']) writeFileSync(`${dist}bundle/${name}.d.ts`, "export * from '../index.js';\n");
