/// <reference types="node" />
import type { Worker as NodeWorker } from 'node:worker_threads';
import { messageOf } from '../../../errors.js';
import type { FromWorker } from './protocol.js';
import type { ThreadRuntime } from './spawn.js';

/**
 * Worker threads under Node (worker_threads), from the entry file `entry` gives (dist/node-worker.js),
 * asked for when a thread starts: a CommonJS bundle (esbuild's default for Node) empties import.meta,
 * and the URL built when the package loads threw there before any CRF was made.
 * A worker is unref'd while idle, so that a script that forgets `dispose()` still exits.
 */
export function nodeThreads(entry: () => URL): ThreadRuntime {
  // Imported by the first pool, not with the package: worker_threads and the streams under it are a
  // large part of a fresh process's import, and most processes never start a thread.
  let Worker: typeof NodeWorker | null = null;
  return {
    async ready() {
      Worker ??= (await import('node:worker_threads')).Worker;
    },
    spawn() {
      if (!Worker) throw new Error('worker_threads is not loaded yet (ThreadRuntime.ready)');
      // No inherited flags: the worker needs none, and some break it (`node --input-type=module -e …`
      // would hand `--input-type` to a file-based worker, which refuses to start).
      let file: URL;
      try {
        file = entry();
      } catch (e) {
        throw new Error(`the worker file has no URL in this bundle (import.meta.url is ${String(import.meta.url)}: ${messageOf(e)})`, { cause: e });
      }
      const w = new Worker(file, { execArgv: [] });
      w.unref();
      return {
        post: (m, transfer) => w.postMessage(m, transfer as ArrayBuffer[]),
        listen(onMessage, onDeath) {
          w.on('message', (m: FromWorker) => onMessage(m));
          w.on('error', (e: unknown) => onDeath(`it threw: ${messageOf(e)}`));
          w.on('messageerror', () => onDeath('a message from it could not be read'));
          w.on('exit', (code: number) => onDeath(`it exited with code ${code}`));
        },
        hold(on) {
          if (on) w.ref();
          else w.unref();
        },
        terminate: () => void w.terminate(),
      };
    },
    // Looked up, not imported, for the reason src/node.ts gives; where there is no lookup (Deno before
    // 2.1), the navigator's count.
    cores: () => {
      const os = (process as { getBuiltinModule?: typeof process.getBuiltinModule }).getBuiltinModule?.('node:os');
      return os ? os.availableParallelism() : ((globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1);
    },
  };
}
