import type { BackendName } from '../src/index.js';
import './wasm-setup.js';

/** Every backend this runtime has; tests run their oracles on each. */
export async function availableBackends(): Promise<BackendName[]> {
  const out: BackendName[] = ['js'];
  out.push('wasm');
  return out;
}
