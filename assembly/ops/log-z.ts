// log Z from a forward pass's final state: the closing sum with the end potentials, in scaled linear
// space (with the check that sends a sequence to log space) and in log space. logPartition and
// posteriors both close their forward passes here.

import { ChainResult } from '../chain';
import { THRESHOLD } from '../semirings';
import { endExp, endLog, endShift, numTags, startShift, transShift } from '../tables';

/** log Σ_j exp(row[j] + end[j]) over the K tags, in f64 (−∞ when all terms are). */
function logSumEnd(row: usize): f64 {
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

/** Σ_j row[j]·exp(end[j] − ce) in f64, tag j at `row + j·ts`: the linear-space closing sum. */
function sumEnd(row: usize, ts: usize): f64 {
  let s: f64 = 0;
  for (let j = 0; j < numTags; j++) s += <f64>load<f32>(row + <usize>j * ts) * <f64>load<f32>(endExp + (<usize>j << 2));
  return s;
}

/**
 * log Z of a `len`-step linear-space forward pass (from startExp over transExp) from its log scale `d`
 * and its final state `last` (tag j at `last + j·ts`: a row, or a group's lane), adding back the shifts
 * the tables took out; NaN when the pass failed its check (d is NaN) or the closing sum fell below
 * THRESHOLD, so that the caller redoes the sequence in log space.
 */
@inline export function linearLogZ(d: f64, last: usize, ts: usize, len: i32): f64 {
  if (isNaN(d)) return NaN;
  const S = sumEnd(last, ts);
  if (!(S >= <f64>THRESHOLD)) return NaN;
  return d + startShift + <f64>(len - 1) * transShift + Math.log(S) + endShift;
}

/** log Z of a log-space forward pass (from startLog over transLog); −∞ when no path is allowed. */
@inline export function logSpaceLogZ(r: ChainResult): f64 {
  const d = r.logScale;
  if (d == -Infinity) return -Infinity;
  return d + logSumEnd(r.last);
}
