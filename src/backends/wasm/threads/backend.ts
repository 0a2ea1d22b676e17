import type { Packed } from '../../../call/pack.js';
import type { Potentials } from '../../../model/parameters.js';
import { OPS, type OpArgs, type OpName, type PartOf, type ResultOf, specOf } from '../../../ops/index.js';
import type { Backend, BackendMemory } from '../../backend.js';
import type { WasmBackend } from '../backend.js';
import type { ThreadPool } from './pool.js';
import type { SliceMessage } from './protocol.js';
import { splitBatch } from './split.js';
import { SplitChoice, choiceTuning, measures } from './choice.js';

// choose.ts imports the threads in one piece, only when they are asked for.
export { ThreadPool } from './pool.js';

/** From which K and which work B·T·max(K, 16)² an op's calls are cut across threads. */
type SplitRule = Readonly<{ minK: number; minWork: number }>;

/**
 * When cutting a call across threads pays, per op (each op's spec, ops/op.ts ThreadSplit `split`):
 * never below K = `minK` (the kernels cost too little per token there for the round trip and the copies
 * to be won back), and from `minK` on, for calls whose work, B·T·max(K, 16)², is at least `minWork`.
 * The workers run the kernels and copy and check their ranges' emissions (Backend.borrows); the rest
 * of the JavaScript around them (the other inputs, packing, gradients, results) stays on the calling
 * thread, so a split saves part of the kernels' time and costs a copy of the slice, two messages and
 * waking a thread. `node bench/threads.js --table` measures the rules on two free
 * cores and prints them per op (docs/performance.md#threads says what the present ones rest on).
 */
export const SPLIT_TABLE: Readonly<Record<OpName, SplitRule>> = Object.fromEntries(
  Object.entries(OPS).map(([name, spec]) => [name, spec.threads.split]),
) as Record<OpName, SplitRule>;

/**
 * The split decision's inputs, replaceable for tests and for the bench that measures them: `table`
 * (default {@link SPLIT_TABLE}), or `force` to split every call (`'split'`) or none (`'local'`).
 */
export const threadsTuning: { table: Readonly<Record<OpName, SplitRule>>; force: 'split' | 'local' | null } = {
  table: SPLIT_TABLE,
  force: null,
};

/** A call's work in the units of {@link SPLIT_TABLE}. */
export const threadsWork = (B: number, T: number, K: number) => B * T * Math.max(K, 16) ** 2;

/** Whether `op` over a (B, T, K) call is cut across threads, by {@link threadsTuning}. */
function splitPays(op: OpName, B: number, T: number, K: number): boolean {
  if (threadsTuning.force !== null) return threadsTuning.force === 'split';
  const at = threadsTuning.table[op];
  return K >= at.minK && threadsWork(B, T, K) >= at.minWork;
}

/** The table in a few words, for `crf.backendReason`. */
export function splitSummary(): string {
  const rows = Object.values(threadsTuning.table).filter((r) => r.minWork !== Infinity);
  const measured = choiceTuning.adaptive
    ? `, then the way this CRF's own calls of B·T·max(K, 16)² ≥ 2^${Math.log2(choiceTuning.minWork)} measure clearly faster`
    : '';
  if (rows.length === 0) return `no call at first (no split has been measured to pay)${measured}`;
  const minK = rows.reduce((m, r) => Math.min(m, r.minK), Infinity);
  const lo = rows.reduce((m, r) => Math.min(m, Math.log2(r.minWork)), Infinity);
  const hi = rows.reduce((m, r) => Math.max(m, Math.log2(r.minWork)), -Infinity);
  return `calls with K ≥ ${minK} and B·T·max(K, 16)² ≥ 2^${lo}${hi > lo ? ` to 2^${hi} by op` : ''} at first${measured}`;
}

/**
 * Ends the worker threads of a backend collected without `dispose()`. The pool and its threads'
 * listeners hold nothing that leads back to the backend, so a dropped CRF is collected, and its
 * threads end with it instead of living as long as the process.
 */
const collected = typeof FinalizationRegistry === 'function' ? new FinalizationRegistry<ThreadPool>((pool) => pool.dispose()) : null;

