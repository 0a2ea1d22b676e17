import type { Backend, BackendMemory, EntropyResult, KBestResult, Posteriors, Potentials, ViterbiResult } from '../backend.js';
import type { Packed } from '../pack.js';
import { countBlock, foldCounts, splitBatch } from './batch-blocks.js';
import type { ThreadPool } from './pool.js';
import type { SliceMessage, ThreadOp } from './thread-protocol.js';
import type { WasmBackend } from './wasm.js';

/** From which K and which work B·T·max(K, 16)² an op's calls are cut across threads. */
export type SplitRule = Readonly<{ minK: number; minWork: number }>;

/**
 * When cutting a call across threads pays, per op: never below K = `minK` (the kernels cost too little
 * per token there for the round trip and the copies to be won back), and from `minK` on, for calls
 * whose work, B·T·max(K, 16)², is at least `minWork`. Only the kernels run on the workers: the
 * JavaScript around them (checks, packing, gradients, results) stays on the calling thread, so a split
 * saves part of the kernels' time and costs a copy of the slice, two messages and waking a thread.
 * `node bench/threads.js --table` measures these values on two free cores and prints them in this
 * form: per op, the least K and work from which two threads were faster than one, `Infinity` where no
 * split paid (docs/performance.md#threads says what the present ones rest on). Where a figure is
 * missing or noisy they err toward one thread: a split that does not pay makes the call slower, a
 * missed one only leaves a core idle.
 */
export const SPLIT_TABLE: Readonly<Record<ThreadOp, SplitRule>> = {
  logPartition: { minK: Infinity, minWork: Infinity },
  entropy: { minK: 9, minWork: 2 ** 22 },
  viterbi: { minK: 64, minWork: 2 ** 26 },
  kBest: { minK: 9, minWork: 2 ** 22 },
  posteriorParts: { minK: 9, minWork: 2 ** 26 },
};

/**
 * The split decision's inputs, replaceable for tests and for the bench that measures them: `table`
 * (default {@link SPLIT_TABLE}), or `force` to split every call (`'split'`) or none (`'local'`).
 */
export const threadsTuning: { table: Readonly<Record<ThreadOp, SplitRule>>; force: 'split' | 'local' | null } = {
  table: SPLIT_TABLE,
  force: null,
};

/** A call's work in the units of {@link SPLIT_TABLE}. */
export const threadsWork = (B: number, T: number, K: number) => B * T * Math.max(K, 16) ** 2;

/** Whether `op` over a (B, T, K) call is cut across threads, by {@link threadsTuning}. */
export function splitPays(op: ThreadOp, B: number, T: number, K: number): boolean {
  if (threadsTuning.force !== null) return threadsTuning.force === 'split';
  const at = threadsTuning.table[op];
  return K >= at.minK && threadsWork(B, T, K) >= at.minWork;
}

/** The table in a few words, for `crf.backendReason`. */
export function splitSummary(): string {
  const rows = Object.values(threadsTuning.table).filter((r) => r.minWork !== Infinity);
  if (rows.length === 0) return 'no call (no split has been measured to pay)';
  const minK = rows.reduce((m, r) => Math.min(m, r.minK), Infinity);
  const lo = rows.reduce((m, r) => Math.min(m, Math.log2(r.minWork)), Infinity);
  const hi = rows.reduce((m, r) => Math.max(m, Math.log2(r.minWork)), -Infinity);
  return `calls with K ≥ ${minK} and B·T·max(K, 16)² ≥ 2^${lo}${hi > lo ? ` to 2^${hi} by op` : ''}`;
}

/**
 * Ends the worker threads of a backend collected without `dispose()`. The pool and its threads'
 * listeners hold nothing that leads back to the backend, so a dropped CRF is collected, and its
 * threads end with it instead of living as long as the process.
 */
const collected = typeof FinalizationRegistry === 'function' ? new FinalizationRegistry<ThreadPool>((pool) => pool.dispose()) : null;

/**
 * The wasm backend over several threads: a call's batch is cut into contiguous ranges (batch-blocks.ts),
 * the calling thread runs the first on its own kernels while the pool's threads run the others on
 * theirs, and the outputs are put back together in batch order. Per-sequence results do not depend on
 * the cut, and posteriors' batch sum is added in the same fixed blocks as on one thread, so every
 * result is bit-identical to one thread's.
 */
export class ThreadedBackend implements Backend {
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

