import { CRF, type BackendName } from '../src/index.js';
import './wasm-setup.js';
// @ts-expect-error plain JS, shared with scripts/fuzz.js
import { nodeGpuDevice } from '../scripts/node-backends.js';

/**
 * Every backend this runtime has; tests run their oracles on each. webgpu where the `webgpu` package
 * (Dawn) gives an adapter the backend accepts: a hardware GPU. SwiftShader under Node is refused by the
 * backend (it crashes the process at random; see src/backends/webgpu.ts), so on a machine without a GPU
 * the kernels are checked in headless Chromium instead (test/webgpu-browser.test.ts, test/browser/).
 */
export async function availableBackends(): Promise<BackendName[]> {
  const out: BackendName[] = ['js'];
  out.push('wasm');
  const { device } = await nodeGpuDevice();
  if (device) {
    try {
      (await CRF.create(2, { backend: 'webgpu', device })).dispose();
      out.push('webgpu');
      // Suites that pass no backendOptions get a device the way a browser page would: navigator.gpu.
      const g = globalThis as { navigator?: { gpu?: unknown } };
      if (!g.navigator?.gpu) {
        const { create } = await import('webgpu');
        if (g.navigator) Object.defineProperty(g.navigator, 'gpu', { value: create([]), configurable: true });
        else g.navigator = { gpu: create([]) };
      }
    } catch {
      // Refused (SwiftShader under Node): covered in Chromium.
    }
  }
  return out;
}

/** What `CRF.create` needs besides the backend's name: the Dawn device for webgpu. */
export async function backendOptions(name: BackendName): Promise<{ device?: unknown }> {
  return name === 'webgpu' ? { device: (await nodeGpuDevice()).device } : {};
}
