// What `auto` runs wherever navigator.gpu exists: the CPU backend until a call is large enough to pay
// for a GPU round trip; only then is an adapter requested (requesting one costs time, and in some
// runtimes prints to the console), once. A software adapter is never used.
import type { Packed } from '../call/pack.js';
import type { Potentials } from '../model/parameters.js';
import { type OpArgs, type OpName, type ResultOf, specOf } from '../ops/index.js';
import type { Backend, BackendMemory } from './backend.js';
import type { BackendName } from '../api/types.js';
import type { WebGpuBackend } from './webgpu/backend.js';

export class LazyGpuBackend implements Backend {
  readonly precision = 'float32' as const;
  /** The GPU backend once probed: null where there is none worth using. */
  #gpu: WebGpuBackend | null | undefined;
  #probe: Promise<WebGpuBackend | null> | null = null;

  constructor(
    private readonly cpu: Backend,
    private readonly minWork: number,
  ) {}

  get name(): BackendName {
    return this.#gpu ? this.#gpu.name : this.cpu.name;
  }

  /** A call below the GPU's size, or of an op with no GPU program, goes to the CPU backend with no await between. */
  run<N extends OpName>(op: N, p: Packed, w: Potentials, ...args: OpArgs<N>): Promise<ResultOf<N>> {
    if (this.#gpu) return this.#gpu.run(op, p, w, ...args);
    if (this.#gpu === null || specOf(op).gpu === 'cpu' || p.B * p.T * p.K * p.K < this.minWork) return this.cpu.run(op, p, w, ...args);
    return this.#probed().then((gpu) => (gpu ?? this.cpu).run(op, p, w, ...args));
  }

  /** {@link LazyGpuBackend.run}, now where it would run at once (see {@link Backend.runReady}). */
  runReady<N extends OpName>(op: N, p: Packed, w: Potentials, ...args: OpArgs<N>): ResultOf<N> | undefined {
    if (this.#gpu) return this.#gpu.runReady(op, p, w, ...args);
    if (this.#gpu === null || specOf(op).gpu === 'cpu' || p.B * p.T * p.K * p.K < this.minWork) return this.cpu.runReady?.(op, p, w, ...args);
    return undefined;
  }

  runSync<N extends OpName>(op: N, p: Packed, w: Potentials, ...args: OpArgs<N>): ResultOf<N> {
    return this.cpu.runSync(op, p, w, ...args);
  }

  #probed(): Promise<WebGpuBackend | null> {
    // The WebGPU backend and its shaders are loaded only once a device worth using is there.
    this.#probe ??= import('./webgpu/device.js').then(async ({ isSoftwareAdapter, navigatorDevice }) => {
      const device = await navigatorDevice();
      if (!device || isSoftwareAdapter(device)) return (this.#gpu = null);
      const { WebGpuBackend } = await import('./webgpu/backend.js');
      return (this.#gpu = new WebGpuBackend({ device, cpu: this.cpu, minWork: this.minWork }));
    });
    return this.#probe;
  }

  memoryUsage(): BackendMemory {
    return (this.#gpu ?? this.cpu).memoryUsage();
  }

  dispose(): void {
    if (this.#gpu) this.#gpu.dispose();
    else this.cpu.dispose();
  }
}
