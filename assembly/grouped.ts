// Lanes across sequences: for small K the SIMD build runs four sequences at once, one per f32 lane of a
// v128, so a step is K·K full-width multiply–adds (max–adds for Viterbi) instead of K rows of partly
// filled vectors, with no horizontal reductions. State j of the four sequences is one v128 (a state is K
// of them, 16·K bytes: tag j of lane l at 16j + 4l); each step gathers the four sequences' emission rows
// with 4×4 transposes.
//
// This is chain.ts's recursion once more, over four sequences, written once over a semiring S (Linear
// or MaxPlus, semirings.ts). Every lane computes exactly the f32 operations, in the same order, that
// chain() over S computes for its sequence, so the values are the same bit for bit and Viterbi breaks
// ties the same way. A group runs to its longest sequence; a lane whose sequence has ended is masked
// (its log scale kept, and its state when states alternate) and re-reads its last row. A lane whose
// linear-space check fails is reported to the caller, which redoes that sequence in log space. Only the
// SIMD build calls into this file.
//
// Besides matvec.ts's `accStart` and `accumulate` (at L = v128, with no shift), S supplies, per lane:
//  - `groupEmit(pre, e, me, prevMax)`: a tag's state from its ⊕⊗ product `pre` and emission `e`, `me`
//    being the row's largest emission and `prevMax` the previous row's largest value (applyEmissions);
//  - `groupCount(cnt, v)`: the tally its check keeps over a row's tags (0 to start);
//  - `groupFailed(rowMax, cnt, expect)`: the lanes whose step failed (a failed check; no tag reachable),
//    and `groupFailure()`, the log scale such a lane reports (chain()'s NaN or −∞);
//  - `groupShift(rowMax, prevMax)`: what the step takes out of the row besides `me`, and
//    `groupShiftLog(x)`, its log in f64 for lanes 0 and 1;
//  - `groupNormalise(out, prev, x, active, keep)`: takes x out of the state at `out`; with `keep`, the
//    lanes outside `active` keep the state at `prev` instead.

import { numTags, padK, paddedTags } from './tables';

/** Largest K that takes the grouped path (above it the per-sequence rows are full enough). */
export const GROUP_MAX_K = 16;

/**
 * Whether a call of K tags runs its sequences in groups: in the SIMD build, for K ≤ GROUP_MAX_K. The ops
 * test `isVector<L>() && groupsFor(K)`: the first, a compile-time constant, keeps the v128 code of
 * this file out of the scalar build.
 */
@inline export function groupsFor(K: i32): bool {
  return ASC_FEATURE_SIMD && K <= GROUP_MAX_K;
}

/**
 * Fewest sequences that make a group: a group of fewer fills too few lanes to beat the per-sequence
 * kernels (docs/performance.md, Kernel notes).
 */
@inline export function groupMin(): i32 {
  return numTags <= 5 ? 2 : 3;
}

/** Bytes of one grouped state of K tags: K lane vectors. */
@inline export function groupStateBytes(K: i32): usize {
  return <usize>K << 4;
}

/** Bytes of a step's gathered emissions: Kp lane vectors (the transposes write whole chunks of four tags). */
@inline export function groupRowsBytes(K: i32): usize {
  return <usize>padK(K) << 4;
}

/** Four i32 lanes. */
@inline function lanes(a: i32, b: i32, c: i32, d: i32): v128 {
  return i32x4.replace_lane(i32x4.replace_lane(i32x4.replace_lane(i32x4.splat(a), 1, b), 2, c), 3, d);
}

/**
 * The four lanes' emission rows at addresses `at` (one i32 lane each), transposed into `rows` (Kp
 * vectors: tag j of the four sequences in `rows + 16·j`). Rows are K floats, unpadded; the last chunk
 * reads up to 3 floats past the row (the next row, or the 16 bytes of slack the JS side leaves after the
 * emissions) into tags ≥ K, which nothing reads. Returns the four rows' largest emissions (over the K tags).
 */
@inline function gather(rows: usize, at: v128): v128 {
  const p0 = <usize>i32x4.extract_lane(at, 0), p1 = <usize>i32x4.extract_lane(at, 1);
  const p2 = <usize>i32x4.extract_lane(at, 2), p3 = <usize>i32x4.extract_lane(at, 3);
  const nc = paddedTags >> 2;
  for (let c = 0; c < nc; c++) {
    const o = <usize>c << 4;
    const r0 = v128.load(p0 + o), r1 = v128.load(p1 + o), r2 = v128.load(p2 + o), r3 = v128.load(p3 + o);
    const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5);
    const t1 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
    const t2 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
    const t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
    const q = rows + (<usize>c << 6);
    v128.store(q, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
    v128.store(q + 16, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7));
    v128.store(q + 32, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5));
    v128.store(q + 48, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7));
  }
  let m = f32x4.splat(-Infinity);
  for (let j = 0; j < numTags; j++) m = f32x4.pmax(m, v128.load(rows + (<usize>j << 4)));
  return m;
}

