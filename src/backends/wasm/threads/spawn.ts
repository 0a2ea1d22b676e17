import { messageOf } from '../../../errors.js';
import type { FromWorker, ToWorker } from './protocol.js';
import { chosenThreadRuntime } from './runtime.js';

/**
 * How this runtime starts worker threads. The default is the Web Worker (browsers, Deno, Bun), written
 * as the one expression bundlers (Vite, webpack) recognise and emit the worker file for; the `node`
 * entry registers worker_threads instead (node-spawn.ts). Where there is no Worker (Cloudflare
 * Workers) or the worker file cannot be reached (a bundle that dropped it), starting throws, saying
 * why, and the CRF runs on the calling thread.
 */

/** A started worker thread, whichever kind. */
export interface ThreadHandle {
  post(m: ToWorker, transfer: Transferable[]): void;
  /** `onMessage` gets each message; `onDeath` is called when the thread dies (crash, failed load, exit). */
  listen(onMessage: (m: FromWorker) => void, onDeath: (why: string) => void): void;
  /** Whether the thread may keep the process alive (Node, Bun): on only while a call waits on it. */
  hold(on: boolean): void;
  terminate(): void;
}

export interface ThreadRuntime {
  /** Loads what `spawn` needs, once, before the first thread starts. */
  ready(): Promise<void>;
  /** Starts one worker thread; throws, saying why, where none can be started. */
  spawn(): ThreadHandle;
  /** The cores the runtime reports (what `threads: 'auto'` uses). */
  cores(): number;
}

interface WebWorker {
  postMessage(m: unknown, transfer: Transferable[]): void;
  terminate(): void;
  onmessage: ((e: MessageEvent) => void) | null;
  onerror: ((e: ErrorEvent) => void) | null;
  onmessageerror: ((e: MessageEvent) => void) | null;
  /** Bun's: whether the worker keeps the process alive. */
  ref?(): void;
  unref?(): void;
}

/** Web Workers, from the worker file beside this module. */
export const webThreads: ThreadRuntime = {
  ready: () => Promise.resolve(),
  spawn() {
    if (typeof Worker !== 'function') throw new Error('this runtime has no Worker constructor');
    let w: WebWorker;
    try {
      w = new Worker(new URL('./web-worker.js', import.meta.url), { type: 'module' });
    } catch (e) {
      throw new Error(`new Worker(web-worker.js) threw (${messageOf(e)})`, { cause: e });
    }
    return {
      post: (m, transfer) => w.postMessage(m, transfer),
      listen(onMessage, onDeath) {
        w.onmessage = (e) => onMessage(e.data as FromWorker);
        w.onerror = (e) => {
          // Handled here: the pool turns it into a rejected call and a reason.
          e.preventDefault?.();
          onDeath(e.message ? `it threw: ${e.message}` : 'its script failed to load or threw');
        };
        w.onmessageerror = () => onDeath('a message from it could not be read');
      },
      hold(on) {
        if (on) w.ref?.();
        else w.unref?.();
      },
      terminate: () => w.terminate(),
    };
  },
  cores() {
    const n = (globalThis as { navigator?: { hardwareConcurrency?: unknown } }).navigator?.hardwareConcurrency;
    return typeof n === 'number' && n >= 1 ? Math.floor(n) : 1;
  },
};

/** How worker threads start here: the runtime an entry chose (runtime.ts), else Web Workers. */
export function threadRuntime(): ThreadRuntime {
  return chosenThreadRuntime() ?? webThreads;
}
