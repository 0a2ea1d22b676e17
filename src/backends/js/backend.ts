// The float64 reference backend: every op's own reference (ops/*.ts), on the calling thread.
import type { Packed } from '../../call/pack.js';
import type { Potentials } from '../../model/parameters.js';
import { type OpArgs, type OpName, type ResultOf, specOf } from '../../ops/index.js';
import type { Backend, BackendMemory } from '../backend.js';

export class JsBackend implements Backend {
  readonly name = 'js' as const;
  readonly precision = 'float64' as const;

  run<N extends OpName>(op: N, p: Packed, w: Potentials, ...args: OpArgs<N>): Promise<ResultOf<N>> {
    try {
      return Promise.resolve(this.runSync(op, p, w, ...args));
    } catch (e) {
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- whatever the op threw, as an async function would reject
      return Promise.reject(e);
    }
  }

  /** The op, now: the reference never waits. */
  runReady<N extends OpName>(op: N, p: Packed, w: Potentials, ...args: OpArgs<N>): ResultOf<N> {
    return this.runSync(op, p, w, ...args);
  }

  /** The op, now. */
  runSync<N extends OpName>(op: N, p: Packed, w: Potentials, ...args: OpArgs<N>): ResultOf<N> {
    return specOf(op).reference(p, w, args[0] as never);
  }

  /** Nothing: the reference computes on the JS heap. */
  memoryUsage(): BackendMemory {
    return { wasmBytes: 0, gpuBytes: 0 };
  }

  dispose(): void {}
}
