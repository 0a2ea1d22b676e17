// Entry of a worker thread where workers are Web Workers (browsers, Deno, Bun): spawn.ts starts it as
// `new Worker(new URL('./web-worker.js', import.meta.url), { type: 'module' })`.
import type { ToWorker } from './protocol.js';
import { serve } from './worker.js';

interface WorkerScope {
  onmessage: ((e: MessageEvent<ToWorker>) => void) | null;
  postMessage(m: unknown, transfer: Transferable[]): void;
}

const scope = globalThis as unknown as WorkerScope;
const handle = serve((m, transfer) => scope.postMessage(m, transfer));
scope.onmessage = (e) => handle(e.data);
