/**
 * The backend policy: which backend a name gives, what `auto` does, and the sentence saying why
 * (`crf.backendReason`). Nothing here is silent: `auto` ending on the float64 reference warns once.
 */
import type { Backend } from './backend.js';
import type { BackendName, CRFOptions } from '../api/types.js';
import { messageOf } from '../errors.js';
import { JsBackend } from './js/backend.js';
import { LazyGpuBackend } from './lazy-gpu.js';
import { WasmBackend } from './wasm/backend.js';
import { inlineRoute } from './wasm/inline.js';
import { fetchRoute, setDefaultWasmRoutes } from './wasm/source.js';
import { loadThreadRuntime } from './wasm/threads/runtime.js';

/** What `create` hands the backends. */
export type BackendOptions = Pick<CRFOptions, 'device' | 'wasmModule' | 'webgpuMinWork'>;

/**
 * Where `auto` hands a call to a (hardware) GPU: B·T·K², the pair operations of one forward pass, at or
 * above this: the size at which the wasm kernels' time reaches a GPU call's fixed cost (the figures it
 * rests on are in docs/performance.md#kernel-and-call-notes). Override per instance with the
 * `webgpuMinWork` option.
 */
const AUTO_MIN_WORK = 1 << 23;

/** A backend and why it was chosen. */
interface Chosen {
  backend: Backend;
  reason: string;
}

async function wasm(opts: BackendOptions, threads: number): Promise<{ backend: Backend; what: string }> {
  setDefaultWasmRoutes([fetchRoute, inlineRoute]);
  const backend = await WasmBackend.create(opts);
  const what = `WebAssembly kernels (${backend.simd ? 'SIMD' : 'scalar'} build, from ${backend.source})`;
  if (threads <= 1) return { backend, what };
  // Threads beyond the cores only take turns, each with its own memory: never more than the cores.
  const cores = Math.max(1, (await loadThreadRuntime()).cores());
  const n = Math.min(threads, cores);
  const capped = `${threads} threads were asked for, but threads never outnumber the cores, and this runtime reports ${cores}`;
  if (n <= 1) return { backend, what: `${what} on the calling thread only: ${capped}` };
  try {
    // Imported only here: a page on one thread never downloads the pool.
    const { ThreadPool, ThreadedBackend, splitSummary } = await import('./wasm/threads/backend.js');
    const pool = await ThreadPool.start(n - 1, backend.module);
    return {
      backend: new ThreadedBackend(backend, pool),
      what: `${what} on ${n} threads (the calling thread and ${n - 1} worker${n > 2 ? 's' : ''}) for ${splitSummary()}, on the calling thread below${n < threads ? `; ${capped}` : ''}`,
    };
  } catch (e) {
    // Threads are a speed-up, not a different result: where none can start, one thread runs, and says so.
    return { backend, what: `${what} on the calling thread only: ${threads} threads were asked for, but ${messageOf(e).replace(/^webcrf: /, '')}` };
  }
}

/** Where a GPUDevice comes from: imported only when a GPU is asked for or handed over, never by a CPU-only page. */
const gpuDevices = () => import('./webgpu/device.js');

let warnedJs = false;

/**
 * WASM wherever it loads; the float64 reference otherwise, with a warning (once) saying why and what to
 * do. Also the CPU side of the GPU backend: k-best, calls too small for the GPU, device loss.
 */
async function cpu(opts: BackendOptions, threads: number): Promise<{ backend: Backend; what: string }> {
  try {
    return await wasm(opts, threads);
  } catch (err) {
    if (opts.wasmModule !== undefined) throw err;
    const what = `the float64 js backend (10 to 100 times slower), because ${messageOf(err).replace(/^webcrf: /, '')}`;
    if (!warnedJs) {
      warnedJs = true;
      console.warn(`webcrf: backend 'auto' runs on ${what}`);
    }
    return { backend: await JsBackend.create(), what };
  }
}

/**
 * @param threads how many threads the WebAssembly kernels may use (1: the calling thread only); the
 *   float64 js backend always runs on the calling thread.
 */
export async function createBackend(name: BackendName | 'auto', opts: BackendOptions, threads = 1): Promise<Chosen> {
  switch (name) {
    case 'js':
      return { backend: await JsBackend.create(), reason: "backend 'js' was asked for: the float64 reference" };
    case 'wasm': {
      const w = await wasm(opts, threads);
      return { backend: w.backend, reason: `backend 'wasm' was asked for: ${w.what}` };
    }
    case 'webgpu': {
      const device = (opts.device as GPUDevice | undefined) ?? (await (await gpuDevices()).navigatorDevice());
      if (!device) {
        throw new Error(
          "webcrf: backend 'webgpu' needs a GPUDevice: pass { device }, or run where navigator.gpu gives an adapter (browsers with WebGPU, Deno, Node with the webgpu package installed as navigator.gpu)",
        );
      }
      const c = await cpu(opts, threads);
      const { WebGpuBackend } = await import('./webgpu/backend.js');
      return { backend: new WebGpuBackend({ device, cpu: c.backend }), reason: `backend 'webgpu' was asked for (k-best and device loss run on ${c.what})` };
    }
    case 'auto': {
      const c = await cpu(opts, threads);
      const minWork = opts.webgpuMinWork ?? AUTO_MIN_WORK;
      if (opts.device !== undefined) {
        const device = opts.device as GPUDevice;
        // A software adapter (SwiftShader) is slower than the CPU kernels at every size.
        if ((await gpuDevices()).isSoftwareAdapter(device))
          return { backend: c.backend, reason: `auto: the GPUDevice given is a software adapter, slower than the CPU: ${c.what}` };
        const { WebGpuBackend } = await import('./webgpu/backend.js');
        return {
          backend: new WebGpuBackend({ device, cpu: c.backend, minWork }),
          reason: `auto: the GPUDevice given for calls of B·T·K² ≥ ${minWork}, ${c.what} below`,
        };
      }
      if ((globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu) {
        return {
          backend: new LazyGpuBackend(c.backend, minWork),
          reason: `auto: ${c.what}; a GPU from navigator.gpu is requested the first time a call reaches B·T·K² ≥ ${minWork}`,
        };
      }
      return { backend: c.backend, reason: `auto: ${c.what} (no WebGPU here)` };
    }
  }
}
