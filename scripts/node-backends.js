// The backends this Node process can run, with the options each needs: webgpu through the `webgpu`
// package (Dawn; on machines without a GPU, SwiftShader through Debian's Vulkan loader).
import { existsSync } from 'node:fs';

const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';
/**
 * @typedef {{ instance: GPU, device: GPUDevice, adapter: GPUAdapter, reason: null } | { device: null, reason: string }} NodeGpu
 */
/** @type {NodeGpu | null} */
let gpu = null;

/**
 * A GPUDevice from Dawn, or null (with the reason) where none can be had.
 * @returns {Promise<NodeGpu>}
 */
export async function nodeGpuDevice() {
  if (gpu) return gpu;
  if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER)) process.env.VK_ICD_FILENAMES = SWIFTSHADER;
  try {
    const { create, globals } = await import('webgpu');
    Object.assign(globalThis, globals);
    // Keep the instance alive with the device: once the GPU object is collected, Dawn tears down the
    // instance under the live device and the process aborts (futex errors, std::system_error).
    const instance = create([]);
    const adapter = await instance.requestAdapter();
    if (!adapter) return (gpu = { device: null, reason: 'the webgpu package found no adapter' });
    const device = await adapter.requestDevice({
      requiredLimits: { maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize, maxBufferSize: adapter.limits.maxBufferSize },
    });
    return (gpu = { instance, device, adapter, reason: null });
  } catch (e) {
    return (gpu = { device: null, reason: `webgpu package: ${/** @type {Error} */ (e).message}` });
  }
}

/**
 * `[{ name, options }]` for js, wasm and webgpu where each can be created here.
 * @param {typeof import('webcrf')} lib the package (src or dist)
 * @returns {Promise<{ name: import('webcrf').BackendName, options: import('webcrf').CRFOptions }[]>}
 */
export async function nodeBackends(lib) {
  /** @type {{ name: import('webcrf').BackendName, options: import('webcrf').CRFOptions }[]} */
  const out = [{ name: 'js', options: {} }];
  for (const name of /** @type {const} */ (['wasm', 'webgpu'])) {
    /** @type {import('webcrf').CRFOptions} */
    const options = {};
    if (name === 'webgpu') {
      const g = await nodeGpuDevice();
      if (!g.device) continue;
      options.device = g.device;
    }
    try {
      const crf = await lib.CRF.create(2, { backend: name, ...options });
      const ok = crf.backend === name;
      crf.dispose();
      if (ok) out.push({ name, options });
    } catch {
      // not built in this checkout
    }
  }
  return out;
}
