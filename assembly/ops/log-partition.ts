// logPartition: log Z per sequence, in scaled linear space with a per-sequence fallback to log space.
// For small K the SIMD build runs groups of four sequences, one per lane (grouped.ts).

import { chain, chainStateRows, chainWorkRows } from '../chain';
import { noteLogSpaceFallback } from '../diagnostics';
import { groupMin, groupPass, groupRowsBytes, groupsFor, groupStateBytes } from '../grouped';
import { LINEAR, Linear, LOGSUM, LogSum } from '../semirings';
import { numTags, startExp, startLog, supportCounts, supportSetsBytes, transExp, transLog } from '../tables';
import { layoutEnd, layoutFrom, rows, section } from './work-area';
import { linearLogZ, logSpaceLogZ } from './log-z';

/** logPartition's work area: where `layout` put each section. */
@final @unmanaged class Area {
  /** The forward support counts, one i32 per step. */
  counts!: usize;
  /** supportCounts' sets. */
  sets!: usize;
  /** A chain's work rows (linear space, then log space for a sequence that falls back). */
  workRows!: usize;
  /** A chain's two alternating states. */
  states!: usize;
  /** A group's gathered emission rows (groupsFor(K) only, as are the next two). */
  groupRows!: usize;
  /** A group's two alternating states. */
  groupStates!: usize;
  /** A group's four log scales (f64). */
  scales!: usize;
}

const AREA = changetype<Area>(memory.data(offsetof<Area>(), 8));

/** Lays out logPartition's work area for up to T steps of K tags from `base` into AREA; returns its end. */
function layout(base: usize, T: i32, K: i32): f64 {
  layoutFrom(base);
  AREA.counts = section(4 * <f64>T);
  AREA.sets = section(supportSetsBytes(K));
  AREA.workRows = section(rows(K, max(chainWorkRows(LINEAR), chainWorkRows(LOGSUM))));
  AREA.states = section(rows(K, max(chainStateRows(LINEAR, T, false), chainStateRows(LOGSUM, T, false))));
  if (groupsFor(K)) {
    AREA.groupRows = section(<f64>groupRowsBytes(K));
    AREA.groupStates = section(2 * <f64>groupStateBytes(K));
    AREA.scales = section(4 * 8);
  }
  return layoutEnd();
}

/** log Z of one sequence in log space (−∞ when no path is allowed), counted as a fallback. */
@inline function logSpaceOne<L>(e: usize, len: i32): f64 {
  noteLogSpaceFallback();
  return logSpaceLogZ(chain<L, LogSum>(LOGSUM, e, <isize>numTags << 2, len, transLog, startLog, AREA.states, false, 0, 0, AREA.workRows));
}

/**
 * log Z of one sequence: scaled linear space first; when a check fails (something would underflow),
 * log space. Returns −∞ when no path is allowed.
 */
@inline function logZOne<L>(e: usize, len: i32): f64 {
  const r = chain<L, Linear>(LINEAR, e, <isize>numTags << 2, len, transExp, startExp, AREA.states, false, 0, AREA.counts, AREA.workRows);
  const z = linearLogZ(r.logScale, r.last, 4, len);
  if (!isNaN(z)) return z;
  return logSpaceOne<L>(e, len);
}

function logPartitionL<L>(B: i32, T: i32, em: usize, lens: usize, out: usize, work: usize): void {
  const K = numTags;
  layout(work, T, K);
  supportCounts(T, AREA.counts, false, AREA.sets);
  const seq = <usize>T * <usize>K << 2;
  let b = 0;
  if (isVector<L>() && groupsFor(K)) {
    const scales = AREA.scales;
    for (; B - b >= groupMin(); b += 4) {
      const n = min(4, B - b);
      const e = em + <usize>b * seq, ls = lens + (<usize>b << 2);
      const last = groupPass<Linear>(LINEAR, n, e, seq, ls, <isize>K << 2, transExp, startExp, AREA.counts, AREA.groupStates, false, 0, AREA.groupRows, scales);
      for (let l = 0; l < n; l++) {
        const len = load<i32>(ls + (<usize>l << 2));
        let z = len == 0 ? 0 : linearLogZ(load<f64>(scales + (<usize>l << 3)), last + (<usize>l << 2), 16, len);
        if (isNaN(z)) z = logSpaceOne<L>(e + <usize>l * seq, len);
        store<f64>(out + (<usize>(b + l) << 3), z);
      }
    }
  }
  for (; b < B; b++) {
    const len = load<i32>(lens + (<usize>b << 2));
    store<f64>(out + (<usize>b << 3), len == 0 ? 0 : logZOne<L>(em + <usize>b * seq, len));
  }
}

/** log Z of B sequences of emissions [B,T,K] with lengths [B], into f64 out[B] (0 for a length of 0). */
export function logPartition(B: i32, T: i32, em: usize, lens: usize, out: usize, work: usize): void {
  if (ASC_FEATURE_SIMD) logPartitionL<v128>(B, T, em, lens, out, work);
  else logPartitionL<f32>(B, T, em, lens, out, work);
}

/** Bytes of logPartition's work area for sequences of up to T steps of K tags (n: unused, 0). */
export function logPartitionWorkBytes(T: i32, K: i32, n: i32): f64 {
  return layout(0, T, K);
}
