// node scripts/device-pack.js [--dry-run] [--no-tfjs] [--no-pytorch-crf]
// Packs into .device/ (git-ignored) what a bare Linux x86-64 machine with a GPU and no network needs to run
// bench/device.sh, the WebGPU bench in Node: this Node binary and Dawn's (the `webgpu` package's) native
// module, both xz-compressed; the built package (dist/, so `npm run build` first); Debian's Vulkan loader
// and glvnd's dispatch library, which NVIDIA's Vulkan driver needs; one file of tfjs-core with its webgpu
// backend (for the tfjs training step); pytorch-crf's torchcrf/__init__.py, copied from the checkout that
// PYTORCH_CRF_SRC points at, as for bench/run.js (it is never committed). The folder travels to the device
// machine as one carried path, beside the working tree, under 64 MiB in all: the script prints the size
// and fails above the budget (64 MiB less the tracked files).
// --dry-run writes nothing: it checks that every source is here and bounds the size (deflate at level 1
// for the files the pack compresses with xz, which compresses these binaries smaller), printing the
// manifest as JSON.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateRawSync } from 'node:zlib';

const root = fileURLToPath(new URL('..', import.meta.url));
export const PACK_DIR = join(root, '.device');
export const TRAVEL_LIMIT = 64 * 1024 * 1024;
// Room for files that appear in the working tree between packing and the run (logs, a new test).
const MARGIN = 1024 * 1024;

/**
 * One file of the pack: copied from `from`, xz-compressed when `xz`, or written from `text`/`build()`.
 * @typedef {{ to: string, from?: string, xz?: boolean, text?: string, build?: () => Uint8Array }} Entry
 */

/** The system's Vulkan loader and glvnd's dispatch library (NVIDIA's ICD links against it). */
const SYSTEM_LIBS = ['libvulkan.so.1', 'libGLdispatch.so.0'];
const LIB_DIRS = ['/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu', '/usr/lib64', '/usr/lib'];

/** @param {string} name */
function systemLib(name) {
  for (const d of LIB_DIRS) if (existsSync(join(d, name))) return realpathSync(join(d, name));
  return join(LIB_DIRS[0], name);
}

/** The torchcrf/__init__.py of the checkout PYTORCH_CRF_SRC names (its root or its torchcrf/ folder). */
function pytorchCrfInit() {
  const src = process.env.PYTORCH_CRF_SRC;
  if (!src) return null;
  return basename(src) === 'torchcrf' ? join(src, '__init__.py') : join(src, 'torchcrf', '__init__.py');
}

/** tfjs-core (exported as `tf`) with its gradients and webgpu backend (and the cpu backend it falls back to), and webcrf/tfjs (`TfjsCRF`), as one ES module for Node. */
async function tfjsBundle() {
  const { buildSync } = await import('esbuild');
  const r = buildSync({
    stdin: {
      contents: [
        "import * as tf from '@tensorflow/tfjs-core';",
        // tfjs-core alone has no gradients: the umbrella package registers them.
        "import '@tensorflow/tfjs-core/dist/register_all_gradients';",
        "import '@tensorflow/tfjs-backend-webgpu';",
        // webcrf/tfjs on this tfjs-core; the core itself stays the pack's node_modules/webcrf.
        `export { CRF as TfjsCRF } from ${JSON.stringify(join(root, 'dist', 'tfjs.js'))};`,
        'export { tf };',
      ].join('\n'),
      resolveDir: root,
      loader: 'js',
    },
    bundle: true,
    platform: 'node',
    // The ES module builds, so that the gradients register on the same tfjs-core as the ops.
    mainFields: ['module', 'main'],
    format: 'esm',
    minify: true,
    write: false,
    // The bundle's CommonJS parts call require() for Node's built-ins.
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    external: ['webcrf'],
    logLevel: 'error',
  });
  return r.outputFiles[0].contents;
}

/**
 * @param {{ tfjs: boolean, pytorchCrf: boolean }} opts
 * @returns {Promise<Entry[]>}
 */
