// What a page that only decodes on the WASM kernels downloads: the built package bundled the way an
// application bundles it (esbuild: minified, tree-shaken, browser conditions, code splitting), then
// split into what the page loads before its first line runs (the entry and its static imports) and
// what it loads only if a call asks (dynamic imports: the WebGPU backend and its WGSL, the inline
// kernels). The worker entry is bundled the same way, as a bundler emits it for `new Worker(new URL(…))`.
//   node scripts/size.js [--json]      (needs `npm run build`)
// Sizes are gzip -9 bytes of the files as written; sourcemaps and declarations are not downloaded.
import { build } from 'esbuild';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = fileURLToPath(new URL('..', import.meta.url));

/** The inline copies of the kernels (base64 of `\0asm`): never loaded eagerly, never in the worker's bundle at all. */
export const INLINE_KERNELS = { what: 'the inline kernels', test: (/** @type {string} */ s) => s.includes('AGFzbQ') };
/** What no eagerly loaded file may hold: the inline kernels and WGSL sources. */
export const LAZY_ONLY = [INLINE_KERNELS, { what: 'WGSL', test: (/** @type {string} */ s) => /@compute|@workgroup_size|var<storage/.test(s) }];

const gz = (/** @type {Uint8Array | string} */ b) => gzipSync(b, { level: 9 }).length;

/**
 * Bundles `source` (a module importing webcrf) as an application would, in a fresh folder whose
 * node_modules/webcrf is the package at `pkg`; or, with `file`, that file of the package as the
 * entry (what a bundler does with a `new Worker(new URL('./web-worker.js', import.meta.url))`).
 * @param {string} source
 * @param {string} pkg
 * @param {string} [file] a path inside the package
 * @returns {Promise<{ eager: { file: string, bytes: number, gzip: number }[], lazy: { file: string, bytes: number, gzip: number }[], texts: Map<string, string> }>}
 */
