// npm run test:bundlers: the package as a new user gets it (npm pack, unpacked into a fresh project's
// node_modules), built by every common bundler and run by every runtime, with no configuration. Each
// row must reach the WASM kernels (`crf.backend === 'wasm'`) and agree with the float64 js backend;
// the Worker without the workerd condition, where nothing can compile WebAssembly, must say why.
//   node scripts/test-bundlers.js [--only vite,webpack,...] [--keep]
// Needs `npm run build` first (the tarball packs dist/). Bun and Deno rows skip, saying so, without
// their binaries (npm run setup:runtimes).
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium, pageResult } from './chromium.js';
import { serve } from './serve.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const only = args.includes('--only') ? args[args.indexOf('--only') + 1].split(',') : null;
const want = (/** @type {string} */ name) => !only || only.includes(name);
const work = mkdtempSync(join(tmpdir(), 'webcrf-bundlers-'));
const app = join(work, 'app');
const BUN = join(root, '.runtimes/node_modules/@oven/bun-linux-x64/bin/bun');
const DENO = join(root, '.runtimes/node_modules/@deno/linux-x64-glibc/deno');

// ---- the user's project: the packed package and a tiny app -------------------------------------------
const tgz = /** @type {string} */ (
  execFileSync('npm', ['pack', '--silent', '--pack-destination', work], { cwd: root, encoding: 'utf8' }).trim().split('\n').pop()
);
mkdirSync(join(app, 'node_modules', 'webcrf'), { recursive: true });
execFileSync('tar', ['xzf', join(work, tgz), '-C', join(app, 'node_modules', 'webcrf'), '--strip-components=1']);
writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module', dependencies: { webcrf: `file:${tgz}` } }));

// The same computation everywhere: auto and js on one batch, reported as JSON.
const compute = `
  const K = 5, B = 3, T = 7;
  let s = 9;
  const rand = () => ((s = (s * 1103515245 + 12345) >>> 0) / 4294967296) * 4 - 2;
  const em = { data: Float32Array.from({ length: B * T * K }, rand), shape: [B, T, K] };
  const mask = { data: Uint8Array.from({ length: B * T }, (_, i) => (i % T === 0 || i % 3 !== 1 ? 1 : 0)), shape: [B, T] };
  const tags = { data: Int32Array.from({ length: B * T }, (_, i) => i % K), shape: [B, T] };
  const out = {};
  for (const backend of ['auto', 'js']) {
    const crf = await CRF.create(K, { backend, seed: 4 });
    out[backend] = {
      backend: crf.backend, reason: crf.backendReason,
      llh: Array.from(await crf.forward(em, tags, { mask, reduction: 'none' })),
      decode: await crf.decode(em, { mask }),
      marginals: Array.from(await crf.marginals(em, { mask })),
    };
    crf.dispose();
  }
  // threads: 2 where this bundle and runtime can start the worker, one thread (saying why) elsewhere.
  const threaded = await CRF.create(K, { threads: 2, seed: 4 });
  out.threads = { reason: threaded.backendReason, llh: Array.from(await threaded.forward(em, tags, { mask, reduction: 'none' })) };
  threaded.dispose();`;
writeFileSync(
  join(app, 'main.js'),
  `import { CRF } from 'webcrf';\n${compute}\nglobalThis.__result = out;\nif (typeof document === 'undefined') console.log(JSON.stringify(out));\n`,
);
// IIFE bundles have no top-level await.
writeFileSync(
  join(app, 'main-iife.js'),
  `import { CRF } from 'webcrf';\n(async () => {${compute}\nglobalThis.__result = out;\n})().catch((e) => { globalThis.__result = { error: String(e && e.stack || e) }; });\n`,
);
writeFileSync(join(app, 'require.cjs'), `const { CRF } = require('webcrf');\n(async () => {${compute}\nconsole.log(JSON.stringify(out));\n})();\n`);
const page = (/** @type {string} */ script, type = 'module') =>
  `<!doctype html><meta charset="utf-8"><title>webcrf</title><script type="${type}" src="${script}"></script>`;

