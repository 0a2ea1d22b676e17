// Builds what the package ships, with esbuild from the TypeScript sources: one minified module per
// entry in dist/, which package.json's `exports` point at, beside the two .wasm builds and the chunks
// the entries share. A fresh process loading forty modules one by one spent most of its time to a
// first decode resolving and linking them. What a call may never need is split into chunks imported
// only then: the inlined kernels (loaded only where the .wasm files cannot be), the WebGPU backend with
// its shaders (loaded only when a GPU is asked for or found), the thread pool (loaded only when
// threads are asked for) and the safetensors reader (loaded only by CRF.fromSafetensors). The built
// code names its files relative to itself: `new URL('./webcrf.simd.wasm', import.meta.url)`
// (backends/wasm/source.ts), `./web-worker.js` (backends/wasm/threads/spawn.ts) and `./node-worker.js`
// (node.ts), all in dist/, which is also the pattern Vite, webpack and Rollup follow to emit them. tsc writes the declarations (dist/types/).
//
// Besides, in build/ (git-ignored, not shipped): internals.js, the backends' classes for the pages of
// the repository's own tests and benches, which check them one by one; node-internals.js, the node
// entry with the threads' split decision, for bench/threads.js.
import { build } from 'esbuild';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = `${root}dist/`;
// What an earlier build left would ship beside this one (package.json `files`): chunk names carry
// content hashes, and an older layout had a second copy in dist/bundle/. Everything but the .wasm
// files (build:wasm) and the declarations tsc just wrote goes; declarations whose source is gone too.
rmSync(`${dist}bundle`, { recursive: true, force: true });
for (const f of readdirSync(dist)) if (/\.(js|d\.ts|map)$/.test(f)) rmSync(`${dist}${f}`);
/** @param {string} dir a folder under dist/types/, mirroring src/ */
function pruneTypes(dir) {
  for (const e of readdirSync(`${dist}types/${dir}`, { withFileTypes: true })) {
    const rel = `${dir}${e.name}`;
    if (e.isDirectory()) {
      pruneTypes(`${rel}/`);
      if (readdirSync(`${dist}types/${rel}`).length === 0) rmSync(`${dist}types/${rel}`, { recursive: true });
    } else if (!existsSync(`${root}src/${rel.replace(/\.d\.ts(\.map)?$/, '.ts')}`)) rmSync(`${dist}types/${rel}`);
  }
}
if (existsSync(`${dist}types`)) pruneTypes('');
/**
 * CRF.fromSafetensors's chunk (src/interop/weights-reader.ts) gets its own copy of the safetensors
 * reader and its JSON parser. An application's bundler assigns a file to the chunks of every entry
 * that imports it, whether or not the bindings it takes are used: index.js imports the reader for its
 * public exports (parseSafetensors, tensorValues), so a reader shared with the lazy chunk would be
 * loaded with index.js by every page, while a copy that index.js alone imports is tree-shaken away
 * from a page that never calls it. A module path with a suffix is a module of its own to esbuild; what
 * the copy imports from elsewhere (the errors, their classes) stays shared.
 * @returns {import('esbuild').Plugin}
 */
