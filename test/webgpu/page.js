// test/webgpu/page.html's script: loads the built package with no bundler (npm run build first) and
// runs test/webgpu/checks.js on this page's navigator.gpu. Results land in window.__webgpu for
// test/backends/webgpu/browser.test.ts.
import * as lib from '../../dist/index.js';
import { JsBackend, WebGpuBackend } from '../../build/internals.js';
import { checks } from './checks.js';

const log = (/** @type {string} */ s) => {
  /** @type {HTMLElement} */ (document.getElementById('log')).textContent += `\n${s}`;
};
async function main() {
  const adapter = navigator.gpu ? await navigator.gpu.requestAdapter() : null;
  if (!adapter) return { skipped: navigator.gpu ? 'navigator.gpu gave no adapter' : 'no navigator.gpu' };
  // An adapter hands out one device; the device-loss check destroys devices of its own.
  const newDevice = async () => /** @type {GPUAdapter} */ (await navigator.gpu.requestAdapter()).requestDevice({ label: 'webcrf check' });
  const device = await adapter.requestDevice({ label: 'webcrf check' });
  const info = adapter.info ?? {};
  // The classes are dist/'s, Ctx is typed from src/: the same code, but the op registry's generic types
  // of two copies are not comparable structurally.
  const ctx = /** @type {import('./checks.js').Ctx} */ (/** @type {unknown} */ ({ lib, WebGpuBackend, JsBackend, device, newDevice, log }));
  const results = [];
  for (const [name, check] of Object.entries(checks)) {
    const t0 = performance.now();
    try {
      const detail = await check(ctx);
      results.push({ name, ok: true, detail, ms: Math.round(performance.now() - t0) });
      log(`ok   ${name}: ${detail}`);
    } catch (e) {
      results.push({ name, ok: false, error: String(/** @type {Error | undefined} */ (e)?.stack ?? e) });
      log(`FAIL ${name}: ${/** @type {Error | undefined} */ (e)?.message ?? e}`);
    }
  }
  return { adapter: `${info.vendor ?? ''} ${info.architecture ?? ''} ${info.description ?? ''}`.trim(), results };
}
main().then(
  (r) => {
    window.__webgpu = r;
    log('done');
  },
  (e) => {
    window.__webgpu = { fatal: String(e?.stack ?? e) };
    log(`fatal: ${e}`);
  },
);
