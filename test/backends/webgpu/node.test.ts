// The webgpu backend in Node through the `webgpu` package (Dawn): the kernel checks of
// test/webgpu/checks.js, each GPU call in a validation error scope, on whatever adapter Dawn finds (a
// GPU, or SwiftShader through Debian's Vulkan loader). They skip, saying so, only where there is none.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as lib from '../../../src/index.js';
import '../../wasm-setup.js';
import { JsBackend } from '../../../src/backends/js/backend.js';
import { WebGpuBackend } from '../../../src/backends/webgpu/index.js';
import { nodeGpuDevice } from '../../../scripts/node-backends.js';
import { checks } from '../../webgpu/checks.js';

const gpu: { device: GPUDevice | null; adapter?: GPUAdapter; reason: string | null } = await nodeGpuDevice();
if (!gpu.device) console.warn(`webgpu Node tests skipped: no adapter (${gpu.reason})`);
const software = gpu.device?.adapterInfo?.architecture === 'swiftshader';
// Dawn tears a GPU instance down when it is collected, taking its devices with it: keep each alive.
const instances: unknown[] = [];

describe('webgpu shaders', () => {
  it('the generated module is what scripts/build-shaders.js makes from shaders/, and a rebuild changes nothing', async () => {
    const file = new URL('../../../src/generated/shaders.ts', import.meta.url);
    const before = readFileSync(file, 'utf8');
    const out = execFileSync(process.execPath, [new URL('../../../scripts/build-shaders.js', import.meta.url).pathname], { encoding: 'utf8' });
    expect(out).toBe('');
    expect(readFileSync(file, 'utf8')).toBe(before);
    const { SHADERS, WGSL } = await import('../../../src/generated/shaders.js');
    expect(Object.keys(SHADERS)).toEqual([
      'chain.logPartition',
      'chain.posteriors',
      'chain.viterbi',
      'chain.entropy',
      'unary',
      'pairs',
      'reduce',
      'gather',
      'summary',
      'weighted',
    ]);
    // The TypeScript side's constants are common.wgsl's.
    const common = readFileSync(new URL('../../../shaders/common.wgsl', import.meta.url), 'utf8');
    expect(common).toContain(`const NEG: f32 = ${String(WGSL.NEG).replace('+', '')};`);
    expect(common).toContain(`const WG: u32 = ${WGSL.WG}u;`);
    for (const [name, s] of Object.entries(SHADERS)) {
      // Plain WGSL: no directive survives, and the binding table is the code's declarations in order.
      expect(s.code, name).not.toMatch(/#if|#endif|\$\{/);
      const declared = [...s.code.matchAll(/@binding\((\d+)\) var(?:<[^>]+>)? (\w+)/g)].map((m) => [Number(m[1]), m[2]]);
      expect(
        declared.sort((a, b) => Number(a[0]) - Number(b[0])).map((d) => d[1]),
        name,
      ).toEqual(s.bindings);
      // Every part states its bindings and workgroup layout at its top.
      expect(s.code, name).toMatch(/Bindings \(group 0\)/);
      expect(s.code, name).toMatch(/Workgroup layout/);
    }
  });
});

describe.skipIf(!gpu.device || !software)('auto with a software adapter', () => {
  it('runs on the CPU kernels, which beat SwiftShader at every size', async () => {
    const crf = await lib.CRF.create(3, { device: gpu.device });
    expect(crf.backend).toBe('wasm');
    crf.dispose();
  });
});

describe.skipIf(!gpu.device)('webgpu kernels', () => {
  const ctx = {
    lib,
    WebGpuBackend,
    JsBackend,
    device: gpu.device!, // the describe skips without one
    newDevice: async () => {
      const instance = (await import('webgpu')).create([]);
      instances.push(instance);
      return await (await instance.requestAdapter())!.requestDevice();
    },
    log: () => {},
  };
  it.each(Object.keys(checks))(
    '%s',
    async (name) => {
      await checks[name](ctx);
    },
    120_000,
  );
});
