// Builds what the package ships, with esbuild from the TypeScript sources: one minified module per
// entry in dist/, which package.json's `exports` point at, beside the two .wasm builds and the chunks
// the entries share (few: a fresh process spends most of its import resolving, reading and linking
// files one by one; see the regrouping below). What a call may never need is split into chunks imported
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
import { build, transform } from 'esbuild';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rollup } from 'rollup';

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
// One build of every entry, so that code they share is shipped once. Node's modules stay imports (the
// node entry and its worker run only where they exist); so do the .wasm files the workerd entry
// imports as modules (workerd compiles them at upload). esbuild cuts the shared code into one chunk
// per set of entries and lazy chunks that use it: eleven files for a fresh Node process to resolve
// and link before its first line, half of its import. So it writes to a folder of its own, and Rollup
// (below) regroups its chunks: what the index entry loads before its first line becomes two.
/** What both code-split builds (the package's, the tests' internals below) share. */
const SPLIT_ESM = /** @type {const} */ ({
  bundle: true,
  format: 'esm',
  splitting: true,
  target: 'es2022',
  platform: 'neutral',
  chunkNames: '[name]-[hash]',
  logLevel: 'warning',
});
const split = mkdtempSync(join(tmpdir(), 'webcrf-split-'));
const entries = ['index', 'node', 'workerd', 'web-worker', 'node-worker', 'tfjs-internals'];
// The temporary folder goes whether or not the build gets through.
try {
  await build({
    ...SPLIT_ESM,
    outdir: split,
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
  // Two chunks hold what the index entry loads before its first line: `shared`, the part the worker files
  // import too, and `core`, the rest. The workers do not load `core`, which holds the inline kernels'
  // loader, so a bundler bundling a worker file emits no inline kernels beside it (it emits every
  // dynamic import it finds, called or not). The node and workerd entries import both. Code they alone
  // import statically would be a chunk of its own (in `core`, a module the index entry imports lazily
  // would leave a lazy chunk that only re-exports from `core`, and Rollup, bundling an application,
  // moves such a chunk into the application's entry, whose top-level await then waits on an import of
  // itself); the node entry sets its thread runtime through runtime.ts, in `core`, for that reason.
  // webcrf/tfjs's internals and the lazy chunks import `core` and `shared` too (a page has them
  // already). Chunks sit in dist/ beside the entries, so that a `new URL('./…', import.meta.url)` in
  // one names the same folder. esbuild's output is minified already; what Rollup writes is minified
  // again (its renaming across merged chunks).
  /** @type {Map<string, string> | null} */
  let group = null;
  const regroup = await rollup({
    input: Object.fromEntries(entries.map((e) => [e, join(split, `${e}.js`)])),
    external: (id) => id.startsWith('node:') || id.endsWith('.wasm'),
    // esbuild has tree-shaken already; Rollup only moves code between files.
    treeshake: false,
    onwarn(w) {
      throw new Error(`rollup: ${w.message}`);
    },
  });
  await regroup.write({
    dir: dist,
    format: 'es',
    entryFileNames: '[name].js',
    // Rollup's hash, not esbuild's: a chunk's content now also depends on the names Rollup gave `core`'s
    // exports, so a chunk esbuild left unchanged may change here.
    chunkFileNames: (c) => `${c.name.replace(/-[A-Z0-9]{8}$/, '')}-[hash].js`,
    manualChunks(id, { getModuleInfo }) {
      if (!group) {
        const fileOf = (/** @type {string} */ e) => join(split, `${e}.js`);
        /** What `from` import statically, transitively, the entries themselves left out. */
        const reach = (/** @type {string[]} */ from) => {
          const seen = new Set(from.map(fileOf));
          for (const m of seen) for (const i of getModuleInfo(m)?.importedIds ?? []) if (i.startsWith(split)) seen.add(i);
          for (const e of entries) seen.delete(fileOf(e));
          return seen;
        };
        const workers = reach(['web-worker', 'node-worker']);
        group = new Map([...reach(['index'])].map((m) => [m, workers.has(m) ? 'shared' : 'core']));
      }
      return group.get(id);
    },
    plugins: [
      {
        name: 'minify',
        // Lines end by 160 characters: Node prints an uncaught error's whole source line before its
        // message. But bundlers find `new URL('./x', import.meta.url)` and `new Worker(new URL(…), { type:
        // 'module' })` only written on one line (Vite emitted no scalar .wasm when a break fell inside).
        renderChunk: async (code) =>
          (await transform(code, { minify: true, format: 'esm', target: 'es2022', legalComments: 'none', lineLimit: 160 })).code.replace(
            /new Worker\(new URL\([^)]*\)[^)]*\)|new URL\([^)]*\)/g,
            (m) => m.replace(/\n/g, ''),
          ),
      },
      {
        name: 'no-eager-facades',
        // The class of the deadlock above: a lazy chunk with no code of its own, only what it re-exports
        // from the chunks every entry loads eagerly.
        generateBundle(_, bundle) {
          for (const c of Object.values(bundle)) {
            if (c.type !== 'chunk' || !c.isDynamicEntry) continue;
            const eager = (/** @type {string} */ f) => ['core', 'shared'].includes(bundle[f]?.name ?? '');
            if (Object.values(c.modules).every((m) => m.renderedLength === 0) && c.imports.every(eager)) {
              throw new Error(`build-bundle: ${c.fileName} only re-exports what the entries load eagerly; keep its module out of them`);
            }
          }
        },
      },
    ],
  });
  await regroup.close();
} finally {
  rmSync(split, { recursive: true, force: true });
}
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
  ...SPLIT_ESM,
  outdir: `${root}build`,
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
