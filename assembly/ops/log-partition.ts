// logPartition: log Z per sequence, in scaled linear space with a per-sequence fallback to log space.

import { chain } from '../chain';
import { noteLogSpaceFallback } from '../diagnostics';
import { LINEAR, Linear, LOGSUM, LogSum } from '../semirings';
import { numTags, startExp, startLog, supportCounts, transExp, transLog } from '../tables';
import { forwardCounts, opArea, scratchRows, supportSets } from './work-area';
import { linearLogZ, logSpaceLogZ } from './log-z';

/**
 * log Z of one sequence: scaled linear space first; when a check fails (something would underflow),
 * log space. Returns −∞ when no path is allowed. `post` needs two rows.
 */
@inline function logZOne<L>(e: usize, len: i32, cnt: usize, post: usize, scr: usize): f64 {
  const K4 = <isize>numTags << 2;
  const z = linearLogZ(chain<L, Linear>(LINEAR, e, K4, len, transExp, startExp, post, false, 0, cnt, scr), len);
  if (!isNaN(z)) return z;
  noteLogSpaceFallback();
  return logSpaceLogZ(chain<L, LogSum>(LOGSUM, e, K4, len, transLog, startLog, post, false, 0, 0, scr));
}

function logPartitionL<L>(B: i32, T: i32, em: usize, lens: usize, out: usize, work: usize): void {
  supportCounts(T, forwardCounts(work, T), false, supportSets(work, T));
  const seq = <usize>T * <usize>numTags << 2;
  for (let b = 0; b < B; b++) {
    const len = load<i32>(lens + (<usize>b << 2));
    const z = len == 0 ? 0 : logZOne<L>(em + <usize>b * seq, len, forwardCounts(work, T), opArea(work, T), scratchRows(work, T));
    store<f64>(out + (<usize>b << 3), z);
  }
}

/** log Z of B sequences of emissions [B,T,K] with lengths [B], into f64 out[B] (0 for a length of 0). */
export function logPartition(B: i32, T: i32, em: usize, lens: usize, out: usize, work: usize): void {
  if (ASC_FEATURE_SIMD) logPartitionL<v128>(B, T, em, lens, out, work);
  else logPartitionL<f32>(B, T, em, lens, out, work);
}
