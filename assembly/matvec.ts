// The vector–matrix product out[j] = ⊕_i inp[i] ⊗ M[i][j] in any semiring S that supplies `accStart`,
// `accumulate` and `accumulateNeedsShift` (see semirings.ts), register-tiled over j: a tile of 4, 3, 2 or 1
// lane values of j keeps its accumulators in registers while i runs over the K rows (three lane values
// left, as at 9 to 12 tags, run as one tile rather than 2 + 1: one pass over the rows instead of two).
// Only the K real rows are read; the padded ones would only add the semiring's zero.

import { ld, splat, st, W } from './lanes';
import { numTags, paddedTags, rowBytes } from './tables';

@inline function tile4<L, S>(sr: S, inp: usize, M: usize, out: usize, mx: usize, K: i32, row: usize): void {
  const b = <usize>W<L>() << 2;
  let a0 = sr.accStart<L>(), a1 = sr.accStart<L>(), a2 = sr.accStart<L>(), a3 = sr.accStart<L>();
  let m0 = a0, m1 = a0, m2 = a0, m3 = a0;
  if (sr.accumulateNeedsShift()) { m0 = ld<L>(mx); m1 = ld<L>(mx + b); m2 = ld<L>(mx + <usize>2 * b); m3 = ld<L>(mx + <usize>3 * b); }
  let r = M;
  for (let i = 0; i < K; i++) {
    const a = splat<L>(load<f32>(inp + (<usize>i << 2)));
    a0 = sr.accumulate<L>(a0, a, ld<L>(r), m0);
    a1 = sr.accumulate<L>(a1, a, ld<L>(r + b), m1);
    a2 = sr.accumulate<L>(a2, a, ld<L>(r + <usize>2 * b), m2);
    a3 = sr.accumulate<L>(a3, a, ld<L>(r + <usize>3 * b), m3);
    r += row;
  }
  st<L>(out, a0); st<L>(out + b, a1); st<L>(out + <usize>2 * b, a2); st<L>(out + <usize>3 * b, a3);
}

@inline function tile3<L, S>(sr: S, inp: usize, M: usize, out: usize, mx: usize, K: i32, row: usize): void {
  const b = <usize>W<L>() << 2;
  let a0 = sr.accStart<L>(), a1 = sr.accStart<L>(), a2 = sr.accStart<L>();
  let m0 = a0, m1 = a0, m2 = a0;
  if (sr.accumulateNeedsShift()) { m0 = ld<L>(mx); m1 = ld<L>(mx + b); m2 = ld<L>(mx + <usize>2 * b); }
  let r = M;
  for (let i = 0; i < K; i++) {
    const a = splat<L>(load<f32>(inp + (<usize>i << 2)));
    a0 = sr.accumulate<L>(a0, a, ld<L>(r), m0);
    a1 = sr.accumulate<L>(a1, a, ld<L>(r + b), m1);
    a2 = sr.accumulate<L>(a2, a, ld<L>(r + <usize>2 * b), m2);
    r += row;
  }
  st<L>(out, a0); st<L>(out + b, a1); st<L>(out + <usize>2 * b, a2);
}

@inline function tile2<L, S>(sr: S, inp: usize, M: usize, out: usize, mx: usize, K: i32, row: usize): void {
  const b = <usize>W<L>() << 2;
  let a0 = sr.accStart<L>(), a1 = sr.accStart<L>();
  let m0 = a0, m1 = a0;
  if (sr.accumulateNeedsShift()) { m0 = ld<L>(mx); m1 = ld<L>(mx + b); }
  let r = M;
  for (let i = 0; i < K; i++) {
    const a = splat<L>(load<f32>(inp + (<usize>i << 2)));
    a0 = sr.accumulate<L>(a0, a, ld<L>(r), m0);
    a1 = sr.accumulate<L>(a1, a, ld<L>(r + b), m1);
    r += row;
  }
  st<L>(out, a0); st<L>(out + b, a1);
}

@inline function tile1<L, S>(sr: S, inp: usize, M: usize, out: usize, mx: usize, K: i32, row: usize): void {
  let a0 = sr.accStart<L>();
  let m0 = a0;
  if (sr.accumulateNeedsShift()) m0 = ld<L>(mx);
  let r = M;
  for (let i = 0; i < K; i++) {
    a0 = sr.accumulate<L>(a0, splat<L>(load<f32>(inp + (<usize>i << 2))), ld<L>(r), m0);
    r += row;
  }
  st<L>(out, a0);
}

/**
 * out = inp ⊗ M in semiring S, one padded row each; `mx` is the per-column shift row when
 * `sr.accumulateNeedsShift()`, else unused.
 */
@inline export function matvec<L, S>(sr: S, inp: usize, M: usize, out: usize, mx: usize): void {
  const K = numTags, row = rowBytes;
  const nb = paddedTags / W<L>();
  const b = <usize>W<L>() << 2;
  let q = 0;
  for (; q + 4 <= nb; q += 4) tile4<L, S>(sr, inp, M + <usize>q * b, out + <usize>q * b, mx + <usize>q * b, K, row);
  if (q + 3 == nb) { tile3<L, S>(sr, inp, M + <usize>q * b, out + <usize>q * b, mx + <usize>q * b, K, row); return; }
  for (; q + 2 <= nb; q += 2) tile2<L, S>(sr, inp, M + <usize>q * b, out + <usize>q * b, mx + <usize>q * b, K, row);
  for (; q < nb; q++) tile1<L, S>(sr, inp, M + <usize>q * b, out + <usize>q * b, mx + <usize>q * b, K, row);
}
