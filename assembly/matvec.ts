// The vector–matrix product out[j] = ⊕_i inp[i] ⊗ M[i][j] in any semiring S that supplies `accStart`,
// `accumulate` and `accumulateNeedsShift` (see semirings.ts), register-tiled over j: a tile of 4, 3, 2 or 1
// lane values of j keeps its accumulators in registers while i runs over the K rows (three lane values
// left, as at 9 to 12 tags, run as one tile rather than 2 + 1: one pass over the rows instead of two).
// Only the K real rows are read; the padded ones would only add the semiring's zero.

import { ld, splat, st, W } from './lanes';
import { numTags, paddedTags, rowBytes } from './tables';

/**
 * One tile: `n` lane values of j (a constant 1 to 4 at each call, so that after inlining the unused
 * accumulators and their branches fold away and each width compiles to its own straight loop).
 */
@inline function tile<L, S>(sr: S, n: i32, inp: usize, M: usize, out: usize, mx: usize, K: i32, row: usize): void {
  const b = <usize>W<L>() << 2;
  let a0 = sr.accStart<L>(), a1 = a0, a2 = a0, a3 = a0;
  let m0 = a0, m1 = a0, m2 = a0, m3 = a0;
  if (sr.accumulateNeedsShift()) {
    m0 = ld<L>(mx);
    if (n > 1) m1 = ld<L>(mx + b);
    if (n > 2) m2 = ld<L>(mx + <usize>2 * b);
    if (n > 3) m3 = ld<L>(mx + <usize>3 * b);
  }
  let r = M;
  for (let i = 0; i < K; i++) {
    const a = splat<L>(load<f32>(inp + (<usize>i << 2)));
    a0 = sr.accumulate<L>(a0, a, ld<L>(r), m0);
    if (n > 1) a1 = sr.accumulate<L>(a1, a, ld<L>(r + b), m1);
    if (n > 2) a2 = sr.accumulate<L>(a2, a, ld<L>(r + <usize>2 * b), m2);
    if (n > 3) a3 = sr.accumulate<L>(a3, a, ld<L>(r + <usize>3 * b), m3);
    r += row;
  }
  st<L>(out, a0);
  if (n > 1) st<L>(out + b, a1);
  if (n > 2) st<L>(out + <usize>2 * b, a2);
  if (n > 3) st<L>(out + <usize>3 * b, a3);
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
  for (; q + 4 <= nb; q += 4) tile<L, S>(sr, 4, inp, M + <usize>q * b, out + <usize>q * b, mx + <usize>q * b, K, row);
  if (q + 3 == nb) { tile<L, S>(sr, 3, inp, M + <usize>q * b, out + <usize>q * b, mx + <usize>q * b, K, row); return; }
  for (; q + 2 <= nb; q += 2) tile<L, S>(sr, 2, inp, M + <usize>q * b, out + <usize>q * b, mx + <usize>q * b, K, row);
  for (; q < nb; q++) tile<L, S>(sr, 1, inp, M + <usize>q * b, out + <usize>q * b, mx + <usize>q * b, K, row);
}
