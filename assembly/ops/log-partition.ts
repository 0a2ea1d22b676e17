// logPartition: log Z per sequence, in scaled linear space with a per-sequence fallback to log space.
// For small K the SIMD build runs groups of four sequences, one per lane (grouped.ts).

import { chain } from '../chain';
import { noteLogSpaceFallback } from '../diagnostics';
import { groupMin, groupPass, groupRowsBytes, groupsFor, groupStateBytes } from '../grouped';
import { LINEAR, Linear, LOGSUM, LogSum } from '../semirings';
import { numTags, startExp, startLog, supportCounts, transExp, transLog } from '../tables';
import { forwardCounts, groupArea, OP_LOG_PARTITION, opArea, scratchRows, supportSets, workBytes } from './work-area';
import { linearLogZ, logSpaceLogZ } from './log-z';

/** log Z of one sequence in log space (−∞ when no path is allowed), counted as a fallback. */
@inline function logSpaceOne<L>(e: usize, len: i32, post: usize, scr: usize): f64 {
  noteLogSpaceFallback();
  return logSpaceLogZ(chain<L, LogSum>(LOGSUM, e, <isize>numTags << 2, len, transLog, startLog, post, false, 0, 0, scr));
}

/**
 * log Z of one sequence: scaled linear space first; when a check fails (something would underflow),
 * log space. Returns −∞ when no path is allowed. `post` needs two rows.
 */
@inline function logZOne<L>(e: usize, len: i32, cnt: usize, post: usize, scr: usize): f64 {
  const r = chain<L, Linear>(LINEAR, e, <isize>numTags << 2, len, transExp, startExp, post, false, 0, cnt, scr);
  const z = linearLogZ(r.logScale, r.last, 4, len);
  if (!isNaN(z)) return z;
  return logSpaceOne<L>(e, len, post, scr);
}

function logPartitionL<L>(B: i32, T: i32, em: usize, lens: usize, out: usize, work: usize): void {
  const K = numTags;
  supportCounts(T, forwardCounts(work, T), false, supportSets(work, T));
  const seq = <usize>T * <usize>K << 2;
  const post = opArea(work, T), scr = scratchRows(work, T);
  let b = 0;
  if (isVector<L>() && groupsFor(K)) {
    const rows = groupArea(work, T), states = rows + groupRowsBytes(K), scales = states + 2 * groupStateBytes(K);
    for (; B - b >= groupMin(); b += 4) {
      const n = min(4, B - b);
      const e = em + <usize>b * seq, ls = lens + (<usize>b << 2);
      const last = groupPass<Linear>(LINEAR, n, e, seq, ls, <isize>K << 2, transExp, startExp, forwardCounts(work, T), states, false, 0, rows, scales);
      for (let l = 0; l < n; l++) {
        const len = load<i32>(ls + (<usize>l << 2));
        let z = len == 0 ? 0 : linearLogZ(load<f64>(scales + (<usize>l << 3)), last + (<usize>l << 2), 16, len);
        if (isNaN(z)) z = logSpaceOne<L>(e + <usize>l * seq, len, post, scr);
        store<f64>(out + (<usize>(b + l) << 3), z);
      }
    }
  }
  for (; b < B; b++) {
    const len = load<i32>(lens + (<usize>b << 2));
    const z = len == 0 ? 0 : logZOne<L>(em + <usize>b * seq, len, forwardCounts(work, T), post, scr);
    store<f64>(out + (<usize>b << 3), z);
  }
}

/** log Z of B sequences of emissions [B,T,K] with lengths [B], into f64 out[B] (0 for a length of 0). */
export function logPartition(B: i32, T: i32, em: usize, lens: usize, out: usize, work: usize): void {
  if (ASC_FEATURE_SIMD) logPartitionL<v128>(B, T, em, lens, out, work);
  else logPartitionL<f32>(B, T, em, lens, out, work);
}

/** Bytes of the work area logPartition needs for sequences of up to T steps (k: the list size, else 0). */
export function logPartitionWorkBytes(T: i32, K: i32, k: i32): f64 {
  return workBytes(OP_LOG_PARTITION, T, K, k);
}
