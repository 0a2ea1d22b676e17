import type { BackendName } from '../src/index.js';

/** Every backend this runtime has; tests run their oracles on each. */
export async function availableBackends(): Promise<BackendName[]> {
  const out: BackendName[] = ['js'];
  return out;
}
