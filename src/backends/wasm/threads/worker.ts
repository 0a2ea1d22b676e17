import type { Packed } from '../../../call/pack.js';
import type { OpArgs, OpName } from '../../../ops/index.js';
import type { ErrorMessage, FromWorker, ThreadState, ToWorker } from './protocol.js';
import { WasmBackend } from '../backend.js';

/**
 * What a worker thread does, whatever runtime hosts it (web-worker.ts, node-worker.ts give it a way to
 * receive and send): instantiate the kernels it is handed, then run each slice it is sent on them, one
 * at a time, in arrival order, and send back the outputs (their buffers transferred). The slice's own
 * buffers go back too: an idle worker may not collect garbage for a long time, so it keeps nothing of a
 * call but its kernels' memory, which it reports (protocol.ts ThreadState).
 */

type Send = (m: FromWorker, transfer: ArrayBuffer[]) => void;

function errorMessage(e: unknown): ErrorMessage {
  if (e instanceof Error) {
    const argument = (e as { argument?: unknown }).argument;
    return { name: e.name, message: e.message, ...(typeof argument === 'string' ? { argument } : {}) };
  }
  return { name: 'Error', message: String(e) };
}

/** Returns the handler for incoming messages. */
export function serve(send: Send): (m: ToWorker) => void {
  let backend: Promise<WasmBackend> | null = null;
  let queue: Promise<void> = Promise.resolve();
  return (m) => {
    if (m.type === 'init') {
      backend = WasmBackend.create({ wasmModule: m.module });
      backend.then(
        (be) => send({ type: 'ready', ...stateOf(be, 0) }, []),
        (e: unknown) => send({ type: 'failed', error: errorMessage(e) }, []),
      );
      return;
    }
    const ready = backend;
    queue = queue.then(async () => {
      const inputs = [m.p.emissions.buffer as ArrayBuffer, m.p.lengths.buffer as ArrayBuffer];
      let be: WasmBackend | null = null;
      let releases = 0;
      try {
        if (!ready) throw new Error('worker thread: run before init');
        be = await ready;
        releases = be.releases;
        const p: Packed = { ...m.p, positions: new Int32Array(0) };
        const result = await be.part(m.op, p, m.w, ...(m.args as OpArgs<OpName>));
        send({ type: 'done', id: m.id, result, inputs, ...stateOf(be, releases) }, [...buffersOf(result), ...inputs]);
      } catch (e) {
        send({ type: 'error', id: m.id, error: errorMessage(e), inputs, ...(be ? stateOf(be, releases) : { bytes: 0, fallbacks: 0, spent: false }) }, inputs);
      }
    });
  };
}

/** The buffers of a range's typed arrays, handed over rather than copied. */
function buffersOf(result: unknown): ArrayBuffer[] {
  const values = ArrayBuffer.isView(result) ? [result] : Object.values(result as object);
  return values.flatMap((v) => (ArrayBuffer.isView(v) ? [v.buffer as ArrayBuffer] : []));
}

/** The thread's state after a call that found the backend at `releases` instances handed back. */
function stateOf(be: WasmBackend, releases: number): ThreadState {
  return { bytes: be.memoryBytes, fallbacks: be.logSpaceFallbacks, spent: be.releases > releases };
}
