// Where each op's memory comes from. The JS side (src/backends/wasm.ts) owns the layout: it places the
// raw potentials, tables, emissions, lengths and outputs from `heapBase()` on, then one work area of
// `workBytes(op, …)` bytes, whose sections every op finds with the helpers below.

import { GROUP_MAX_K, groupRowsBytes } from '../grouped';
import { padK, rowBytes } from '../tables';

export const OP_LOG_PARTITION = 0;
export const OP_VITERBI = 1;
export const OP_POSTERIORS = 2;
export const OP_KBEST = 3;
export const OP_ENTROPY = 4;

/** First free byte after the module's own data: the JS layout starts here. */
export function heapBase(): usize {
  return __heap_base;
}

@inline function a16(n: usize): usize {
  return (n + 15) & ~<usize>15;
}

/**
 * Rows of scratch every op gets: a chain's ⊕⊗ result (a state: three rows for the entropy semiring) and
 * its semiring's own row, with room to spare.
 */
const SCRATCH_ROWS = 6;

/**
 * Work-area bytes an op needs for sequences up to T steps (k: list size of the k-best op), in f64: the
 * JS side checks the whole call against the 4 GiB a wasm32 memory can address before any u32 wraps.
 */
export function workBytes(op: i32, T: i32, K: i32, k: i32): f64 {
  const row = <f64>padK(K) * 4;
  const t = <f64>T;
  const sq = <f64>padK(K) * <f64>padK(K);
  // support counts fwd/bwd, scratch rows, support bits (two rows)
  const head = 2 * (Math.ceil(t * 4 / 16) * 16) + <f64>(SCRATCH_ROWS + 2) * row;
  const grouped = K <= GROUP_MAX_K;
  if (op == OP_LOG_PARTITION) return head + 2 * row + (grouped ? <f64>(3 * groupRowsBytes(K) + 32) : 0);
  // Viterbi's per-sequence history (t rows) or the grouped one (t steps of K lane vectors) and its gather.
  if (op == OP_VITERBI) return head + (grouped ? Math.max(t * row, t * <f64>K * 16) + <f64>groupRowsBytes(K) : t * row);
  // Per-sequence rows, then a group's three passes (t steps of K lane vectors each) and its gather.
  if (op == OP_POSTERIORS) return head + 4 * t * row + sq * 12 + (grouped ? 3 * t * <f64>K * 16 + <f64>groupRowsBytes(K) : 0);
  // Two states of three rows (the entropy semiring's).
  if (op == OP_ENTROPY) return head + 6 * row;
  return head + 3 * t * row * <f64>k;
}

/** Forward support counts, one i32 per step. */
@inline export function forwardCounts(work: usize, T: i32): usize { return work; }
/** Backward support counts, one i32 per step. */
@inline export function backwardCounts(work: usize, T: i32): usize { return work + a16(<usize>T << 2); }
/** SCRATCH_ROWS rows: chain's scratch, and the k-best merge's heads. */
@inline export function scratchRows(work: usize, T: i32): usize { return work + <usize>2 * a16(<usize>T << 2); }
/** Two rows for supportCounts' reachable sets. */
@inline export function supportSets(work: usize, T: i32): usize { return scratchRows(work, T) + <usize>SCRATCH_ROWS * rowBytes; }
/** The op's own section: what workBytes adds beyond the shared head. */
@inline export function opArea(work: usize, T: i32): usize { return supportSets(work, T) + <usize>2 * rowBytes; }
/** logPartition's grouped area (groupLogZBytes), after the two rows of its per-sequence state. */
@inline export function groupArea(work: usize, T: i32): usize { return opArea(work, T) + <usize>2 * rowBytes; }
