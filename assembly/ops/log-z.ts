// log Z from a forward pass's final state: the closing sum with the end potentials, in scaled linear
// space and in log space. logPartition and posteriors both close their forward passes here.

import { endExp, endLog, numTags } from '../tables';

/** log Σ_j exp(row[j] + end[j]) over the K tags, in f64 (−∞ when all terms are). */
export function logSumEnd(row: usize): f64 {
  let m = -Infinity;
  for (let j = 0; j < numTags; j++) {
    const v = <f64>load<f32>(row + (<usize>j << 2)) + <f64>load<f32>(endLog + (<usize>j << 2));
    if (v > m) m = v;
  }
  if (m == -Infinity) return m;
  let s: f64 = 0;
  for (let j = 0; j < numTags; j++) {
    s += Math.exp(<f64>load<f32>(row + (<usize>j << 2)) + <f64>load<f32>(endLog + (<usize>j << 2)) - m);
  }
  return m + Math.log(s);
}

/** Σ_j row[j]·exp(end[j] − ce) in f64: the linear-space closing sum. */
export function sumEnd(row: usize): f64 {
  let s: f64 = 0;
  for (let j = 0; j < numTags; j++) s += <f64>load<f32>(row + (<usize>j << 2)) * <f64>load<f32>(endExp + (<usize>j << 2));
  return s;
}
