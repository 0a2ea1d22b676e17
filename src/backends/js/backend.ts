// The float64 reference backend: every op's own reference (js/ops/*.ts, named by its spec), on the
// calling thread. The references are loaded when one is created, never by a page on the kernels.
import type { Packed } from '../../call/pack.js';
import type { Potentials } from '../../model/parameters.js';
import { OPS, type OpArgs, type OpName, type ResultOf, specOf } from '../../ops/index.js';
import type { Reference } from '../../ops/op.js';
import type { Backend, BackendMemory } from '../backend.js';

/** The references by op, each typed by its own entry in the registry where it is called. */
type References = Record<OpName, Reference<never, unknown>>;

export class JsBackend implements Backend {
  readonly name = 'js' as const;
  readonly precision = 'float64' as const;
  readonly #references: References;

  private constructor(references: References) {
    this.#references = references;
  }

  static async create(): Promise<JsBackend> {
    const names = Object.keys(OPS) as OpName[];
    const loaded: Reference<never, unknown>[] = await Promise.all(names.map((n) => specOf(n).reference()));
    const references = {} as References;
    names.forEach((n, i) => (references[n] = loaded[i]));
    return new JsBackend(references);
  }

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
    return this.#references[op](p, w, args[0] as never) as ResultOf<N>;
  }

  /** Nothing: the reference computes on the JS heap. */
  memoryUsage(): BackendMemory {
    return { wasmBytes: 0, gpuBytes: 0 };
  }

  dispose(): void {}
}
