// Where a GPUDevice comes from (navigator.gpu, once per page or process) and what makes one usable.

/**
 * What is wrong with a would-be GPUDevice for this backend (null: nothing): every member it uses must
 * be there, so that a fake or foreign object is refused when the CRF is created rather than failing with
 * a TypeError in the middle of a call.
 */
export function deviceProblem(d: unknown): string | null {
  try {
    if (d === null || typeof d !== 'object') return 'not an object';
    const dev = d as Record<string, unknown>;
    for (const f of [
      'createBuffer',
      'createShaderModule',
      'createComputePipeline',
      'createBindGroup',
      'createCommandEncoder',
      'pushErrorScope',
      'popErrorScope',
    ]) {
      if (typeof dev[f] !== 'function') return `no method ${f}`;
    }
    const q = dev.queue as Record<string, unknown> | null | undefined;
    if (!q || typeof q.writeBuffer !== 'function' || typeof q.submit !== 'function') return 'no queue with writeBuffer and submit';
    const lim = dev.limits as Record<string, unknown> | null | undefined;
    for (const l of ['maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupsPerDimension', 'maxComputeWorkgroupStorageSize']) {
      if (!lim || typeof lim[l] !== 'number' || !(lim[l] > 0)) return `no limits.${l}`;
    }
    const features = dev.features as { has?: unknown } | null | undefined;
    if (!features || typeof features.has !== 'function') return 'no features set';
    const lost = dev.lost as { then?: unknown } | null | undefined;
    if (!lost || typeof lost.then !== 'function') return 'no lost promise';
    return null;
  } catch {
    return 'members that cannot be read';
  }
}

/** A software adapter: the CPU kernels beat it, so `auto` never picks it. */
export function isSoftwareAdapter(device: GPUDevice): boolean {
  const info = (device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  return info?.architecture === 'swiftshader' || /swiftshader|llvmpipe|lavapipe|warp/i.test(`${info?.description ?? ''} ${info?.device ?? ''}`);
}

let defaultDevice: Promise<GPUDevice | null> | null = null;

/**
 * One device per page/process from `navigator.gpu`, shared by every instance (pipelines are cached per
 * device); requested again if it is lost. Null where there is no adapter.
 */
export function navigatorDevice(): Promise<GPUDevice | null> {
  const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (!gpu) return Promise.resolve(null);
  if (!defaultDevice) {
    defaultDevice = (async () => {
      const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
      if (!adapter) return null;
      const features: GPUFeatureName[] = adapter.features.has('timestamp-query') ? ['timestamp-query'] : [];
      const device = await adapter.requestDevice({
        label: 'webcrf',
        requiredFeatures: features,
        requiredLimits: {
          maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
          maxBufferSize: adapter.limits.maxBufferSize,
          // More workgroup memory lets the chain kernels hold more tags on the GPU (K up to ~3.5k at 32 KiB).
          maxComputeWorkgroupStorageSize: adapter.limits.maxComputeWorkgroupStorageSize,
        },
      });
      void device.lost.then(() => {
        defaultDevice = null;
      });
      return device;
    })().catch(() => null);
    const mine = defaultDevice;
    void mine.then((d) => {
      if (!d && defaultDevice === mine) defaultDevice = null;
    });
  }
  return defaultDevice;
}
