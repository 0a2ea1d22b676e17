import type { Precision } from '../call/inputs.js';
import type { Packed } from '../call/pack.js';
import type { Potentials } from '../model/parameters.js';
import type { OpArgs, OpName, ResultOf } from '../ops/index.js';
import type { BackendName, MemoryUsage } from '../api/types.js';

/** `names`, which must list every {@link BackendName} (a name added to the type and not here does not compile). */
function everyName<T extends readonly BackendName[]>(names: T & ([BackendName] extends [T[number]] ? unknown : never)): T {
  return names;
}

/** The public type's names as a list, for the `backend` option's check (everyName: the two cannot drift apart). */
export const BACKEND_NAMES = everyName(['webgpu', 'wasm', 'js'] as const);

/** What a backend reports of it (`cacheBytes`: arrays it keeps itself, if any); the CRF adds its own arrays. */
export type BackendMemory = Pick<MemoryUsage, 'wasmBytes' | 'gpuBytes'> & Partial<Pick<MemoryUsage, 'cacheBytes'>>;

/** What runs the ops (ops/index.ts) on packed calls (right-padded by lengths). */
export interface Backend {
  readonly name: BackendName;
  /** What the kernels compute in; a call's inputs are rounded to it before anyone reads them. */
  readonly precision: Precision;
  /** Runs `op` over the call `p` with the potentials `w`. */
  run<N extends OpName>(op: N, p: Packed, w: Potentials, ...args: OpArgs<N>): Promise<ResultOf<N>>;
  /**
   * Runs `op` now, on the calling thread's CPU kernels (the wasm kernels, or the float64 reference on
   * js): what a synchronous caller such as an autograd tape needs. A backend that runs elsewhere (the
   * GPU, worker threads) runs it on the CPU backend it falls back to.
   */
  runSync<N extends OpName>(op: N, p: Packed, w: Potentials, ...args: OpArgs<N>): ResultOf<N>;
  /**
   * Runs `op` now, as {@link Backend.run} would, where `run` would compute it on the calling thread with
   * nothing to wait for; otherwise undefined, and the caller uses `run`. A short call then settles with
   * no turn of the microtask queue between its steps (absent: every call goes through `run`).
   */
  runReady?<N extends OpName>(op: N, p: Packed, w: Potentials, ...args: OpArgs<N>): ResultOf<N> | undefined;
  /**
   * Where the backend computes on a GPU that takes emissions already on it: the largest emissions
   * buffer a call may bind; null (or absent) where GPU inputs cannot be taken.
   */
  gpuBindingLimit?(): number | null;
  /**
   * The index of the first of `data`'s values beyond ±MAX_MAGNITUDE (NaN and ±Infinity included) for a
   * CRF of K tags, or −1, checked on the backend's kernels; undefined where it cannot now (absent: the
   * check runs in JavaScript, call/inputs.ts).
   */
  firstOutOfRange?(data: Float32Array, K: number): number | undefined;
  /**
   * Whether a call of B sequences takes its emissions unread, in the caller's array (Packed.unchecked):
   * the backend copies them to where its kernels read them and checks them there (a call cut across
   * threads, each range where it runs), rather than the CRF copying and checking them first. Absent:
   * never.
   */
  borrows?(B: number): boolean;
  /** A packed call whose emissions are on the GPU, with them read back once (for what computes on the CPU). */
  hostPacked?(p: Packed): Promise<Packed>;
  /** Bytes the backend holds outside the JS heap (WASM linear memory, GPU buffers). */
  memoryUsage(): BackendMemory;
  dispose(): void;
}
