// Throughput of decode and forward per backend: tokens (batch × seq) per second of wall time, each
// call awaited, so a GPU backend's dispatch and readback are counted as a user would see them.
import { rng } from './task.js';

export const SIZES = {
  full: [
    { B: 16, T: 64, K: 8 },
    { B: 64, T: 128, K: 16 },
    { B: 128, T: 256, K: 32 },
  ],
  quick: [
    { B: 4, T: 16, K: 5 },
    { B: 16, T: 32, K: 12 },
  ],
};

/** @typedef {{ B: number, T: number, K: number }} Size */
/**
 * One measurement, or (with `error`, and no ms or tokensPerSec) a backend that failed at a size.
 * @typedef {{ op: string, B: number, T: number, K: number, backend: string, ms: number, tokensPerSec: number, error?: string }} Row
 */

/** @param {Size} size @param {number} seed */
function inputs({ B, T, K }, seed) {
  const rand = rng(seed);
  const em = new Float32Array(B * T * K).map(() => rand() * 4 - 2);
  const tags = new Int32Array(B * T).map(() => Math.floor(rand() * K));
  return { em: { data: em, shape: [B, T, K] }, tags: { data: tags, shape: [B, T] } };
}

/**
 * Runs `fn` once to warm up (pipelines, memory growth), then until both `minMs` and `minReps` are met.
 * @param {() => Promise<unknown>} fn @param {number} minMs @param {number} minReps
 */
async function timeIt(fn, minMs, minReps) {
  await fn();
  let reps = 0;
  const t0 = performance.now();
  let el = 0;
  while (reps < minReps || el < minMs) {
    await fn();
    reps++;
    el = performance.now() - t0;
  }
  return el / reps;
}

/**
 * @param {typeof import('webcrf').CRF} CRF the library's CRF class; @param {import('webcrf').BackendName[]} backends names to run;
 * @param {Size[]} sizes @param {(row: Row) => void} onRow called per result
 * with { op, B, T, K, backend, ms, tokensPerSec } or { ..., error }.
 * @param {{ minMs?: number, minReps?: number }} [timing]
 */
export async function benchmark(CRF, backends, sizes, onRow, { minMs = 300, minReps = 3 } = {}) {
  for (const size of sizes) {
    const { em, tags } = inputs(size, size.B * 1000 + size.T);
    for (const backend of backends) {
      /** @type {import('webcrf').CRF | null} */
      let crf = null;
      try {
        crf = await CRF.create(size.K, { backend, seed: 1 });
        for (const op of ['decode', 'forward']) {
          const c = crf;
          const fn = op === 'decode' ? () => c.decode(em) : () => c.forward(em, tags);
          const ms = await timeIt(fn, minMs, minReps);
          onRow({ op, ...size, backend, ms, tokensPerSec: (size.B * size.T * 1000) / ms });
          // Let the page repaint between measurements.
          await new Promise((r) => setTimeout(r, 0));
        }
      } catch (e) {
        onRow(/** @type {Row} */ ({ op: 'create/run', ...size, backend, error: String(/** @type {Error | undefined} */ (e)?.message ?? e) }));
      } finally {
        crf?.dispose();
      }
    }
  }
}
