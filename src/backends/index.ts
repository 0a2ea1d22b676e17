import type { Backend, BackendName } from '../backend.js';
import { JsBackend } from './js.js';
import { WasmBackend } from './wasm.js';
import { AUTO_MIN_WORK, WebGpuBackend, isSoftwareAdapter, navigatorDevice } from './webgpu.js';

export interface BackendOptions {
  /** A GPUDevice to run on instead of requesting one. */
  device?: unknown;
  /** A compiled WebAssembly.Module of the kernels, for runtimes that refuse to compile bytes. */
  wasmModule?: unknown;
  /**
   * With `backend: 'auto'` and a GPU: calls whose batch × length × numTags² is below this run on the
   * CPU kernels (default 2^23, where the wasm kernels take about as long as a GPU round trip).
   */
  webgpuMinWork?: number;
}

/**
 * WASM wherever it loads; the float64 reference otherwise (e.g. a bundle that dropped the .wasm). Also
 * the CPU side of the GPU backend: k-best, calls too small for the GPU under auto, device loss.
 */
async function cpuBackend(opts: BackendOptions): Promise<Backend> {
  try {
    return await WasmBackend.create(opts);
  } catch (err) {
    if (opts.wasmModule !== undefined) throw err;
    return new JsBackend();
  }
}

/** The caller's device, else one from navigator.gpu, else null. */
async function gpuDevice(opts: BackendOptions): Promise<GPUDevice | null> {
  return (opts.device as GPUDevice | undefined) ?? navigatorDevice();
}

export async function createBackend(name: BackendName | 'auto', _numTags: number, opts: BackendOptions): Promise<Backend> {
  switch (name) {
    case 'wasm':
      return WasmBackend.create(opts);
    case 'webgpu': {
      const device = await gpuDevice(opts);
      if (!device) throw new Error('webcrf: backend webgpu needs a GPUDevice (options.device) or navigator.gpu with an adapter');
      return new WebGpuBackend({ device, cpu: await cpuBackend(opts) });
    }
    case 'auto': {
      // A hardware GPU where there is one, for calls large enough to pay for a dispatch; the CPU for the
      // rest. A software adapter (SwiftShader) is slower than the CPU kernels at every size.
      const device = await gpuDevice(opts);
      if (device && !isSoftwareAdapter(device)) return new WebGpuBackend({ device, cpu: await cpuBackend(opts), minWork: opts.webgpuMinWork ?? AUTO_MIN_WORK });
      // WASM wherever it loads; the float64 reference otherwise (e.g. a bundle that dropped the .wasm).
      return cpuBackend(opts);
    }
    case 'js':
      return new JsBackend();
    default:
      throw new Error(`backend ${name} is not built yet`);
  }
}