// ---- checks --------------------------------------------------------------------------------------------
/**
 * What `compute` reports per backend, and for both (or the error that stopped it).
 * @typedef {{ backend: string, reason: string, llh: number[], decode: number[][], marginals: number[] }} Run
 * @typedef {{ auto: Run, js: Run, threads: { reason: string, llh: number[] }, error?: string }} Result
 */
/** What threads: 2 did, in a few words: started its worker, or why it ran on one thread. */
const threadsSaid = (/** @type {string} */ reason) =>
  /on 2 threads/.test(reason) ? 'threads: 2 started its worker' : `threads: 2 on one thread (${reason.replace(/^.*asked for, but /, '').slice(0, 90)})`;
/** @type {{ name: string, how: string, ok: boolean, skipped?: boolean, detail: string }[]} */
const rows = [];
/** @param {string} name @param {string} how @param {Result | undefined} out */
function verdict(name, how, out) {
  const problems = [];
  if (!out || out.error) problems.push(`no result: ${out?.error ?? 'none'}`);
  else {
    if (out.auto.backend !== 'wasm') problems.push(`auto ran on ${out.auto.backend}: ${out.auto.reason}`);
    if (JSON.stringify(out.auto.decode) !== JSON.stringify(out.js.decode)) problems.push('decode differs from js');
    out.auto.llh.forEach((v, i) => {
      if (!(Math.abs(v - out.js.llh[i]) <= 1e-4 * (1 + Math.abs(out.js.llh[i])))) problems.push(`llh[${i}] ${v} vs js ${out.js.llh[i]}`);
    });
    out.auto.marginals.forEach((v, i) => {
      if (!(Math.abs(v - out.js.marginals[i]) <= 1e-5)) problems.push(`marginal[${i}] ${v} vs js ${out.js.marginals[i]}`);
    });
    // Threads change where the kernels run, never a bit of the result.
    if (JSON.stringify(out.threads.llh) !== JSON.stringify(out.auto.llh)) problems.push(`threads: 2 gave llh ${out.threads.llh} vs ${out.auto.llh}`);
    if (!/on 2 threads|on the calling thread only/.test(out.threads.reason)) problems.push(`threads: 2 reason: ${out.threads.reason}`);
  }
  const threads = problems.length ? '' : threadsSaid(/** @type {Result} */ (out).threads.reason);
  rows.push({
    name,
    how,
    ok: problems.length === 0,
    detail: problems.length ? problems.slice(0, 3).join('; ') : `${/** @type {Result} */ (out).auto.reason}; ${threads}`,
  });
}
const skip = (/** @type {string} */ name, /** @type {string} */ why) => rows.push({ name, how: 'skipped', ok: true, skipped: true, detail: why });
/** @param {string} name @param {string} how @param {() => Promise<unknown>} fn */
async function attempt(name, how, fn) {
  if (process.env.DEBUG_BUNDLERS) console.error(`… ${name}`);
  try {
    await fn();
  } catch (e) {
    rows.push({
      name,
      how,
      ok: false,
      detail: String(/** @type {{ stack?: string } | undefined} */ (e)?.stack ?? e)
        .split('\n')
        .slice(0, 3)
        .join(' | '),
    });
  }
}
/**
 * Runs a runtime on a file; its stdout is the result, and it must print nothing else (auto is quiet).
 * @param {string} bin @param {string[]} argv @returns {Result}
 */
