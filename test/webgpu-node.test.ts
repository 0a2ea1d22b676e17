// The webgpu backend in Node through the `webgpu` package (Dawn). On a hardware adapter the kernel
// checks of test/webgpu/checks.js run here, each GPU call in a validation error scope. On SwiftShader
// (no GPU) the backend must refuse to run (Dawn + SwiftShader crashes the process at random) and auto
// must not pick it; the kernels are then checked in headless Chromium (test/webgpu-browser.test.ts).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as lib from '../src/index.js';
import './wasm-setup.js';
import { JsBackend } from '../src/backends/js.js';
import { WebGpuBackend } from '../src/backends/webgpu.js';
// @ts-expect-error plain JS
import { nodeGpuDevice } from '../scripts/node-backends.js';
// @ts-expect-error plain JS shared with the browser page
import { checks } from './webgpu/checks.js';

const gpu: { device: GPUDevice | null; adapter?: GPUAdapter; reason: string | null } = await nodeGpuDevice();
if (!gpu.device) console.warn(`webgpu Node tests skipped: no adapter (${gpu.reason})`);
const software = gpu.device?.adapterInfo?.architecture === 'swiftshader';
if (software) console.warn('webgpu kernel checks in Node skipped: the adapter is SwiftShader, which crashes under Node; they run in headless Chromium (test/webgpu-browser.test.ts)');

describe('webgpu shaders', () => {
  it('the generated module is what scripts/build-shaders.js makes from shaders/', () => {
    const file = new URL('../src/backends/webgpu-shaders.generated.ts', import.meta.url);
    const before = readFileSync(file, 'utf8');
    const out = execFileSync(process.execPath, [new URL('../scripts/build-shaders.js', import.meta.url).pathname], { encoding: 'utf8' });
    expect(out).toMatch(/unchanged/);
    expect(readFileSync(file, 'utf8')).toBe(before);
    // Every variant states its bindings and workgroup layout at the top, and none keeps a directive.
    const src = before;
    for (const name of ['chain.partition', 'chain.fb', 'chain.viterbi', 'unary', 'pairs', 'reduce']) expect(src).toContain(`'${name}':`);
    expect(src).not.toMatch(/#if|#endif|\$\{/);
    expect((src.match(/Bindings \(group 0\)/g) ?? []).length).toBe(6);
    expect((src.match(/Workgroup layout/g) ?? []).length).toBe(6);
  });
});

describe.skipIf(!gpu.device || !software)('webgpu on SwiftShader under Node', () => {
  it('the backend refuses it, saying why, and auto runs on the CPU', async () => {
    await expect(lib.CRF.create(3, { backend: 'webgpu', device: gpu.device })).rejects.toThrow(/SwiftShader under Node/);
    const crf = await lib.CRF.create(3, { device: gpu.device });
    expect(crf.backend).toBe('wasm');
    crf.dispose();
  });
});

describe.skipIf(!gpu.device || software)('webgpu kernels on a hardware adapter', () => {
  const ctx = {
    lib, WebGpuBackend, JsBackend, device: gpu.device,
    newDevice: async () => (await (await (await import('webgpu')).create([]).requestAdapter())!.requestDevice()),
    log: () => {},
  };
  it.each(Object.keys(checks))('%s', async (name) => {
    await checks[name](ctx);
  }, 120_000);
});