/** The state of step s: its own when `keepAll`, else one of two alternating (step −1's is the second). */
@inline function stateAt(states: usize, keepAll: bool, s: i32): usize {
  const sb = groupStateBytes(numTags);
  return keepAll ? states + <usize>s * sb : states + <usize>(s & 1) * sb;
}

/**
 * Tag j of a step from its ⊕⊗ product `a`: kept at `pre` (when ≠ 0) as chain() keeps its `pre`, then
 * through S's emission into the state at `out`. Returns the state's value.
 */
@inline function groupTag<S>(sr: S, a: v128, j: i32, rows: usize, me: v128, prevMax: v128, out: usize, pre: usize): v128 {
  const o = <usize>j << 4;
  if (pre != 0) v128.store(pre + o, a);
  const v = sr.groupEmit(a, v128.load(rows + o), me, prevMax);
  v128.store(out + o, v);
  return v;
}

/**
 * What a pass carries from its unmasked steps to its masked ones: each lane's log scale (f64, lanes 0–1
 * then 2–3), the lanes that failed, and the last row's largest value. One slot in static memory, as
 * chain.ts's results are, valid during a pass.
 */
@final @unmanaged class Carry {
  lo!: v128;
  hi!: v128;
  failed!: v128;
  rowMax!: v128;
}

/** The one Carry slot (a function, not a global: the scalar build must not see a v128 field). */
function carry(): Carry {
  return changetype<Carry>(memory.data(offsetof<Carry>(), 16));
}

/**
 * Steps [from, to) of groupPass; `masked`: some lane may have ended (those outside `lengths` get no
 * log factor, report no failure and keep their state when states alternate). `first` holds each lane's
 * first row in the direction of travel, `last` the index of its last row.
 */
@inline function groupSteps<S>(
  sr: S, masked: bool, from: i32, to: i32, first: v128, last: v128, lengths: v128, step: isize, M: usize, init: usize,
  cnt: usize, states: usize, keepAll: bool, pre: usize, rows: usize, c: Carry,
): void {
  const K = numTags, sb = groupStateBytes(K), row = <usize>paddedTags << 2;
  const noShift = f32x4.splat(0);
  let lo = c.lo, hi = c.hi, failed = c.failed, prevMax = c.rowMax;
  for (let s = from; s < to; s++) {
    const me = gather(rows, i32x4.add(first, i32x4.mul(i32x4.min_s(i32x4.splat(s), last), i32x4.splat(<i32>step))));
    const out = stateAt(states, keepAll, s), prev = stateAt(states, keepAll, s - 1);
    const p = pre != 0 ? pre + <usize>s * sb : 0;
    // The row, tag by tag: product (from `init` at step 0), emission, and the row's tallies. Its max
    // starts from the semiring's zero, as emitLinear's (0) and emitLog's (−∞) do.
    let rowMax = sr.accStart<v128>();
    let tally = i32x4.splat(0);
    let j = 0;
    if (s == 0) {
      for (; j < K; j++) {
        const v = groupTag<S>(sr, v128.load32_splat(init + (<usize>j << 2)), j, rows, me, prevMax, out, p);
        rowMax = f32x4.pmax(rowMax, v);
        tally = sr.groupCount(tally, v);
      }
    } else {
      for (; j + 4 <= K; j += 4) {
        let a0 = sr.accStart<v128>(), a1 = a0, a2 = a0, a3 = a0;
        let r = M + (<usize>j << 2);
        for (let i = 0; i < K; i++) {
          const a = v128.load(prev + (<usize>i << 4));
          a0 = sr.accumulate<v128>(a0, a, v128.load32_splat(r), noShift);
          a1 = sr.accumulate<v128>(a1, a, v128.load32_splat(r, 4), noShift);
          a2 = sr.accumulate<v128>(a2, a, v128.load32_splat(r, 8), noShift);
          a3 = sr.accumulate<v128>(a3, a, v128.load32_splat(r, 12), noShift);
          r += row;
        }
        const v0 = groupTag<S>(sr, a0, j, rows, me, prevMax, out, p), v1 = groupTag<S>(sr, a1, j + 1, rows, me, prevMax, out, p);
        const v2 = groupTag<S>(sr, a2, j + 2, rows, me, prevMax, out, p), v3 = groupTag<S>(sr, a3, j + 3, rows, me, prevMax, out, p);
        rowMax = f32x4.pmax(f32x4.pmax(f32x4.pmax(f32x4.pmax(rowMax, v0), v1), v2), v3);
        tally = sr.groupCount(sr.groupCount(sr.groupCount(sr.groupCount(tally, v0), v1), v2), v3);
      }
      for (; j < K; j++) {
        let a0 = sr.accStart<v128>();
        let r = M + (<usize>j << 2);
        for (let i = 0; i < K; i++) {
          a0 = sr.accumulate<v128>(a0, v128.load(prev + (<usize>i << 4)), v128.load32_splat(r), noShift);
          r += row;
        }
        const v = groupTag<S>(sr, a0, j, rows, me, prevMax, out, p);
        rowMax = f32x4.pmax(rowMax, v);
        tally = sr.groupCount(tally, v);
      }
    }
    // The step's check, normalisation and log factor (me + the shift, in f64 as chain() adds it).
    const active = masked ? i32x4.gt_s(lengths, i32x4.splat(s)) : i32x4.splat(-1);
    const bad = sr.groupFailed(rowMax, tally, cnt != 0 ? load<i32>(cnt + (<usize>s << 2)) : 0);
    failed = v128.or(failed, masked ? v128.and(bad, active) : bad);
    let x = sr.groupShift(rowMax, prevMax);
    if (masked) x = v128.and(x, active);
    sr.groupNormalise(out, prev, x, active, masked && !keepAll);
    const mem = masked ? v128.and(me, active) : me;
    lo = f64x2.add(lo, f64x2.add(f64x2.promote_low_f32x4(mem), sr.groupShiftLog(x)));
    const memHi = v128.shuffle<f32>(mem, mem, 2, 3, 2, 3), xHi = v128.shuffle<i32>(x, x, 2, 3, 2, 3);
    hi = f64x2.add(hi, f64x2.add(f64x2.promote_low_f32x4(memHi), sr.groupShiftLog(xHi)));
    prevMax = rowMax;
  }
  c.lo = lo;
  c.hi = hi;
  c.failed = failed;
  c.rowMax = prevMax;
}

