import type { Potentials } from '../../../model/parameters.js';
import type { OpArgs, OpName, PartOf } from '../../../ops/index.js';
import { CRFInputError, messageOf } from '../../../errors.js';
import type { ErrorMessage, FromWorker, SliceMessage } from './protocol.js';
import { type ThreadHandle, threadRuntime } from './spawn.js';

/**
 * A CRF's worker threads: started together, each handed the compiled kernels, then sent slices of
 * calls. Every request is answered, rejected when its thread dies (never left hanging), or rejected
 * on dispose. A dead thread is dropped; the others go on.
 */

/** How long the threads may take to start and instantiate the kernels before the CRF gives up on them. */
const START_TIMEOUT_MS = 20_000;

interface Slot {
  h: ThreadHandle;
  pending: Map<number, { resolve: (r: unknown) => void; reject: (e: Error) => void }>;
  dead: string | null;
  fallbacks: number;
  /** The thread's WebAssembly memory, as last reported. */
  bytes: number;
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
  readonly #slots: Slot[];
  #next = 0;
  #disposed = false;

  private constructor(slots: Slot[]) {
    this.#slots = slots;
  }

  /**
   * Starts `n` threads on `module`. Throws, saying why, when any cannot start or instantiate the
   * kernels (the ones that did are ended).
   */
  static async start(n: number, module: WebAssembly.Module): Promise<ThreadPool> {
    const rt = threadRuntime();
    await rt.ready?.();
    const slots: Slot[] = [];
    const started: Promise<void>[] = [];
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      for (let i = 0; i < n; i++) {
        const slot: Slot = { h: rt.spawn(), pending: new Map(), dead: null, fallbacks: 0, bytes: 0 };
        slots.push(slot);
        started.push(
          new Promise<void>((resolve, reject) => {
            let up = false;
            slot.h.listen(
              (m) => {
                if (!up) {
                  up = true;
                  if (m.type === 'ready') resolve();
                  else
                    reject(
                      new Error(m.type === 'failed' ? `a worker could not instantiate the kernels (${m.error.message})` : 'a worker answered out of turn'),
                    );
                  return;
                }
                ThreadPool.#answer(slot, m);
              },
              (why) => {
                if (!up) reject(new Error(`a worker thread stopped while starting: ${why}`));
                ThreadPool.#die(slot, why);
              },
            );
            // Held until it answers: an unref'd thread would let Node exit in the middle of `await create`.
            slot.h.hold(true);
            slot.h.post({ type: 'init', module }, []);
          }),
        );
      }
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`the worker threads did not start within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
      });
      await Promise.race([Promise.all(started), timeout]);
    } catch (e) {
      for (const s of slots) s.h.terminate();
      throw e;
    } finally {
      clearTimeout(timer);
      for (const s of slots) s.h.hold(false);
    }
    return new ThreadPool(slots);
  }

  static #answer(slot: Slot, m: FromWorker): void {
    if (m.type !== 'done' && m.type !== 'error') return;
    const req = slot.pending.get(m.id);
    if (!req) return;
    slot.pending.delete(m.id);
    if (slot.pending.size === 0) slot.h.hold(false);
    if (m.type === 'done') {
      slot.fallbacks = m.fallbacks;
      slot.bytes = m.bytes;
      req.resolve(m.result);
    } else req.reject(rebuild(m.error));
  }

  static #die(slot: Slot, why: string): void {
    if (slot.dead !== null) return;
    slot.dead = why;
    slot.h.terminate();
    const err = new Error(`webcrf: a worker thread stopped (${why}) before finishing its part of the call; the CRF goes on with its other threads`);
    for (const r of slot.pending.values()) r.reject(err);
    slot.pending.clear();
  }

  /** The threads still alive, by index. */
  live(): number[] {
    if (this.#disposed) return [];
    return this.#slots.flatMap((s, i) => (s.dead === null ? [i] : []));
  }

  /** Sequences whose scaled pass fell back to log space, on every thread (as last reported). */
  get logSpaceFallbacks(): number {
    return this.#slots.reduce((n, s) => n + s.fallbacks, 0);
  }

  /** The live threads' WebAssembly memory, as last reported. */
  get wasmBytes(): number {
    return this.#slots.reduce((n, s) => n + (s.dead === null ? s.bytes : 0), 0);
  }

  /** Runs `op` on a slice in thread `i`; the slice's buffers are transferred (not usable afterwards). */
  run<N extends OpName>(i: number, op: N, p: SliceMessage, w: Potentials, args: OpArgs<N>): Promise<PartOf<N>> {
    const slot = this.#slots[i];
    if (this.#disposed) return Promise.reject(new Error('CRF: this instance was disposed'));
    if (slot.dead !== null) return Promise.reject(new Error(`webcrf: worker thread ${i} stopped earlier (${slot.dead})`));
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      if (slot.pending.size === 0) slot.h.hold(true);
      slot.pending.set(id, { resolve: resolve as (r: unknown) => void, reject });
      try {
        slot.h.post({ type: 'run', id, op, p, w, args }, [p.emissions.buffer as ArrayBuffer, p.lengths.buffer as ArrayBuffer]);
      } catch (e) {
        slot.pending.delete(id);
        if (slot.pending.size === 0) slot.h.hold(false);
        reject(new Error(`webcrf: could not send a call to a worker thread (${messageOf(e)})`, { cause: e }));
      }
    });
  }

  /** Ends thread `i` as a crash would (for tests of what a crash does). */
  kill(i: number): void {
    ThreadPool.#die(this.#slots[i], 'it was ended');
  }

  /** Ends every thread; calls still waiting on one are rejected. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    const err = new Error('CRF: this instance was disposed while a call ran on its worker threads');
    for (const s of this.#slots) {
      s.dead ??= 'disposed';
      s.h.terminate();
      for (const r of s.pending.values()) r.reject(err);
      s.pending.clear();
    }
  }
}
