import type { Precision } from '../call/inputs.js';
import type { Packed } from '../call/pack.js';
import type { Potentials } from '../model/parameters.js';
import type { OpArgs, OpName, ResultOf } from '../ops/index.js';

/** Every backend's name, once: the type below and the `backend` option's check are derived from it. */
export const BACKEND_NAMES = ['webgpu', 'wasm', 'js'] as const;

/**
 * A backend that runs the dynamic programs: `'webgpu'` (WGSL compute shaders), `'wasm'` (WebAssembly
 * SIMD) or `'js'` (plain TypeScript in float64, the reference the others are tested against).
 * @useDeclaredType
 */
export type BackendName = (typeof BACKEND_NAMES)[number];

/** Bytes a CRF's backend holds outside the JavaScript heap. */
export interface MemoryUsage {
  /** Size of the WebAssembly linear memory (0 where none is used). */
  wasmBytes: number;
  /** Total size of the GPU buffers held, pooled ones included (0 where none are). */
  gpuBytes: number;
}

/** What runs the ops (ops/index.ts) on packed calls (right-padded by lengths). */
export interface Backend {
  readonly name: BackendName;
  /** What the kernels compute in; a call's inputs are rounded to it before anyone reads them. */
  readonly precision: Precision;
  /** Runs `op` over the call `p` with the potentials `w`. */
  run<N extends OpName>(op: N, p: Packed, w: Potentials, ...args: OpArgs<N>): Promise<ResultOf<N>>;
  /** Bytes the backend holds outside the JS heap (WASM linear memory, GPU buffers). */
  memoryUsage?(): MemoryUsage;
  dispose(): void;
}
