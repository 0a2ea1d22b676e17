import type { Potentials } from '../../../model/parameters.js';
import type { OpArgs, OpName, PartOf } from '../../../ops/index.js';
import { KEEP_EMISSIONS_BYTES } from '../../../call/call-arrays.js';
import { CRFInputError, messageOf } from '../../../errors.js';
import type { ErrorMessage, FromWorker, SliceMessage, ThreadState } from './protocol.js';
import { type ThreadHandle, type ThreadRuntime, threadRuntime } from './spawn.js';

/**
 * A CRF's worker threads: started together, each handed the compiled kernels, then sent slices of
 * calls. Every request is answered, rejected when its thread dies (never left hanging), or rejected
 * on dispose. A dead thread is dropped; the others go on. A thread that handed a kernels instance back
 * (a call larger than the memory kept between calls) is ended once it has been idle for
 * {@link poolTuning}'s `spentIdleMs`, and a fresh one takes its place: ending it is the one sure way to
 * give that memory back, since an idle worker may never collect its garbage (a busy one does, so a run
 * of large calls keeps its threads).
 *
 * Nothing here refers to the backend or the CRF that owns the pool, so that they can be collected
 * while the threads run (threads.ts then ends them).
 */

/** How long the threads may take to start and instantiate the kernels before the CRF gives up on them. */
const START_TIMEOUT_MS = 20_000;

/**
 * `spentIdleMs`: how long a thread that handed memory back may sit idle before it is replaced. Starting
 * a thread costs tens of ms, so one busy with a run of large calls is left alone; tests shorten it.
 */
export const poolTuning = { spentIdleMs: 1000 };

interface Slot {
  h: ThreadHandle;
  pending: Map<number, { resolve: (r: unknown) => void; reject: (e: Error) => void }>;
  dead: string | null;
  /** Whether the thread has its kernels and takes calls (not while it, or its replacement, starts). */
  up: boolean;
  /** Its log-space fallbacks and WebAssembly memory, as last reported. */
  fallbacks: number;
  bytes: number;
  /** It handed a kernels instance back: it is replaced once idle (`idle` runs out). */
  spent: boolean;
  idle: ReturnType<typeof setTimeout> | null;
  /** The emissions buffer its last call handed back, for the next slice sent to it (see {@link ThreadPool.emissionsFor}). */
  spare: ArrayBuffer | null;
}

function rebuild(e: ErrorMessage): Error {
  if (e.name === 'CRFInputError' && e.argument !== undefined) {
    const err = new CRFInputError(e.argument, '', '');
    Object.defineProperty(err, 'message', { value: e.message, writable: true, configurable: true });
    return err;
  }
  return new Error(`webcrf: a worker thread failed: ${e.message}`);
}

export class ThreadPool {
  readonly #slots: Slot[] = [];
  readonly #rt: ThreadRuntime;
  readonly #module: WebAssembly.Module;
  #next = 0;
  #disposed = false;
  /** Log-space fallbacks counted by threads already replaced. */
  #fallbacksGone = 0;
  /** Threads replaced after handing memory back (tests check that it happens). */
  replaced = 0;

  private constructor(rt: ThreadRuntime, module: WebAssembly.Module) {
    this.#rt = rt;
    this.#module = module;
  }

