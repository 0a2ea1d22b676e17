// Throughput of decode and forward per backend: tokens (batch × seq) per second of wall time, each
// call awaited, so a GPU backend's dispatch and readback are counted as a user would see them.
import { rng } from './task.js';

export const SIZES = {
  full: [{ B: 16, T: 64, K: 8 }, { B: 64, T: 128, K: 16 }, { B: 128, T: 256, K: 32 }],
  quick: [{ B: 4, T: 16, K: 5 }, { B: 16, T: 32, K: 12 }],
};

function inputs({ B, T, K }, seed) {
  const rand = rng(seed);
  const em = new Float32Array(B * T * K).map(() => rand() * 4 - 2);
  const tags = new Int32Array(B * T).map(() => Math.floor(rand() * K));
  return { em: { data: em, shape: [B, T, K] }, tags: { data: tags, shape: [B, T] } };
}

/** Runs `fn` once to warm up (pipelines, memory growth), then until both `minMs` and `minReps` are met. */
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
 * @param CRF the library's CRF class; @param backends names to run; @param onRow called per result
 * with { op, B, T, K, backend, ms, tokensPerSec } or { ..., error }.
 */
export async function benchmark(CRF, backends, sizes, onRow, { minMs = 300, minReps = 3 } = {}) {
  for (const size of sizes) {
    const { em, tags } = inputs(size, size.B * 1000 + size.T);
    for (const backend of backends) {
      let crf = null;
      try {
        crf = await CRF.create(size.K, { backend, seed: 1 });
        for (const op of ['decode', 'forward']) {
          const fn = op === 'decode' ? () => crf.decode(em) : () => crf.forward(em, tags);
          const ms = await timeIt(fn, minMs, minReps);
          onRow({ op, ...size, backend, ms, tokensPerSec: (size.B * size.T * 1000) / ms });
          // Let the page repaint between measurements.
          await new Promise((r) => setTimeout(r, 0));
        }
      } catch (e) {
        onRow({ op: 'create/run', ...size, backend, error: String(e?.message ?? e) });
      } finally {
        crf?.dispose();
      }
    }
  }
}
