// One submit: programs encoded into one compute pass, their results copied into one staging buffer and
// read back with a single mapAsync.
import { SHADERS, type ShaderBindings, type ShaderName } from '../../generated/shaders.js';
import { type BufferPool, MAP_READ, USAGE } from './buffers.js';
import { WebGpuValidationError, pipelineFor } from './pipelines.js';

/** The device ran out of memory for a call: it runs on the CPU instead. */
export class WebGpuOutOfMemory extends Error {}

/** What a program binds: a pool buffer whole, or a range of a caller's buffer (one that may be padded). */
export type Bound = GPUBuffer | GPUBufferBinding;

function resourceOf(b: Bound): GPUBufferBinding {
  return 'buffer' in b ? b : { buffer: b };
}

/** One compute kernel launch: which shader, its layout constants, the grid, and its buffers by name. */
export interface Program {
  name: string;
  shader: ShaderName;
  /** Pipeline-overridable constants (the workgroup layout). */
  constants: Record<string, number>;
  dispatch: [number, number];
  /** Binding n of the shader gets `buffers[n]` (the shader's binding names, in binding order). */
  buffers: Bound[];
}

/**
 * A program binding its buffers by the names the shader declares (`@binding(n) var ... name`): the
 * build reads them from the WGSL, so no list here has to match a shader's comments.
 */
export function program<S extends ShaderName>(
  name: string,
  shader: S,
  constants: Record<string, number>,
  dispatch: [number, number],
  bindings: Record<ShaderBindings[S], Bound>,
): Program {
  const names: readonly string[] = SHADERS[shader].bindings;
  const given = bindings as Record<string, Bound | undefined>;
  const extra = Object.keys(given).filter((k) => !names.includes(k));
  if (extra.length) throw new Error(`webcrf ${name}: ${shader} has no binding ${extra.join(', ')}`);
  const buffers = names.map((n) => {
    const b = given[n];
    if (!b) throw new Error(`webcrf ${name}: no buffer for ${shader}'s binding ${n}`);
    return b;
  });
  return { name, shader, constants, dispatch, buffers };
}

/** Copies of GPU buffers into one mappable buffer; `add` returns where a copy lands in the data read. */
export class Readback {
  regions: { src: GPUBuffer; at: number; bytes: number }[] = [];
  size = 0;
  add(src: GPUBuffer, bytes: number): number {
    const at = this.size;
    this.regions.push({ src, at, bytes });
    this.size += Math.ceil(bytes / 4) * 4;
    return at;
  }
}

interface Executed {
  data: ArrayBuffer;
  /** GPU time of the pass in ms, with a timestamp query set (else null). */
  kernelMs: number | null;
}

/**
 * Encodes the programs in one compute pass, copies the readback regions into one staging buffer,
 * submits, hands `owned` back to the pool, and maps the staging buffer once. Everything up to the
 * submit is synchronous, so concurrent calls cannot interleave their error scopes.
 */
export async function execute(
  device: GPUDevice,
  pool: BufferPool,
  querySet: GPUQuerySet | null,
  label: string,
  programs: Program[],
  rb: Readback,
  owned: GPUBuffer[],
): Promise<Executed> {
  const pipelines = await Promise.all(programs.map((p) => pipelineFor(device, p.shader, p.constants)));
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('validation');
  const stamp = querySet ? 16 : 0;
  const staging = pool.acquire(stamp + rb.size, USAGE.MAP_READ | USAGE.COPY_DST, `webcrf ${label} readback`);
  let resolve: GPUBuffer | null = null;
  const enc = device.createCommandEncoder({ label: `webcrf ${label}` });
  const pass = enc.beginComputePass({
    label: `webcrf ${label}`,
    ...(querySet ? { timestampWrites: { querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } } : {}),
  });
  programs.forEach((p, i) => {
    const group = device.createBindGroup({
      label: `webcrf ${p.name}`,
      layout: pipelines[i].getBindGroupLayout(0),
      entries: p.buffers.map((b, binding) => ({ binding, resource: resourceOf(b) })),
    });
    pass.setPipeline(pipelines[i]);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(p.dispatch[0], p.dispatch[1]);
  });
  pass.end();
  if (querySet) {
    resolve = pool.acquire(16, USAGE.QUERY_RESOLVE | USAGE.COPY_SRC, 'webcrf timestamps');
    enc.resolveQuerySet(querySet, 0, 2, resolve, 0);
    enc.copyBufferToBuffer(resolve, 0, staging, 0, 16);
  }
  for (const r of rb.regions) if (r.bytes > 0) enc.copyBufferToBuffer(r.src, 0, staging, stamp + r.at, Math.ceil(r.bytes / 4) * 4);
  device.queue.submit([enc.finish()]);
  const validation = device.popErrorScope();
  const oom = device.popErrorScope();
  for (const b of owned) pool.release(b);
  if (resolve) pool.release(resolve);
  try {
    const [v, o] = await Promise.all([validation, oom, staging.mapAsync(MAP_READ)]);
    if (v) throw new WebGpuValidationError(`webcrf ${label}: ${v.message}`);
    if (o) throw new WebGpuOutOfMemory(`webcrf ${label}: ${o.message}`);
    const out = staging.getMappedRange().slice(0);
    staging.unmap();
    pool.release(staging);
    if (!stamp) return { data: out, kernelMs: null };
    const t = new BigUint64Array(out, 0, 2);
    return { data: out.slice(stamp), kernelMs: Number(t[1] - t[0]) / 1e6 };
  } catch (e) {
    // A staging buffer that may still be pending or mapped is not handed back.
    staging.destroy();
    throw e;
  }
}
