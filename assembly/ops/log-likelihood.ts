// logLikelihood: log Z and the gold path's score per sequence in one call, over one copy of the
// emissions (forward's op). log Z is logPartition's; the score (goldScores, which gradients runs too) is
// summed in f64 along the tags, term by term in the order src/ops/path-scores.ts sums it, from the
// same float32 values, so it is that function's result exactly.

import { endLog, numTags, paddedTags, startLog, transLog } from '../tables';
import { logPartition, logPartitionWorkBytes } from './log-partition';

/** log Z into f64 z[B] (as logPartition) and the tags' scores into f64 score[B] (as goldScores). */
export function logLikelihood(B: i32, T: i32, em: usize, lens: usize, tags: usize, z: usize, score: usize, work: usize): void {
  logPartition(B, T, em, lens, z, work);
  goldScores(B, T, em, lens, tags, score);
}

/**
 * The score of the tags [B, T] (i32, read up to each length) into f64 score[B]: −∞ where the path has
 * a forbidden step, 0 for a length of 0.
 */
export function goldScores(B: i32, T: i32, em: usize, lens: usize, tags: usize, score: usize): void {
  const K = numTags, Kp = paddedTags;
  for (let b = 0; b < B; b++) {
    const len = load<i32>(lens + (<usize>b << 2));
    const tg = tags + (<usize>b * <usize>T << 2);
    const e = em + (<usize>b * <usize>T * <usize>K << 2);
    let s: f64 = 0;
    if (len > 0) {
      let y = load<i32>(tg);
      s = <f64>load<f32>(startLog + (<usize>y << 2)) + <f64>load<f32>(e + (<usize>y << 2));
      for (let t = 1; t < len; t++) {
        const x = load<i32>(tg + (<usize>t << 2));
        s += <f64>load<f32>(transLog + (<usize>(y * Kp + x) << 2)) + <f64>load<f32>(e + (<usize>(t * K + x) << 2));
        y = x;
      }
      s += <f64>load<f32>(endLog + (<usize>y << 2));
    }
    store<f64>(score + (<usize>b << 3), s);
  }
}

/** Bytes of logLikelihood's work area: logPartition's. */
export function logLikelihoodWorkBytes(T: i32, K: i32, n: i32): f64 {
  return logPartitionWorkBytes(T, K, n);
}