export async function manifest({ tfjs, pytorchCrf }) {
  /** @type {Entry[]} */
  const entries = [
    { to: 'node.xz', from: process.execPath, xz: true },
    { to: 'device.sh', from: join(root, 'bench/device.sh') },
    { to: 'bench.js', from: join(root, 'bench/device.js') },
    { to: 'pytorch_crf.py', from: join(root, 'bench/pytorch_crf.py') },
    { to: 'package.json', text: JSON.stringify({ type: 'module', private: true }) + '\n' },
    // webcrf as a user installs it: its package.json (the exports map) and the built dist/.
    { to: 'node_modules/webcrf/package.json', from: join(root, 'package.json') },
    ...readdirSync(join(root, 'dist'), { recursive: true, withFileTypes: true })
      .filter((d) => d.isFile() && !d.name.endsWith('.d.ts'))
      .map((d) => {
        const rel = join(d.parentPath, d.name).slice(join(root, 'dist').length + 1);
        return { to: `node_modules/webcrf/dist/${rel}`, from: join(root, 'dist', rel) };
      }),
    { to: 'node_modules/webgpu/package.json', from: join(root, 'node_modules/webgpu/package.json') },
    { to: 'node_modules/webgpu/index.js', from: join(root, 'node_modules/webgpu/index.js') },
    { to: 'node_modules/webgpu/dist/linux-x64/dawn.node.xz', from: join(root, 'node_modules/webgpu/dist/linux-x64/dawn.node'), xz: true },
    ...SYSTEM_LIBS.map((name) => ({ to: `lib/${name}`, from: systemLib(name) })),
  ];
  if (tfjs) {
    const bundle = await tfjsBundle();
    entries.push({ to: 'tfjs-webgpu.js', build: () => bundle });
  }
  if (pytorchCrf) {
    const init = pytorchCrfInit();
    entries.push({ to: 'torchcrf/__init__.py', from: init ?? '(PYTORCH_CRF_SRC is not set: a checkout of https://github.com/kmkurn/pytorch-crf)' });
  }
  return entries;
}

/** Bytes of the tracked files: they travel beside the pack. */
function trackedBytes() {
  const files = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' }).split('\0').filter(Boolean);
  let n = 0;
  for (const f of files) if (existsSync(join(root, f))) n += statSync(join(root, f)).size;
  return n;
}

// An xz output is reused while its source is unchanged: compressing the Node binary takes minutes.
/** @param {string} from */
const stampOf = (from) => {
  const s = statSync(from);
  return `${from} ${s.size} ${s.mtimeMs}`;
};

/** @param {string} from @param {string} to */
function xzInto(from, to) {
  const stamp = `${to}.stamp`;
  if (existsSync(to) && existsSync(stamp) && readFileSync(stamp, 'utf8') === stampOf(from)) return;
  execFileSync('sh', ['-c', 'xz -T0 -6 -c "$1" > "$2"', 'xz', from, to], { stdio: 'inherit' });
  writeFileSync(stamp, stampOf(from));
}

async function main() {
  const argv = process.argv.slice(2);
  const dry = argv.includes('--dry-run');
  const opts = { tfjs: !argv.includes('--no-tfjs'), pytorchCrf: !argv.includes('--no-pytorch-crf') };
  const entries = await manifest(opts);
  const missing = entries.filter((e) => e.from && !existsSync(e.from)).map((e) => `${e.to} <- ${e.from}`);
  const budget = TRAVEL_LIMIT - trackedBytes() - MARGIN;
  if (dry) {
    let bound = 0;
    const files = entries.map((e) => {
      let bytes = 0;
      if (e.from && existsSync(e.from)) bytes = e.xz ? deflateRawSync(readFileSync(e.from), { level: 1 }).length : statSync(e.from).size;
      else if (e.text) bytes = Buffer.byteLength(e.text);
      else if (e.build) bytes = e.build().length;
      bound += bytes;
      return { to: e.to, from: e.from ?? null, xz: !!e.xz, bytes };
    });
    console.log(JSON.stringify({ files, bound, budget, missing }, null, 1));
    if (missing.length || bound > budget) process.exitCode = 1;
    return;
  }
  if (missing.length)
    throw new Error(
      `device-pack: missing sources (build first: npm run build; pytorch-crf: set PYTORCH_CRF_SRC or pass --no-pytorch-crf):\n  ${missing.join('\n  ')}`,
    );
  mkdirSync(PACK_DIR, { recursive: true });
  // Keep only the cached xz outputs: everything else is copied afresh, so nothing stale travels.
  const keep = new Set(entries.filter((e) => e.xz).flatMap((e) => [e.to, `${e.to}.stamp`]));
  for (const d of readdirSync(PACK_DIR, { recursive: true, withFileTypes: true }))
    if (d.isFile() && !keep.has(join(d.parentPath, d.name).slice(PACK_DIR.length + 1))) rmSync(join(d.parentPath, d.name));
  let total = 0;
  for (const e of entries) {
    const to = join(PACK_DIR, e.to);
    mkdirSync(dirname(to), { recursive: true });
    if (e.xz && e.from) xzInto(e.from, to);
    else if (e.from) copyFileSync(e.from, to);
    else if (e.text != null) writeFileSync(to, e.text);
    else if (e.build) writeFileSync(to, e.build());
    total += statSync(to).size;
  }
  writeFileSync(
    join(PACK_DIR, 'manifest.json'),
    JSON.stringify(
      entries.map((e) => e.to),
      null,
      1,
    ) + '\n',
  );
  const mib = (/** @type {number} */ n) => `${(n / 1048576).toFixed(1)} MiB`;
  console.log(`device-pack: ${entries.length} files, ${mib(total)} in .device/ (budget ${mib(budget)}: 64 MiB less the tracked files)`);
  if (total > budget) {
    console.error(`device-pack: over budget by ${mib(total - budget)}`);
    process.exitCode = 1;
  }
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
