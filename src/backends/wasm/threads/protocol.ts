import type { Potentials } from '../../../model/parameters.js';
import type { OpName } from '../../../ops/index.js';

/**
 * The messages between a CRF's thread pool (pool.ts) and its worker threads (worker.ts). A call's
 * slice travels as its own buffers (transferred, not copied twice); the kernels travel once, as the
 * compiled WebAssembly.Module, which every engine here can post to a worker.
 */

/** A slice of a packed call: what the wasm backend reads of a Packed. */
export interface SliceMessage {
  B: number;
  T: number;
  K: number;
  emissions: Float32Array;
  lengths: Int32Array;
  /** Not checked yet, and where the slice starts in the caller's batch (Packed.unchecked, Packed.first). */
  unchecked?: boolean;
  first?: number;
}

export type ToWorker = { type: 'init'; module: WebAssembly.Module } | { type: 'run'; id: number; op: OpName; p: SliceMessage; w: Potentials; args: unknown[] };

/** An error as it crosses threads: class name, message and (for CRFInputError) the argument. */
export interface ErrorMessage {
  name: string;
  message: string;
  argument?: string;
}

/**
 * What a thread says about itself with every answer: its WebAssembly memory now (`bytes`), its log-space
 * fallbacks so far, and whether a call made it hand a kernels instance back (`spent`). A worker that is
 * idle may never collect garbage, so what it dropped would stay in memory: the pool ends a spent thread
 * and starts a fresh one in its place.
 */
export interface ThreadState {
  bytes: number;
  fallbacks: number;
  spent: boolean;
}

export type FromWorker =
  | ({ type: 'ready' } & ThreadState)
  | { type: 'failed'; error: ErrorMessage }
  | ({ type: 'done'; id: number; result: unknown; inputs: ArrayBuffer[] } & ThreadState)
  | ({ type: 'error'; id: number; error: ErrorMessage; inputs: ArrayBuffer[] } & ThreadState);