/**
 * The wasm backend over several threads: a call's batch is cut into contiguous ranges (at the op's
 * block boundaries), the calling thread runs the first on its own kernels while the pool's threads run
 * the others on theirs, and the op joins the ranges' results in batch order. Results per sequence do
 * not depend on the cut, and the op's join adds batch sums in the same fixed blocks as one thread, so
 * every result is bit-identical to one thread's.
 */
export class ThreadedBackend implements Backend {
  /** `threads` is an option of the wasm backend, not a backend of its own: `crf.backend` says 'wasm'. */
  readonly name = 'wasm' as const;
  readonly precision = 'float32' as const;

  constructor(
    private readonly local: WasmBackend,
    private readonly pool: ThreadPool,
  ) {
    collected?.register(this, pool, pool);
  }

  /** Sequences so far whose scaled pass fell back to log space, on every thread. */
  get logSpaceFallbacks(): number {
    return this.local.logSpaceFallbacks + this.pool.logSpaceFallbacks;
  }

  /** Each way's cost as this CRF's calls measure it. */
  readonly #choice = new SplitChoice();
  /** A split runReady chose, which run then carries out (settle asks runReady first). */
  readonly #chosen = new WeakMap<Packed, OpName>();

  /**
   * Whether `op` over `p` is cut across threads: the op's rule (SPLIT_TABLE) at first, then which way
   * this CRF's calls of its size measure cheaper (choice.ts), unless `threadsTuning.force` says.
   */
  #splits(p: Packed, op: OpName): boolean {
    if (this.#chosen.get(p) === op) {
      this.#chosen.delete(p);
      return true;
    }
    // The size first: live() lists the threads, and most calls of an interactive page are small. A
    // batch of one block (an empty one included) has no place to cut: it runs whole on this thread.
    const rule = splitPays(op, p.B, p.T, p.K);
    const measured = ThreadedBackend.#measured(p);
    if (!rule && !measured) return false;
    if (p.B <= (specOf(op).threads.block?.(p.T, p.K) ?? 1) || this.pool.live().length === 0) return false;
    return measured ? this.#choice.splits(op, threadsWork(p.B, p.T, p.K), rule) : rule;
  }

  /** Whether the way a call runs is the choice's (choice.ts), and its time recorded for it. */
  static #measured(p: Packed): boolean {
    return threadsTuning.force === null && measures(threadsWork(p.B, p.T, p.K));
  }

  /** `op` over `p` whole on the calling thread, now; its time recorded for the choice. */
  #runHere<N extends OpName>(op: N, p: Packed, run: () => ResultOf<N> | undefined): ResultOf<N> | undefined {
    if (!ThreadedBackend.#measured(p)) return run();
    const t0 = choiceTuning.now();
    const r = run();
    if (r !== undefined) this.#choice.record(op, threadsWork(p.B, p.T, p.K), false, choiceTuning.now() - t0);
    return r;
  }

  /** As the calling thread's (Backend.borrows): a split call's ranges are each copied and checked where they run. */
  borrows(B: number): boolean {
    return this.local.borrows(B);
  }

  /** A call that stays on the calling thread reaches the kernels with no await between. */
  run<N extends OpName>(op: N, p: Packed, w: Potentials, ...args: OpArgs<N>): Promise<ResultOf<N>> {
    if (!this.#splits(p, op)) return this.local.run(op, p, w, ...args);
    if (!ThreadedBackend.#measured(p)) return this.#spread(op, p, w, args);
    const t0 = choiceTuning.now();
    return this.#spread(op, p, w, args).then((r) => {
      this.#choice.record(op, threadsWork(p.B, p.T, p.K), true, choiceTuning.now() - t0);
      return r;
    });
  }

  /** A call that stays on the calling thread, now (see {@link Backend.runReady}). */
  runReady<N extends OpName>(op: N, p: Packed, w: Potentials, ...args: OpArgs<N>): ResultOf<N> | undefined {
    if (this.#splits(p, op)) {
      this.#chosen.set(p, op);
      return undefined;
    }
    return this.#runHere(op, p, () => this.local.runReady(op, p, w, ...args));
  }

  /** On the calling thread's kernels (see {@link Backend.firstOutOfRange}). */
  firstOutOfRange(data: Float32Array, K: number): number | undefined {
    return this.local.firstOutOfRange(data, K);
  }

  /** Unsplit, on the calling thread's own kernels. */
  runSync<N extends OpName>(op: N, p: Packed, w: Potentials, ...args: OpArgs<N>): ResultOf<N> {
    return this.#runHere(op, p, () => this.local.runSync(op, p, w, ...args))!;
  }

  /** `op` over `p` cut into ranges, the first here, the rest on the pool's live threads, joined. */
  async #spread<N extends OpName>(op: N, p: Packed, w: Potentials, args: OpArgs<N>): Promise<ResultOf<N>> {
    const { threads } = specOf(op);
    const a = args[0] as never;
    const argsAt = (b0: number, b1: number) => (threads.slice ? ([threads.slice(a, b0, b1)] as OpArgs<N>) : args);
    const live = this.pool.live();
    const cuts = splitBatch(p.lengths, live.length + 1, threads.block?.(p.T, p.K) ?? 1);
    const seq = p.T * p.K;
    const away: Promise<PartOf<N>>[] = [];
    try {
      for (let r = 1; r < cuts.length - 1; r++) {
        const [b0, b1] = [cuts[r], cuts[r + 1]];
        if (b0 === b1) continue;
        const src = p.emissions.subarray(b0 * seq, b1 * seq);
        const slice: SliceMessage = {
          B: b1 - b0,
          T: p.T,
          K: p.K,
          // A copy the thread can own: transferred, not cloned again, and handed back for the next call.
          emissions: this.#copy(live[r - 1], src),
          lengths: p.lengths.slice(b0, b1),
          ...uncheckedFrom(p, b0),
        };
        const [own, transfer] = owned(argsAt(b0, b1));
        away.push(this.pool.run(live[r - 1], op, slice, w, own, transfer));
      }
    } catch (e) {
      // Parts already posted settle unobserved rather than as unhandled rejections.
      for (const x of away) void x.catch(() => undefined);
      throw e;
    }
    // Posted first, so the threads work while this one runs its own range.
    const mine = cuts[1] > 0 ? this.local.part(op, sliceOf(p, 0, cuts[1]), w, ...argsAt(0, cuts[1])) : null;
    // Every part settles before the call does, and the first failure in batch order is the call's
    // (not whichever thread failed first).
    const settled = await Promise.allSettled([mine, ...away]);
    const failed = settled.find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;
    return threads.join(
      settled.flatMap((s) => (s.status === 'fulfilled' && s.value !== null ? [s.value] : [])),
      p,
      a,
    );
  }

  /** `src` in an array thread `i` can own: one it handed back earlier where large enough. */
  #copy(i: number, src: Float32Array | Float64Array): Float32Array {
    const c = this.pool.emissionsFor(i, src.length);
    c.set(src);
    return c;
  }

  /** This thread's WebAssembly memory and the workers' (each holds its own). */
  memoryUsage(): BackendMemory {
    return { wasmBytes: this.local.memoryBytes + this.pool.wasmBytes, gpuBytes: 0, cacheBytes: this.pool.spareBytes };
  }

  dispose(): void {
    collected?.unregister(this.pool);
    this.pool.dispose();
    this.local.dispose();
  }
}

/**
 * A worker's args with each typed array in them a copy of its own, and those copies' buffers to
 * transfer: a view would be cloned with the whole buffer it looks into.
 */
function owned<N extends OpName>(args: OpArgs<N>): [OpArgs<N>, ArrayBuffer[]] {
  const a = args[0] as Record<string, unknown> | undefined;
  if (!a) return [args, []];
  const copy: Record<string, unknown> = { ...a };
  const transfer: ArrayBuffer[] = [];
  for (const [k, v] of Object.entries(a)) {
    if (ArrayBuffer.isView(v)) {
      const c = (v as Int32Array).slice();
      copy[k] = c;
      transfer.push(c.buffer);
    }
  }
  return [[copy] as OpArgs<N>, transfer];
}

/** For a range starting at sequence b0 of an unchecked call (Packed.unchecked): that it is, and where it starts in the caller's batch. */
function uncheckedFrom(p: Packed, b0: number): { unchecked?: true; first?: number } {
  return p.unchecked ? { unchecked: true, first: (p.first ?? 0) + b0 } : {};
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
    // A prefix of emissions checked in place is still in place (WasmBackend firstOutOfRange).
    placed: b0 === 0 && p.placed === true,
    ...uncheckedFrom(p, b0),
  };
}