function runtime(bin, argv) {
  const r = spawnSync(bin, argv, { cwd: app, encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`exit ${r.status}: ${r.stderr.slice(0, 300)}`);
  const out = JSON.parse(r.stdout);
  if (r.stderr.trim()) out.error = `printed to stderr: ${r.stderr.trim().slice(0, 200)}`;
  return out;
}
const nodeRun = (/** @type {string} */ file) => runtime(process.execPath, [file]);

// ---- bundles for the browser -----------------------------------------------------------------------------
/** @type {{ name: string, how: string, dir: string, html: string }[]} */
const bundles = [];
/** The files under `dir` whose names end in `ext`, at any depth. @type {(dir: string, ext: string) => string[]} */
const filesIn = (dir, ext) =>
  readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? filesIn(join(dir, d.name), ext) : d.name.endsWith(ext) ? [join(dir, d.name)] : [],
  );
/**
 * Throws unless a bundler that emits the kernels as assets emitted both builds: the page here runs the
 * SIMD one, and an engine without SIMD would fetch the scalar one (the build must keep each
 * `new URL('./webcrf.<kind>.wasm', import.meta.url)` where the bundler finds it).
 * @param {string} dir
 */
function emitsBothKernels(dir) {
  // webpack names assets by their hash alone: two files, one per build.
  const wasm = filesIn(dir, '.wasm');
  if (wasm.length < 2) throw new Error(`one .wasm emitted where both builds should be (${wasm.join(', ') || 'none'})`);
}
const outDir = (/** @type {string} */ name) => join(work, 'out', name);

await attempt('vite', 'vite build', async () => {
  if (!want('vite')) return;
  const { build } = await import('vite');
  const dir = outDir('vite');
  writeFileSync(join(app, 'index.html'), page('./main.js'));
  await build({ root: app, base: './', logLevel: 'silent', configFile: false, build: { outDir: dir, target: 'es2022', emptyOutDir: true } });
  emitsBothKernels(dir);
  bundles.push({ name: 'vite', how: 'vite build (Rolldown)', dir, html: 'index.html' });
});

await attempt('webpack', 'webpack 5', async () => {
  if (!want('webpack')) return;
  const { default: webpack } = await import('webpack');
  const dir = outDir('webpack');
  const stats = await new Promise((resolve, reject) =>
    webpack(
      {
        mode: 'production',
        context: app,
        entry: './main.js',
        target: 'web',
        devtool: false,
        output: { path: dir, filename: 'main.js', publicPath: 'auto' },
      },
      (err, s) => (err ? reject(err) : resolve(s)),
    ),
  );
  if (stats.hasErrors()) throw new Error(stats.toString({ all: false, errors: true }));
  writeFileSync(join(dir, 'index.html'), page('./main.js'));
  emitsBothKernels(dir);
  bundles.push({ name: 'webpack', how: 'webpack 5, production', dir, html: 'index.html' });
});

for (const format of /** @type {const} */ (['esm', 'iife'])) {
  await attempt(`esbuild ${format}`, `esbuild --bundle --format=${format}`, async () => {
    if (!want('esbuild')) return;
    const esbuild = await import('esbuild');
    const dir = outDir(`esbuild-${format}`);
    await esbuild.build({
      absWorkingDir: app,
      entryPoints: [format === 'iife' ? 'main-iife.js' : 'main.js'],
      bundle: true,
      format,
      platform: 'browser',
      target: 'es2022',
      outdir: dir,
      logLevel: 'silent',
      ...(format === 'esm' ? { splitting: true } : {}),
    });
    const script = format === 'iife' ? 'main-iife.js' : 'main.js';
    writeFileSync(join(dir, 'index.html'), page(`./${script}`, format === 'iife' ? 'text/javascript' : 'module'));
    bundles.push({ name: `esbuild ${format}`, how: `esbuild --bundle --format=${format}`, dir, html: 'index.html' });
  });
}

