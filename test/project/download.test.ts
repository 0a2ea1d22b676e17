// What a page downloads (scripts/size.js): the built package bundled as an application bundles it, and
// as shipped. What only some calls need (the WGSL behind the WebGPU backend, the inline copies of the
// kernels behind a failed .wasm fetch) is loaded when asked for, never before the first line runs; the
// worker, handed the compiled module, loads neither. And the tarball holds one copy of the built code.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { INLINE_KERNELS, LAZY_ONLY, PAGE, bundleApp, shippedEager } from '../../scripts/size.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const read = (f: string) => readFileSync(join(root, 'dist', f), 'utf8');
const holding = (texts: Map<string, string>, files: { file: string }[], test: (s: string) => boolean) =>
  files.filter((f) => test(texts.get(f.file) ?? '')).map((f) => f.file);

describe('what a page downloads', () => {
  it('a wasm-only page bundled by esbuild loads neither the WGSL nor the inline kernels eagerly; both are there to load when asked for', async () => {
    const page = await bundleApp(PAGE);
    expect(page.eager.length).toBeGreaterThan(0);
    for (const { what, test } of LAZY_ONLY) {
      expect(holding(page.texts, page.eager, test), `${what} in the eager set`).toEqual([]);
      expect(holding(page.texts, page.lazy, test).length, `${what} in a lazy chunk`).toBeGreaterThan(0);
    }
  });

  it('a page that never reads a safetensors file loads neither the reader nor its JSON parser; CRF.fromSafetensors loads them when called', async () => {
    const page = await bundleApp(PAGE);
    // Messages only the reader and the parser hold.
    const reader = (s: string) => s.includes('a header length within the file') && s.includes('a valid JSON');
    expect(holding(page.texts, page.eager, reader)).toEqual([]);
    expect(holding(page.texts, page.lazy, reader).length).toBe(1);
    const reads = await bundleApp(`import { CRF } from 'webcrf';\nconst crf = await CRF.fromSafetensors(new Uint8Array(0));\n`);
    expect(holding(reads.texts, reads.lazy, reader).length).toBe(1);
  });

  // Each marker is held by one module only: a message of webgpu/device.ts, of wasm/threads/spawn.ts, of
  // call/gpu-emissions.ts, and a constant of the sample reference's counter-based generator (murmur3's c2).
  it.each([
    ['the GPU device helpers (CRF.create loads them where a GPU is asked for)', 'no lost promise'],
    ['the thread runtime (loaded where threads are asked for)', 'this runtime has no Worker constructor'],
    ['the checks of GPU emissions (loaded with a WebGPU backend)', 'the kernels bind it as storage'],
    ['the float64 references (loaded with the js backend)', '461845907'],
  ])('a wasm-only page on one thread does not load %s before its first line runs; one lazy chunk holds it', async (_what, marker) => {
    const page = await bundleApp(PAGE);
    const holds = (s: string) => s.includes(marker);
    expect(holding(page.texts, page.eager, holds), marker).toEqual([]);
    expect(holding(page.texts, page.lazy, holds).length, marker).toBe(1);
  });

  it('the worker, bundled as its own entry, loads neither, and its bundle holds no inline kernels: it is handed the compiled module', async () => {
    const worker = await bundleApp('', root, 'dist/web-worker.js');
    for (const { what, test } of LAZY_ONLY) expect(holding(worker.texts, worker.eager, test), what).toEqual([]);
    expect(holding(worker.texts, worker.lazy, INLINE_KERNELS.test)).toEqual([]);
    // What it instantiates comes in the init message, not from a fetch of its own.
    expect(readFileSync(join(root, 'src/backends/wasm/threads/worker.ts'), 'utf8')).toMatch(/WasmBackend\.create\(\{ wasmModule: m\.module \}\)/);
  });

  it('without a bundler, the entries and the worker file load neither before their first line runs', () => {
    for (const entry of ['index.js', 'node.js', 'web-worker.js', 'node-worker.js']) {
      const files = shippedEager(root, entry);
      expect(files.map((f) => f.file)).toContain(entry);
      for (const { what, test } of LAZY_ONLY)
        expect(
          files.filter((f) => test(read(f.file))).map((f) => f.file),
          `${entry}: ${what}`,
        ).toEqual([]);
    }
  });
});

describe('the tarball', () => {
  it('holds one copy of the built code: every .js it packs is an entry, or imported by one', async () => {
    const { stdout } = await promisify(execFile)('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root });
    const packed: string[] = JSON.parse(stdout)[0].files.map((f: { path: string }) => f.path);
    const js = packed.filter((p) => p.endsWith('.js'));
    expect(
      js.every((p) => /^dist\/[^/]+\.js$/.test(p)),
      js.join(' '),
    ).toBe(true);
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    const targets = JSON.stringify(pkg.exports).match(/\.\/dist\/[\w-]+\.js/g) ?? [];
    // The worker files are named by the code that starts them, as `new URL('./…', import.meta.url)`.
    const reached = new Set([...targets.map((t) => t.slice('./dist/'.length)), 'web-worker.js', 'node-worker.js']);
    for (const f of reached) {
      for (const m of read(f).matchAll(/(?:\bfrom|\bimport)\s*\(?\s*["']\.\/([\w.-]+\.js)["']/g)) reached.add(m[1]);
    }
    expect(js.map((p) => p.slice('dist/'.length)).filter((f) => !reached.has(f))).toEqual([]);
  });
});