export async function bundleApp(source, pkg = root, file) {
  const dir = mkdtempSync(join(tmpdir(), 'webcrf-size-'));
  try {
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(pkg, join(dir, 'node_modules', 'webcrf'), 'dir');
    writeFileSync(join(dir, 'main.js'), source);
    const out = join(dir, 'out');
    const from = file ? `node_modules/webcrf/${file}` : 'main.js';
    const r = await build({
      absWorkingDir: dir,
      entryPoints: [from],
      bundle: true,
      format: 'esm',
      splitting: true,
      minify: true,
      platform: 'browser',
      target: 'es2022',
      outdir: out,
      metafile: true,
      logLevel: 'error',
      legalComments: 'none',
    });
    const outputs = r.metafile.outputs;
    const name = (/** @type {string} */ p) => p.slice(p.lastIndexOf('/') + 1);
    // Dynamically imported modules are entry points too, with hashed names; the page's is named after it.
    const entry = Object.keys(outputs).find((p) => name(p) === name(from));
    if (!entry) throw new Error('esbuild wrote no entry');
    // The eager set: the entry and, transitively, what it imports statically.
    const eager = new Set([entry]);
    for (const p of eager) for (const i of outputs[p].imports) if (i.kind === 'import-statement' && !i.external) eager.add(i.path);
    /** @type {Map<string, string>} */
    const texts = new Map();
    const rows = (/** @type {string[]} */ ps) =>
      ps.map((p) => {
        const text = readFileSync(join(dir, p), 'utf8');
        texts.set(name(p), text);
        return { file: name(p), bytes: Buffer.byteLength(text), gzip: gz(text) };
      });
    const js = Object.keys(outputs).filter((p) => p.endsWith('.js'));
    return { eager: rows(js.filter((p) => eager.has(p))), lazy: rows(js.filter((p) => !eager.has(p))), texts };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The wasm-only page: create a CRF (`auto`, which runs the WASM kernels until a call is large enough for a GPU), decode one sentence. */
export const PAGE = `import { CRF } from 'webcrf';
const crf = await CRF.create(9);
const data = Float32Array.from({ length: 32 * 9 }, (_, i) => Math.sin(i));
console.log(await crf.decode({ data, shape: [1, 32, 9] }));
`;

/**
 * What a page importing the built entry without a bundler (an import map, a CDN) loads before its first
 * line: `dist/<entry>` and, transitively, its static imports, as shipped.
 * @param {string} pkg
 * @param {string} entry
 */
export function shippedEager(pkg = root, entry = 'index.js') {
  const seen = new Set([entry]);
  for (const f of seen) {
    const text = readFileSync(join(pkg, 'dist', f), 'utf8');
    for (const m of text.matchAll(/(?:\bfrom|\bimport)\s*["']\.\/([\w.-]+\.js)["']/g)) seen.add(m[1]);
  }
  return [...seen].map((f) => {
    const b = readFileSync(join(pkg, 'dist', f));
    return { file: f, bytes: b.length, gzip: gz(b) };
  });
}

/** The page's and the worker's figures, and what in them breaks the rules (LAZY_ONLY). */
export async function measure(pkg = root) {
  const page = await bundleApp(PAGE, pkg);
  const worker = await bundleApp('', pkg, 'dist/web-worker.js');
  const wasm = (/** @type {string} */ kind) => {
    const b = readFileSync(join(pkg, 'dist', `webcrf.${kind}.wasm`));
    return { file: `webcrf.${kind}.wasm`, bytes: b.length, gzip: gz(b) };
  };
  const sum = (/** @type {{ gzip: number }[]} */ rs) => rs.reduce((s, r) => s + r.gzip, 0);
  /** @type {string[]} */
  const problems = [];
  for (const { what, test } of LAZY_ONLY) {
    for (const f of page.eager) if (test(page.texts.get(f.file) ?? '')) problems.push(`the page loads ${what} eagerly (${f.file})`);
    for (const f of worker.eager) if (test(worker.texts.get(f.file) ?? '')) problems.push(`the worker loads ${what} (${f.file})`);
  }
  // The worker is handed its compiled module: a bundler should not even emit the inline copies for it.
  for (const f of worker.lazy)
    if (INLINE_KERNELS.test(worker.texts.get(f.file) ?? '')) problems.push(`the worker's bundle holds the inline kernels (${f.file})`);
  const shipped = shippedEager(pkg);
  return {
    page: { eager: page.eager, lazy: page.lazy, eagerGzip: sum(page.eager) },
    unbundled: { eager: shipped, eagerGzip: sum(shipped) },
    worker: { eager: worker.eager, lazy: worker.lazy, eagerGzip: sum(worker.eager) },
    wasm: { simd: wasm('simd'), scalar: wasm('scalar') },
    problems,
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const m = await measure();
  if (process.argv.includes('--json')) console.log(JSON.stringify(m));
  else {
    const kB = (/** @type {number} */ n) => `${(n / 1000).toFixed(1)} kB`;
    console.log(`wasm-only page (esbuild, minified, browser): eager JS ${kB(m.page.eagerGzip)} gzip in ${m.page.eager.length} file(s)`);
    for (const f of m.page.eager) console.log(`  eager ${f.file}: ${kB(f.bytes)}, ${kB(f.gzip)} gzip`);
    for (const f of m.page.lazy) console.log(`  lazy  ${f.file}: ${kB(f.bytes)}, ${kB(f.gzip)} gzip`);
    console.log(`  + kernels: webcrf.simd.wasm ${kB(m.wasm.simd.gzip)} gzip (scalar build ${kB(m.wasm.scalar.gzip)} where SIMD is missing)`);
    console.log(`without a bundler (dist/index.js as shipped): eager JS ${kB(m.unbundled.eagerGzip)} gzip in ${m.unbundled.eager.length} files`);
    console.log(`worker (its own entry, handed the compiled module): eager JS ${kB(m.worker.eagerGzip)} gzip in ${m.worker.eager.length} file(s)`);
    // Reachable from the worker's code but never run there (it never runs a GPU op).
    console.log(`  emitted beside it, never loaded by it: ${m.worker.lazy.map((f) => f.file).join(', ') || 'nothing'}`);
    for (const p of m.problems) console.log(`PROBLEM: ${p}`);
    if (m.problems.length) process.exitCode = 1;
  }
}
