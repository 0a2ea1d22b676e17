// scripts/device-pack.js without building the pack: its manifest holds everything bench/device.sh and
// bench/device.js reach for, and its dry run finds every source and bounds the pack under the budget.
// (The pack itself and a --quick run of it on SwiftShader are checked by hand: docs/performance.md.)
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { manifest } from '../../scripts/device-pack.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const run = promisify(execFile);
type Entry = { to: string; from?: string; xz?: boolean };
const entries = async (opts = { tfjs: true, pytorchCrf: true }) => ((await manifest(opts)) as Entry[]).map((e) => e.to);

describe('scripts/device-pack.js', () => {
  it('packs every package bench/device.js imports, and every file it opens beside itself', async () => {
    const packed = new Set(await entries());
    const src = readFileSync(join(root, 'bench/device.js'), 'utf8');
    const specifiers = [...src.matchAll(/(?:from |import\()\s*'([^']+)'/g)].map((m) => m[1]).filter((s) => !s.startsWith('node:'));
    expect(specifiers).toEqual(expect.arrayContaining(['webcrf', 'webgpu']));
    for (const s of specifiers) expect(packed.has(`node_modules/${s}/package.json`), s).toBe(true);
    const beside = [...src.matchAll(/join\(here, '([^']+)'\)/g)].map((m) => m[1]);
    expect(beside).toEqual(expect.arrayContaining(['tfjs-webgpu.js', 'torchcrf', 'pytorch_crf.py']));
    for (const f of beside)
      expect(
        [...packed].some((p) => p === f || p.startsWith(`${f}/`)),
        f,
      ).toBe(true);
  });

  it('packs every file bench/device.sh opens under its own folder', async () => {
    const packed = new Set(await entries());
    const sh = readFileSync(join(root, 'bench/device.sh'), 'utf8');
    const paths = [...sh.matchAll(/\$here\/([\w./-]+)/g)].map((m) => m[1].replace(/\/$/, ''));
    expect(paths).toEqual(expect.arrayContaining(['node.xz', 'bench.js', 'lib']));
    // dawn.node is unpacked there from the .xz beside it.
    expect(sh).toContain('"$dawn.xz"');
    for (const p of paths)
      expect(
        [...packed].some((f) => f === p || f === `${p}.xz` || f.startsWith(`${p}/`)),
        p,
      ).toBe(true);
  });

  it("packs the files webcrf's Node entry and its wasm backend load", async () => {
    const packed = new Set(await entries());
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, Record<string, string>> };
    for (const target of [pkg.exports['.'].node, pkg.exports['./webcrf.simd.wasm'].default, pkg.exports['./webcrf.scalar.wasm'].default]) {
      expect(packed.has(`node_modules/webcrf/${target.replace(/^\.\//, '')}`), target).toBe(true);
    }
    // Every module a packed dist module imports by a relative path is packed too.
    for (const f of [...packed].filter((p) => p.startsWith('node_modules/webcrf/dist/') && p.endsWith('.js'))) {
      const text = readFileSync(join(root, f.slice('node_modules/webcrf/'.length)), 'utf8');
      for (const m of text.matchAll(/(?:from|import\(|new URL\()\s*["'](\.\/[^"']+)["']/g)) {
        expect(packed.has(`node_modules/webcrf/dist/${m[1].slice(2)}`), `${f} -> ${m[1]}`).toBe(true);
      }
    }
  });

  it('leaves out the tfjs bundle and torchcrf when asked, and never packs torchcrf from the repository', async () => {
    const bare = await entries({ tfjs: false, pytorchCrf: false });
    expect(bare).not.toContain('tfjs-webgpu.js');
    expect(bare).not.toContain('torchcrf/__init__.py');
    expect(existsSync(join(root, 'torchcrf'))).toBe(false);
    expect(existsSync(join(root, 'bench/torchcrf'))).toBe(false);
  });

  it("docs/performance.md's device run names the pack's folder, its command and a timeout the device tool accepts", async () => {
    const doc = readFileSync(join(root, 'docs/performance.md'), 'utf8');
    const section = doc.slice(doc.indexOf('### GPU figures: how to take them'));
    const json = /```json\n([\s\S]*?)```/.exec(section);
    expect(json).not.toBeNull();
    const call = JSON.parse(json![1]) as { command: string; carry: string[]; timeout_s: number };
    expect(call.carry).toEqual(['.device']);
    expect(readFileSync(join(root, '.gitignore'), 'utf8').split('\n')).toContain('.device/');
    expect(call.command).toMatch(/(^|; )bash \.device\/device\.sh( |$)/);
    expect(call.command.length).toBeLessThanOrEqual(2000);
    expect(call.timeout_s).toBeGreaterThan(0);
    expect(call.timeout_s).toBeLessThanOrEqual(600);
    // The pack puts device.sh at the top of the carried folder.
    expect(await entries()).toContain('device.sh');
    const sh = /```sh\n([\s\S]*?)```/.exec(section)![1];
    for (const f of sh.matchAll(/(?:node|bash) (\S+)/g)) {
      const path = f[1].startsWith('.device/') ? f[1].replace('.device/device.sh', 'bench/device.sh') : f[1];
      expect(existsSync(join(root, path)), f[1]).toBe(true);
    }
    expect(readFileSync(join(root, 'bench/device.js'), 'utf8')).toContain("args.quick === 'yes'");
  });

  it('finds every source here and bounds the pack under the 64 MiB budget (dry run)', async () => {
    if (!existsSync(join(root, 'dist/node.js'))) throw new Error('dist/ is missing: run npm run build (npm test does)');
    const { stdout } = await run(process.execPath, [join(root, 'scripts/device-pack.js'), '--dry-run', '--no-pytorch-crf'], { cwd: root, timeout: 60_000 });
    const dry = JSON.parse(stdout) as { files: { to: string; bytes: number }[]; bound: number; budget: number; missing: string[] };
    expect(dry.missing).toEqual([]);
    expect(dry.budget).toBeGreaterThan(32 * 2 ** 20);
    expect(dry.budget).toBeLessThan(64 * 2 ** 20);
    expect(dry.bound).toBeLessThanOrEqual(dry.budget);
    expect(dry.bound).toBe(dry.files.reduce((s, f) => s + f.bytes, 0));
    for (const f of dry.files) expect(f.bytes, f.to).toBeGreaterThan(0);
  });
});
