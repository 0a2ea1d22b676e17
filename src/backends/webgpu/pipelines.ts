// Shader modules and compute pipelines, compiled once per device and shared by every backend on it.
import { SHADERS, type ShaderName } from '../../generated/shaders.js';

/** A validation error from the GPU: a bug in this backend, reported loudly instead of falling back. */
export class WebGpuValidationError extends Error {}

/** Pipeline-overridable constants (the workgroup layout) as a cache key. */
function keyOf(shader: ShaderName, constants: Record<string, number>): string {
  return `${shader}|${Object.entries(constants)
    .map(([k, v]) => `${k}=${v}`)
    .join(',')}`;
}

const caches = new WeakMap<GPUDevice, { modules: Map<ShaderName, Promise<GPUShaderModule>>; pipelines: Map<string, Promise<GPUComputePipeline>> }>();

function moduleFor(device: GPUDevice, modules: Map<ShaderName, Promise<GPUShaderModule>>, shader: ShaderName): Promise<GPUShaderModule> {
  let mod = modules.get(shader);
  if (!mod) {
    mod = (async () => {
      const m = device.createShaderModule({ label: `webcrf ${shader}`, code: SHADERS[shader].code });
      // Waiting for the compilation before building pipelines from it also sidesteps a race in Dawn's
      // Node binding (a pipeline made while the module is still compiling can crash the process).
      const info = await m.getCompilationInfo();
      const errors = info.messages.filter((x) => x.type === 'error');
      if (errors.length) throw new WebGpuValidationError(`webcrf ${shader}: ${errors.map((x) => `${x.lineNum}:${x.linePos} ${x.message}`).join('; ')}`);
      return m;
    })();
    modules.set(shader, mod);
    mod.catch(() => modules.delete(shader));
  }
  return mod;
}

/** The pipeline of `shader` with `constants` on `device`, built on first use (a failed build is retried). */
export function pipelineFor(device: GPUDevice, shader: ShaderName, constants: Record<string, number>): Promise<GPUComputePipeline> {
  let cache = caches.get(device);
  if (!cache) caches.set(device, (cache = { modules: new Map(), pipelines: new Map() }));
  const { pipelines } = cache;
  const key = keyOf(shader, constants);
  let pipe = pipelines.get(key);
  if (!pipe) {
    // createComputePipelineAsync never settles in Dawn's Node binding (0.6); the synchronous call after
    // the module compiled costs the same once and the result is cached.
    pipe = moduleFor(device, cache.modules, shader).then((module) =>
      device.createComputePipeline({
        label: `webcrf ${key}`,
        layout: 'auto',
        compute: { module, entryPoint: 'main', constants },
      }),
    );
    pipelines.set(key, pipe);
    pipe.catch(() => pipelines.delete(key));
  }
  return pipe;
}
