import type { ThreadRuntime } from './spawn.js';

// Which way of starting worker threads a runtime's entry chose (node.ts: worker_threads). A module of
// its own, which the index entry imports with its eager code: the node entry sets it without loading
// spawn.ts, whose Web Workers are the default and load only where threads are asked for.

let chosen: ThreadRuntime | null = null;

/** Replaces how worker threads are started (the `node` entry; tests point it at dist/). */
export function setThreadRuntime(r: ThreadRuntime): void {
  chosen = r;
}

/** The runtime an entry chose, or null for the default (spawn.ts's Web Workers). */
export function chosenThreadRuntime(): ThreadRuntime | null {
  return chosen;
}

/** How worker threads start here: the chosen runtime, else the Web Workers, imported now. */
export async function loadThreadRuntime(): Promise<ThreadRuntime> {
  return chosen ?? (await import('./spawn.js')).webThreads;
}
