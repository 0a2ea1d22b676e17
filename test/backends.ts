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
