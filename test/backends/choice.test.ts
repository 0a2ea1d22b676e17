// How a backend is chosen and said: crf.backendReason always names the choice; auto ending on the float64
// reference warns once with the reason and the remedy; an explicit 'wasm' that cannot load throws an
// error naming what failed for each route; the kernels' routes are tried in order.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { readFile } from 'node:fs/promises';
import { CRF, WasmLoadError } from '../../src/index.js';
import { inlineRoute } from '../../src/backends/wasm/inline.js';
import { builtinWasmModule, setWasmRoutes } from '../../src/backends/wasm/source.js';
import { distWasm } from '../wasm-setup.js';

const dist = { name: 'dist', load: async (kind: 'simd' | 'scalar') => WebAssembly.compile(await readFile(distWasm(kind))) };
const failing = (name: string, why: string) => ({
  name,
  load: async () => {
    throw new Error(why);
  },
});

afterEach(() => {
  setWasmRoutes([dist]);
  vi.restoreAllMocks();
});

describe('the backend and why', () => {
  it('names what auto and each explicit backend chose', async () => {
    expect((await CRF.create(3)).backendReason).toMatch(/^auto: WebAssembly kernels \(SIMD build, from dist\) \(no WebGPU here\)$/);
    expect((await CRF.create(3, { backend: 'wasm' })).backendReason).toMatch(/^backend 'wasm' was asked for: WebAssembly kernels/);
    expect((await CRF.create(3, { backend: 'js' })).backendReason).toBe("backend 'js' was asked for: the float64 reference");
  });

  it('tries the routes in order and says which worked', async () => {
    setWasmRoutes([failing('fetch', 'fetch http://x/webcrf.simd.wasm answered HTTP 404'), inlineRoute]);
    const crf = await CRF.create(3);
    expect(crf.backend).toBe('wasm');
    expect(crf.backendReason).toMatch(/from inline/);
    expect((await builtinWasmModule('scalar')).from).toBe('inline');
  });

  it("auto on js warns once, with every route's failure and the remedy, and says so in backendReason", async () => {
    setWasmRoutes([
      failing('fetch', 'fetch http://x/webcrf.simd.wasm answered HTTP 404'),
      failing('inline', 'this runtime refused to compile WebAssembly from bytes'),
    ]);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const a = await CRF.create(3);
    const b = await CRF.create(4);
    expect(a.backend).toBe('js');
    expect(b.backend).toBe('js');
    expect(warn).toHaveBeenCalledTimes(1);
    const msg = String(warn.mock.calls[0][0]);
    for (const part of ['float64 js backend', 'HTTP 404', 'refused to compile', 'wasmModule', 'workerd']) expect(msg).toContain(part);
    expect(a.backendReason).toMatch(
      /^auto: the float64 js backend .* because the WebAssembly kernels \(simd build\) could not be loaded: fetch: .*HTTP 404; inline: .*refused/,
    );
  });

  it("an explicit backend 'wasm' that cannot load throws WasmLoadError naming each route and the remedy", async () => {
    setWasmRoutes([failing('file', 'could not read /x/webcrf.simd.wasm (ENOENT)'), failing('inline', 'no')]);
    const err = await CRF.create(3, { backend: 'wasm' }).catch((e) => e);
    expect(err).toBeInstanceOf(WasmLoadError);
    expect(err.failures).toEqual(['file: could not read /x/webcrf.simd.wasm (ENOENT)', 'inline: no']);
    expect(err.message).toMatch(/wasm-unsafe-eval.*workerd.*wasmModule/);
  });
});