/**
 * chain() over the sequences of n ≤ 4 lanes, as one group: lane l's emission rows start at
 * `em + l·seq`, its length is `lens[l]` (i32); lanes past n repeat lane 0 (their results are dropped).
 * `step` is ±4K: a backward pass (negative) starts each lane at its own last row. `init` is the step-0
 * product (one row, splatted to every lane), `M` the matrix, `cnt` the per-step support counts S
 * checks (0 when it checks none). Step s's state goes to `states + s·16K` when `keepAll`, else
 * alternates between two states at `states` (a lane that has ended keeps its last); when `pre` ≠ 0 the
 * product before the emissions goes to `pre + s·16K` (chain()'s `pre`). `rows` holds a step's gathered
 * emissions (groupRowsBytes). Each lane's log scale (chain()'s logScale, `groupFailure()` for a lane
 * that failed) goes to the f64 `scales[l]`. Returns the state of the group's last step: with
 * alternating states, every lane's final state.
 */
@inline export function groupPass<S>(
  sr: S, n: i32, em: usize, seq: usize, lens: usize, step: isize, M: usize, init: usize, cnt: usize,
  states: usize, keepAll: bool, pre: usize, rows: usize, scales: usize,
): usize {
  const l0 = load<i32>(lens), l1 = n > 1 ? load<i32>(lens, 4) : l0, l2 = n > 2 ? load<i32>(lens, 8) : l0, l3 = n > 3 ? load<i32>(lens, 12) : l0;
  const lengths = lanes(l0, l1, l2, l3);
  const minLen = min(min(l0, l1), min(l2, l3)), maxLen = max(max(l0, l1), max(l2, l3));
  const last = i32x4.max_s(i32x4.sub(lengths, i32x4.splat(1)), i32x4.splat(0));
  let first = i32x4.add(i32x4.splat(<i32>em), i32x4.mul(lanes(0, n > 1 ? 1 : 0, n > 2 ? 2 : 0, n > 3 ? 3 : 0), i32x4.splat(<i32>seq)));
  if (step < 0) first = i32x4.add(first, i32x4.mul(last, i32x4.splat(<i32>-step)));
  if (!keepAll) memory.fill(stateAt(states, false, -1), 0, groupStateBytes(numTags)); // what a lane with no steps keeps
  const c = carry();
  c.lo = f64x2.splat(0);
  c.hi = f64x2.splat(0);
  c.failed = i32x4.splat(0);
  c.rowMax = f32x4.splat(0);
  groupSteps<S>(sr, false, 0, minLen, first, last, lengths, step, M, init, cnt, states, keepAll, pre, rows, c);
  groupSteps<S>(sr, true, minLen, maxLen, first, last, lengths, step, M, init, cnt, states, keepAll, pre, rows, c);
  v128.store(scales, c.lo);
  v128.store(scales + 16, c.hi);
  const failed = i32x4.bitmask(c.failed);
  for (let l = 0; l < 4; l++) if ((failed & (1 << l)) != 0) store<f64>(scales + (<usize>l << 3), sr.groupFailure());
  return stateAt(states, keepAll, maxLen - 1);
}
