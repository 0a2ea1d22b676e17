import * as lib from '../src/index.js';
import type { BackendName, CRFOptions } from '../src/index.js';
import { nodeBackends } from '../scripts/node-backends.js';

/**
 * Every backend this Node process has, with what `CRF.create` needs besides the name (the Dawn device
 * for webgpu: a GPU, or SwiftShader through Debian's Vulkan loader where there is none).
 */
export async function availableBackends(): Promise<{ name: BackendName; options: CRFOptions }[]> {
  return nodeBackends(lib);
}

/**
 * Every backend an op's numbers can come from: js, the two wasm builds, wasm with threads (every call
 * split across them: `threads` lowers the size below which a call stays on the calling thread for as
 * long as a test runs, see `splitEveryCall`) and webgpu where it loads.
 */
export async function backendVariants(): Promise<{ label: string; name: BackendName; options: CRFOptions }[]> {
  const { kernels } = await import('./wasm-helpers.js');
  const out: { label: string; name: BackendName; options: CRFOptions }[] = [];
  for (const b of await availableBackends()) {
    out.push({ label: b.name === 'wasm' ? 'wasm simd' : b.name, name: b.name, options: b.options });
    if (b.name !== 'wasm') continue;
    out.push({ label: 'wasm scalar', name: 'wasm', options: { wasmModule: await kernels('scalar') } });
    out.push({ label: 'wasm threads', name: 'wasm', options: { threads: 2 } });
  }
  return out;
}

/** Runs every call of `threads: n` CRFs on the threads, however small, until the returned function is called. */
export async function splitEveryCall(): Promise<() => void> {
  const { threadsTuning } = await import('../src/backends/wasm/threads/backend.js');
  const saved = threadsTuning.force;
  threadsTuning.force = 'split';
  return () => {
    threadsTuning.force = saved;
  };
}