  /**
   * Starts `n` threads on `module`. Throws, saying why, when any cannot start or instantiate the
   * kernels (the ones that did are ended).
   */
  static async start(n: number, module: WebAssembly.Module): Promise<ThreadPool> {
    const rt = threadRuntime();
    await rt.ready();
    const pool = new ThreadPool(rt, module);
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const started: Promise<void>[] = [];
      for (let i = 0; i < n; i++) {
        const slot: Slot = { h: rt.spawn(), pending: new Map(), dead: null, up: false, fallbacks: 0, bytes: 0, spent: false, idle: null, spare: null };
        pool.#slots.push(slot);
        // Held until it answers: an unref'd thread would let Node exit in the middle of `await create`.
        slot.h.hold(true);
        started.push(pool.#attach(slot));
      }
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`the worker threads did not start within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
      });
      await Promise.race([Promise.all(started), timeout]);
    } catch (e) {
      pool.dispose();
      throw e;
    } finally {
      clearTimeout(timer);
      for (const s of pool.#slots) s.h.hold(false);
    }
    return pool;
  }

  /**
   * Listens to the slot's thread and hands it the kernels; resolves when it has instantiated them.
   * Messages from a thread the slot no longer has (one replaced, or ended) are ignored.
   */
  #attach(slot: Slot): Promise<void> {
    const h = slot.h;
    return new Promise<void>((resolve, reject) => {
      h.listen(
        (m) => {
          if (slot.h !== h) return;
          if (slot.up) {
            this.#answer(slot, m);
            return;
          }
          if (m.type === 'ready') {
            slot.up = slot.dead === null;
            ThreadPool.#note(slot, m);
            resolve();
            return;
          }
          const why = m.type === 'failed' ? `a worker could not instantiate the kernels (${m.error.message})` : 'a worker answered out of turn';
          this.#die(slot, why);
          reject(new Error(why));
        },
        (why) => {
          if (slot.h !== h) return;
          if (!slot.up) reject(new Error(`a worker thread stopped while starting: ${why}`));
          this.#die(slot, why);
        },
      );
      h.post({ type: 'init', module: this.#module }, []);
    });
  }

  static #note(slot: Slot, s: ThreadState): void {
    slot.fallbacks = s.fallbacks;
    slot.bytes = s.bytes;
    slot.spent ||= s.spent;
  }

  #answer(slot: Slot, m: FromWorker): void {
    if (m.type !== 'done' && m.type !== 'error') return;
    const req = slot.pending.get(m.id);
    if (!req) return;
    slot.pending.delete(m.id);
    ThreadPool.#note(slot, m);
    // inputs[0]: the slice's emissions (worker.ts), kept for the next slice unless past the bound.
    const back = m.inputs[0];
    if (back && back.byteLength <= KEEP_EMISSIONS_BYTES && back.byteLength > (slot.spare?.byteLength ?? 0)) slot.spare = back;
    if (m.type === 'done') req.resolve(m.result);
    else req.reject(rebuild(m.error));
    if (slot.pending.size === 0) {
      slot.h.hold(false);
      if (slot.spent) {
        slot.idle = setTimeout(() => {
          slot.idle = null;
          if (slot.pending.size === 0) this.#replace(slot);
        }, poolTuning.spentIdleMs);
        // The timer must not keep a Node process alive, any more than an idle thread does.
        (slot.idle as { unref?: () => void }).unref?.();
      }
    }
  }

  static #busy(slot: Slot): void {
    if (slot.idle !== null) clearTimeout(slot.idle);
    slot.idle = null;
  }

  /** Ends a spent thread (its memory goes with it) and starts a fresh one in its slot. */
  #replace(slot: Slot): void {
    if (this.#disposed || slot.dead !== null || !slot.spent) return;
    this.replaced++;
    this.#fallbacksGone += slot.fallbacks;
    Object.assign(slot, { up: false, fallbacks: 0, bytes: 0, spent: false, spare: null });
    slot.h.terminate();
    try {
      slot.h = this.#rt.spawn();
    } catch (e) {
      slot.dead = `its replacement could not start (${messageOf(e)})`;
      return;
    }
    // A replacement that fails is dropped as a crash would be (#die); the others go on.
    this.#attach(slot).catch(() => undefined);
  }

  #die(slot: Slot, why: string): void {
    if (slot.dead !== null) return;
    ThreadPool.#busy(slot);
    slot.dead = why;
    slot.up = false;
    slot.spare = null;
    slot.h.terminate();
    const err = new Error(`webcrf: a worker thread stopped (${why}) before finishing its part of the call; the CRF goes on with its other threads`);
    for (const r of slot.pending.values()) r.reject(err);
    slot.pending.clear();
  }

  /** The threads that take calls now, by index. */
  live(): number[] {
    if (this.#disposed) return [];
    return this.#slots.flatMap((s, i) => (s.up ? [i] : []));
  }

  /** Sequences whose scaled pass fell back to log space, on every thread (as last reported). */
  get logSpaceFallbacks(): number {
    return this.#slots.reduce((n, s) => n + s.fallbacks, this.#fallbacksGone);
  }

  /** The threads' WebAssembly memory, as each last reported it. */
  get wasmBytes(): number {
    return this.#slots.reduce((n, s) => n + (s.dead === null ? s.bytes : 0), 0);
  }

  /** The buffers kept to be reused as slices' emissions (see {@link ThreadPool.emissionsFor}). */
  get spareBytes(): number {
    return this.#slots.reduce((n, s) => n + (s.spare?.byteLength ?? 0), 0);
  }

  /**
   * An array of `n` floats to send thread `i` a slice's emissions in: the buffer its last call handed
   * back when large enough, else a new one. Fresh memory costs a large call about as much as the copy
   * into it (the page's zeroing and faults), and a buffer transferred each call would be fresh each time.
   */
  emissionsFor(i: number, n: number): Float32Array {
    const slot = this.#slots[i];
    const kept = slot?.spare;
    if (!kept || kept.byteLength < n * 4) return new Float32Array(n);
    slot.spare = null;
    return new Float32Array(kept, 0, n);
  }

  /** Runs `op` on a slice in thread `i`; the slice's buffers are transferred (not usable afterwards). */
  run<N extends OpName>(i: number, op: N, p: SliceMessage, w: Potentials, args: OpArgs<N>, transfer: ArrayBuffer[] = []): Promise<PartOf<N>> {
    const slot = this.#slots[i];
    if (this.#disposed) return Promise.reject(new Error('CRF: this instance was disposed'));
    if (slot.dead !== null) return Promise.reject(new Error(`webcrf: worker thread ${i} stopped earlier (${slot.dead})`));
    if (!slot.up) return Promise.reject(new Error(`webcrf: worker thread ${i} is starting`));
    const id = this.#next++;
    ThreadPool.#busy(slot);
    return new Promise((resolve, reject) => {
      if (slot.pending.size === 0) slot.h.hold(true);
      slot.pending.set(id, { resolve: resolve as (r: unknown) => void, reject });
      try {
        slot.h.post({ type: 'run', id, op, p, w, args }, [p.emissions.buffer as ArrayBuffer, p.lengths.buffer as ArrayBuffer, ...transfer]);
      } catch (e) {
        slot.pending.delete(id);
        if (slot.pending.size === 0) slot.h.hold(false);
        reject(new Error(`webcrf: could not send a call to a worker thread (${messageOf(e)})`, { cause: e }));
      }
    });
  }

  /** Ends every thread; calls still waiting on one are rejected. Calling it again does nothing. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    const err = new Error('CRF: this instance was disposed while a call ran on its worker threads');
    for (const s of this.#slots) {
      ThreadPool.#busy(s);
      s.dead ??= 'disposed';
      s.up = false;
      s.spare = null;
      s.h.terminate();
      for (const r of s.pending.values()) r.reject(err);
      s.pending.clear();
    }
  }
}