  /**
   * Whether `op` over `p` is worth cutting across threads (see {@link SPLIT_TABLE}). Each op checks it
   * before anything else, so a call that stays on this thread reaches the kernels with no await between.
   */
  #splits(p: Packed, op: ThreadOp): boolean {
    // The size first: live() lists the threads, and most calls of an interactive page are small.
    return splitPays(op, p.B, p.T, p.K) && this.pool.live().length > 0;
  }

  /**
   * Runs `op` over `p` cut into ranges, the first here (`here`), the rest on the pool's live threads;
   * returns each range's outputs in batch order. Only for calls that `#splits` passed.
   */
  async #spread(p: Packed, w: Potentials, op: ThreadOp, here: (slice: Packed) => Promise<object>, k = 0): Promise<Record<string, unknown>[]> {
    const live = this.pool.live();
    const block = op === 'posteriorParts' ? countBlock(p.T, p.K) : 1;
    const cuts = splitBatch(p.lengths, live.length + 1, block);
    const seq = p.T * p.K;
    const away: Promise<Record<string, unknown>>[] = [];
    for (let r = 1; r < cuts.length - 1; r++) {
      const [b0, b1] = [cuts[r], cuts[r + 1]];
      if (b0 === b1) continue;
      const src = p.emissions.subarray(b0 * seq, b1 * seq);
      const slice: SliceMessage = {
        B: b1 - b0,
        T: p.T,
        K: p.K,
        // Copies the thread can own (their buffers are transferred, not cloned again).
        emissions: src instanceof Float32Array ? src.slice() : Float32Array.from(src),
        lengths: p.lengths.slice(b0, b1),
      };
      away.push(this.pool.run(live[r - 1], op, slice, w, k));
    }
    // Posted first, so the threads work while this one runs its own range.
    const mine = cuts[1] > 0 ? here(sliceOf(p, 0, cuts[1])) : null;
    const all = await Promise.all([mine, ...away]);
    return all.filter((x): x is Record<string, unknown> => x !== null);
  }

  logPartition(p: Packed, w: Potentials): Promise<Float64Array> {
    return this.#splits(p, 'logPartition') ? this.#logPartitionSpread(p, w) : this.local.logPartition(p, w);
  }

  async #logPartitionSpread(p: Packed, w: Potentials): Promise<Float64Array> {
    const parts = await this.#spread(p, w, 'logPartition', async (s) => ({ logZ: await this.local.logPartition(s, w) }));
    return concat(parts, 'logZ') as Float64Array;
  }

  posteriors(p: Packed, w: Potentials): Promise<Posteriors> {
    return this.#splits(p, 'posteriorParts') ? this.#posteriorsSpread(p, w) : this.local.posteriors(p, w);
  }

  async #posteriorsSpread(p: Packed, w: Potentials): Promise<Posteriors> {
    const parts = await this.#spread(p, w, 'posteriorParts', (s) => this.local.posteriorParts(s, w));
    const transCounts = new Float64Array(p.K * p.K);
    for (const r of parts) foldCounts(transCounts, r.parts as Float64Array);
    return { logZ: concat(parts, 'logZ') as Float64Array, unary: concat(parts, 'unary') as Float32Array, transCounts };
  }

  entropy(p: Packed, w: Potentials): Promise<EntropyResult> {
    return this.#splits(p, 'entropy') ? this.#entropySpread(p, w) : this.local.entropy(p, w);
  }

  async #entropySpread(p: Packed, w: Potentials): Promise<EntropyResult> {
    const parts = await this.#spread(p, w, 'entropy', (s) => this.local.entropy(s, w));
    return { logZ: concat(parts, 'logZ') as Float64Array, entropy: concat(parts, 'entropy') as Float64Array };
  }

  viterbi(p: Packed, w: Potentials): Promise<ViterbiResult> {
    return this.#splits(p, 'viterbi') ? this.#viterbiSpread(p, w) : this.local.viterbi(p, w);
  }

  async #viterbiSpread(p: Packed, w: Potentials): Promise<ViterbiResult> {
    const parts = await this.#spread(p, w, 'viterbi', (s) => this.local.viterbi(s, w));
    return { paths: concat(parts, 'paths') as Int32Array | number[], scores: concat(parts, 'scores') as Float64Array };
  }

  kBest(p: Packed, w: Potentials, k: number): Promise<KBestResult> {
    return this.#splits(p, 'kBest') ? this.#kBestSpread(p, w, k) : this.local.kBest(p, w, k);
  }

  async #kBestSpread(p: Packed, w: Potentials, k: number): Promise<KBestResult> {
    const parts = await this.#spread(p, w, 'kBest', (s) => this.local.kBest(s, w, k), k);
    return { paths: concat(parts, 'paths') as Int32Array | number[], scores: concat(parts, 'scores') as Float64Array, k };
  }

  /** This thread's WebAssembly memory and the workers' (each holds its own). */
  memoryUsage(): BackendMemory {
    return { wasmBytes: this.local.memoryBytes + this.pool.wasmBytes, gpuBytes: 0 };
  }

  dispose(): void {
    collected?.unregister(this.pool);
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

type Typed = Float64Array | Float32Array | Int32Array;

/** The ranges' `key` outputs, end to end, as the first range's kind (Viterbi paths are plain arrays). */
function concat(parts: Record<string, unknown>[], key: string): Typed | number[] {
  const arrays = parts.map((r) => r[key] as Typed | number[]);
  const n = arrays.reduce((m, a) => m + a.length, 0);
  const first = arrays[0];
  const out = Array.isArray(first) ? new Array<number>(n) : new (first.constructor as new (n: number) => Typed)(n);
  let at = 0;
  for (const a of arrays) {
    if (!Array.isArray(out) && !Array.isArray(a)) out.set(a, at);
    else for (let i = 0; i < a.length; i++) out[at + i] = a[i];
    at += a.length;
  }
  return out;
}