await attempt('rollup', 'rollup + node-resolve', async () => {
  if (!want('rollup')) return;
  const { rollup } = await import('rollup');
  const { nodeResolve } = await import('@rollup/plugin-node-resolve');
  const dir = outDir('rollup');
  const b = await rollup({ input: join(app, 'main.js'), plugins: [nodeResolve({ browser: true })], onwarn: () => {} });
  await b.write({ dir, format: 'es' });
  writeFileSync(join(dir, 'index.html'), page('./main.js'));
  bundles.push({ name: 'rollup', how: 'rollup + @rollup/plugin-node-resolve', dir, html: 'index.html' });
});

await attempt('bun build', 'bun build --target browser', async () => {
  if (!want('bun')) return;
  if (!existsSync(BUN)) return skip('bun build', 'no bun binary (npm run setup:runtimes)');
  const dir = outDir('bun');
  execFileSync(BUN, ['build', 'main.js', '--target', 'browser', '--outdir', dir, '--splitting'], { cwd: app, stdio: 'pipe' });
  writeFileSync(join(dir, 'index.html'), page('./main.js'));
  bundles.push({ name: 'bun build', how: 'bun build --target browser', dir, html: 'index.html' });
});

// A plain <script type="module"> from the unpacked package, no bundler.
if (want('plain')) {
  const dir = outDir('plain');
  mkdirSync(dir, { recursive: true });
  cpSync(join(app, 'node_modules', 'webcrf', 'dist'), join(dir, 'webcrf'), { recursive: true });
  writeFileSync(join(dir, 'main.js'), readFileSync(join(app, 'main.js'), 'utf8').replace("from 'webcrf'", "from './webcrf/index.js'"));
  writeFileSync(join(dir, 'index.html'), page('./main.js'));
  bundles.push({ name: 'plain ESM', how: '<script type="module"> from dist/', dir, html: 'index.html' });
}

if (bundles.length) {
  // One server for every bundle (out/<name>/): Chromium's kept-alive connections to a closed server
  // brought the browser down after a few pages.
  const server = await serve(join(work, 'out'), 0);
  const browser = await launchChromium();
  try {
    for (const b of bundles) {
      await attempt(b.name, b.how, async () => {
        // A 404 for the .wasm (bundlers that leave it behind) is expected: the inline copy follows.
        const at = `/${b.dir.slice(join(work, 'out').length + 1)}/${b.html}`;
        verdict(b.name, b.how, (await pageResult({ url: server.url, browser }, at, '__result', { timeout: 60_000 })).result);
        // The core's bundle holds nothing of tfjs: webcrf/tfjs is a separate entry, tfjs its optional peer.
        // (The plain row copies dist/ whole: its webcrf/tfjs.js is there, unimported.)
        const tfjs = filesIn(b.dir, '.js').filter((f) => !f.endsWith(join('webcrf', 'tfjs.js')) && /@tensorflow|tfjs-core/.test(readFileSync(f, 'utf8')));
        if (tfjs.length) rows.push({ name: b.name, how: b.how, ok: false, detail: `tfjs in the core's bundle: ${tfjs.join(', ')}` });
      });
    }
  } finally {
    await browser.cleanup();
    await server.close();
  }
}

