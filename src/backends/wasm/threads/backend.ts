import type { Packed } from '../../../call/pack.js';
import type { Potentials } from '../../../model/parameters.js';
import { type OpArgs, type OpName, type PartOf, type ResultOf, specOf } from '../../../ops/index.js';
import type { Backend, MemoryUsage } from '../../backend.js';
import type { WasmBackend } from '../backend.js';
import type { ThreadPool } from './pool.js';
import { splitBatch } from './split.js';

/**
 * Calls whose work, B·T·max(K, 16)² times the op's cost (ops/op.ts ThreadSplit), is below `minWork`
 * run on the calling thread: handing a slice to a worker and back has a fixed cost the kernel time
 * must outweigh (docs/performance.md#threads has the measurements). Tests lower it to run small
 * batches on the threads.
 */
export const threadsTuning = { minWork: 2 ** 22 };

/** A call's work in the units of {@link threadsTuning}. */
export const threadsWork = (B: number, T: number, K: number) => B * T * Math.max(K, 16) ** 2;

/**
 * The wasm backend over several threads: a call's batch is cut into contiguous ranges (at the op's
 * block boundaries), the calling thread runs the first on its own kernels while the pool's threads run
 * the others on theirs, and the op joins the ranges' results in batch order. Results per sequence do
 * not depend on the cut, and the op's join adds batch sums in the same fixed blocks as one thread, so
 * every result is bit-identical to one thread's.
 */
export class ThreadedBackend implements Backend {
  readonly name = 'wasm' as const;
  readonly precision = 'float32' as const;

  constructor(
    private readonly local: WasmBackend,
    private readonly pool: ThreadPool,
  ) {}

  /** Sequences so far whose scaled pass fell back to log space, on every thread. */
  get logSpaceFallbacks(): number {
    return this.local.logSpaceFallbacks + this.pool.logSpaceFallbacks;
  }

  /** Whether `op` over `p` is worth cutting across threads (see {@link threadsTuning}). */
  #splits(p: Packed, op: OpName): boolean {
    // The size first: live() lists the threads, and most calls of an interactive page are small.
    return threadsWork(p.B, p.T, p.K) * specOf(op).threads.cost >= threadsTuning.minWork && this.pool.live().length > 0;
  }

  /** A call that stays on the calling thread reaches the kernels with no await between. */
  run<N extends OpName>(op: N, p: Packed, w: Potentials, ...args: OpArgs<N>): Promise<ResultOf<N>> {
    return this.#splits(p, op) ? this.#spread(op, p, w, args) : this.local.run(op, p, w, ...args);
  }

  /** `op` over `p` cut into ranges, the first here, the rest on the pool's live threads, joined. */
  async #spread<N extends OpName>(op: N, p: Packed, w: Potentials, args: OpArgs<N>): Promise<ResultOf<N>> {
    const { threads } = specOf(op);
    const a = args[0] as never;
    const argsAt = (b0: number) => (threads.slice ? ([threads.slice(a, b0)] as OpArgs<N>) : args);
    const live = this.pool.live();
    const cuts = splitBatch(p.lengths, live.length + 1, threads.block?.(p.T, p.K) ?? 1);
    const seq = p.T * p.K;
    const away: Promise<PartOf<N>>[] = [];
    for (let r = 1; r < cuts.length - 1; r++) {
      const [b0, b1] = [cuts[r], cuts[r + 1]];
      if (b0 === b1) continue;
      const src = p.emissions.subarray(b0 * seq, b1 * seq);
      const slice = {
        B: b1 - b0,
        T: p.T,
        K: p.K,
        // Copies the thread can own (their buffers are transferred, not cloned again).
        emissions: src instanceof Float32Array ? src.slice() : Float32Array.from(src),
        lengths: p.lengths.slice(b0, b1),
      };
      away.push(this.pool.run(live[r - 1], op, slice, w, argsAt(b0)));
    }
    // Posted first, so the threads work while this one runs its own range.
    const mine = cuts[1] > 0 ? this.local.part(op, sliceOf(p, 0, cuts[1]), w, ...argsAt(0)) : null;
    const parts = await Promise.all([mine, ...away]);
    return threads.join(
      parts.filter((x): x is Awaited<PartOf<N>> => x !== null),
      p,
      a,
    );
  }

  /** This thread's WebAssembly memory and the workers' (each holds its own). */
  memoryUsage(): MemoryUsage {
    return { wasmBytes: this.local.memoryBytes + this.pool.wasmBytes, gpuBytes: 0 };
  }

  dispose(): void {
    this.pool.dispose();
    this.local.dispose();
  }
}

/** Sequences [b0, b1) of a packed call, as views (the wasm backend copies them into its memory). */
function sliceOf(p: Packed, b0: number, b1: number): Packed {
  const seq = p.T * p.K;
  return {
    B: b1 - b0,
    T: p.T,
    K: p.K,
    emissions: p.emissions.subarray(b0 * seq, b1 * seq),
    lengths: p.lengths.subarray(b0, b1),
    positions: p.positions.subarray(b0 * p.T, b1 * p.T),
  };
}