function lazyReader() {
  return {
    name: 'lazy-reader',
    setup(b) {
      b.onResolve({ filter: /^\.\/(safetensors-reader|json)\.js$/ }, (a) => {
        if (!(a.importer.endsWith('/src/interop/weights-reader.ts') || a.pluginData === 'copy')) return undefined;
        return { path: `${a.resolveDir}/${a.path.slice(2, -3)}.ts`, suffix: '?copy' };
      });
      // The copy's own imports are told apart from the original's (the importer's path is the same).
      b.onLoad({ filter: /\/src\/interop\/(safetensors-reader|json)\.ts$/ }, (a) =>
        a.suffix === '?copy' ? { contents: readFileSync(a.path, 'utf8'), loader: 'ts', pluginData: 'copy' } : undefined,
      );
    },
  };
}
// One build of every entry, so that code they share is one chunk, shipped once. Chunks sit in dist/
// beside the entries, so that a `new URL('./…', import.meta.url)` in one names the same folder. Node's
// modules stay imports (the node entry and its worker run only where they exist); so do the .wasm
// files the workerd entry imports as modules (workerd compiles them at upload).
await build({
  bundle: true,
  format: 'esm',
  splitting: true,
  target: 'es2022',
  platform: 'neutral',
  outdir: dist,
  chunkNames: '[name]-[hash]',
  logLevel: 'warning',
  legalComments: 'none',
  // Minified: what a page without a bundler downloads and what a fresh process parses. Without
  // keepNames (its __name calls cost more than any other change saves); errors carry their own names.
  minify: true,
  external: ['node:*', './webcrf.simd.wasm', './webcrf.scalar.wasm'],
  plugins: [lazyReader()],
  entryPoints: {
    index: `${root}src/index.ts`,
    node: `${root}src/node.ts`,
    workerd: `${root}src/workerd.ts`,
    'web-worker': `${root}src/backends/wasm/threads/web-worker.ts`,
    'node-worker': `${root}src/backends/wasm/threads/node-worker.ts`,
    // webcrf/tfjs's GPU route: the core's internals it uses, sharing the core's chunks.
    'tfjs-internals': `${root}src/tfjs/core-internals.ts`,
  },
});
// webcrf/tfjs: its own build, with tfjs (the optional peer) and the core left as imports. The core is
// imported by the package's own name, so that the runtime's conditions pick the same core entry the
// application's `import 'webcrf'` gets (one CRFInputError class, one set of kernels); the core's
// internals for the GPU route by their entry beside this file (built above, with the same chunks).
await build({
  bundle: true,
  format: 'esm',
  target: 'es2022',
  platform: 'neutral',
  outfile: `${dist}tfjs.js`,
  logLevel: 'warning',
  legalComments: 'none',
  external: ['@tensorflow/tfjs-core'],
  entryPoints: [`${root}src/tfjs/index.ts`],
  plugins: [
    {
      name: 'core-by-name',
      setup(b) {
        b.onResolve({ filter: /^\.\.\/index\.js$/ }, (a) => (a.importer.includes('/src/tfjs/') ? { path: 'webcrf', external: true } : undefined));
        b.onResolve({ filter: /^\.\/core-internals\.js$/ }, () => ({ path: './tfjs-internals.js', external: true }));
      },
    },
  ],
});
// Declarations beside the entries, for what imports a built file by path (pages, tools); package.json
// names dist/types/ for the package.
for (const name of ['index', 'node', 'workerd']) writeFileSync(`${dist}${name}.d.ts`, `export * from './types/${name}.js';\n`);
writeFileSync(`${dist}tfjs.d.ts`, "export * from './types/tfjs/index.js';\n");
rmSync(`${root}build`, { recursive: true, force: true });
await build({
  bundle: true,
  format: 'esm',
  splitting: true,
  target: 'es2022',
  platform: 'neutral',
  outdir: `${root}build`,
  chunkNames: '[name]-[hash]',
  logLevel: 'warning',
  external: ['node:*'],
  entryPoints: { internals: `${root}test/internals.ts`, 'node-internals': `${root}test/node-internals.ts` },
});
// Their types: the declarations tsc wrote for src/ (dist/types/).
writeFileSync(
  `${root}build/internals.d.ts`,
  [
    "export { JsBackend } from '../dist/types/backends/js/backend.js';",
    "export { WasmBackend } from '../dist/types/backends/wasm/backend.js';",
    "export { WebGpuBackend } from '../dist/types/backends/webgpu/index.js';",
    '',
  ].join('\n'),
);
writeFileSync(
  `${root}build/node-internals.d.ts`,
  ["export * from '../dist/types/node.js';", "export { threadsTuning, threadsWork } from '../dist/types/backends/wasm/threads/backend.js';", ''].join('\n'),
);