// ---- runtimes ------------------------------------------------------------------------------------------
if (want('node')) {
  await attempt('node', 'node, import by name', async () => verdict('node', 'node, import by name (node condition)', nodeRun('main.js')));
  await attempt('node by path', 'node, import dist/index.js', async () => {
    writeFileSync(join(app, 'by-path.js'), readFileSync(join(app, 'main.js'), 'utf8').replace("from 'webcrf'", "from './node_modules/webcrf/dist/index.js'"));
    verdict('node by path', 'node, import ./node_modules/webcrf/dist/index.js', nodeRun('by-path.js'));
  });
  await attempt('node require', "node, require('webcrf')", async () =>
    verdict('node require', "node, require('webcrf') (require(esm))", nodeRun('require.cjs')),
  );
  // esbuild's default for Node: CommonJS, whose import.meta is empty (no file beside the bundle, no
  // worker file): the inline kernels, and threads: 2 on one thread, saying why.
  await attempt('esbuild node cjs', 'esbuild --bundle --platform=node', async () => {
    if (!want('esbuild')) return;
    const esbuild = await import('esbuild');
    await esbuild.build({
      absWorkingDir: app,
      entryPoints: ['require.cjs'],
      bundle: true,
      platform: 'node',
      outfile: join(app, 'bundle-node.cjs'),
      logLevel: 'silent',
    });
    verdict('esbuild node cjs', 'esbuild --bundle --platform=node (CommonJS), run by node', nodeRun('bundle-node.cjs'));
  });
}
if (want('deno')) {
  if (!existsSync(DENO)) skip('deno', 'no deno binary (npm run setup:runtimes)');
  else
    await attempt('deno', 'deno run, no permissions', async () => {
      verdict('deno', 'deno run, no permissions', runtime(DENO, ['run', 'main.js']));
    });
}
if (want('bun')) {
  if (!existsSync(BUN)) skip('bun', 'no bun binary (npm run setup:runtimes)');
  else await attempt('bun', 'bun run', async () => verdict('bun', 'bun main.js', runtime(BUN, ['main.js'])));
}
if (want('workerd')) {
  const { Miniflare } = await import('miniflare');
  const pkg = join(app, 'node_modules', 'webcrf');
  /** @type {(dir: string) => string[]} */
  const files = (dir) => readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? files(join(dir, d.name)) : [join(dir, d.name)]));
  const worker = (/** @type {string} */ entry) => `import { CRF } from './node_modules/webcrf/${entry}';
    export default { async fetch() { ${compute}
      return Response.json(out); } };`;
  /** @type {[string, string, boolean][]} */
  const entries = [
    ['workerd', 'dist/workerd.js', true],
    ['workerd, default entry', 'dist/index.js', false],
  ];
  for (const [name, entry, expectWasm] of entries) {
    await attempt(name, `miniflare, ${entry}`, async () => {
      /** @type {import('miniflare').ModuleDefinition[]} */
      const modules = [
        { type: 'ESModule', path: join(app, 'worker.js'), contents: worker(entry) },
        ...files(join(pkg, 'dist'))
          .filter((f) => f.endsWith('.js') || f.endsWith('.wasm'))
          .map(
            (f) =>
              /** @type {import('miniflare').ModuleDefinition} */ ({
                type: f.endsWith('.wasm') ? 'CompiledWasm' : 'ESModule',
                path: f,
                contents: readFileSync(f),
              }),
          ),
      ];
      const mf = new Miniflare({ modules, modulesRoot: app, compatibilityDate: '2024-09-23' });
      try {
        const out = /** @type {Result} */ (await (await mf.dispatchFetch('http://worker/')).json());
        if (expectWasm) verdict(name, `miniflare, the workerd condition (${entry})`, out);
        else {
          // workerd compiles no bytes at run time: without its condition the kernels cannot load, and
          // auto must say so rather than quietly be slow.
          const ok = out.auto.backend === 'js' && /could not be loaded/.test(out.auto.reason) && /workerd/.test(out.auto.reason);
          rows.push({ name, how: `miniflare, ${entry} (no workerd condition)`, ok, detail: `auto: ${out.auto.backend}, "${out.auto.reason.slice(0, 160)}…"` });
        }
      } finally {
        await mf.dispose();
      }
    });
  }
}

// ---- report --------------------------------------------------------------------------------------------
const width = Math.max(...rows.map((r) => r.name.length));
for (const r of rows) console.log(`${r.skipped ? 'skip' : r.ok ? 'ok  ' : 'FAIL'} ${r.name.padEnd(width)}  ${r.how}: ${r.detail}`);
if (!args.includes('--keep')) rmSync(work, { recursive: true, force: true });
else console.log(`kept ${work}`);
process.exit(rows.some((r) => !r.ok) ? 1 : 0);
