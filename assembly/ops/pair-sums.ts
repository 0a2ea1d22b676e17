// The pair sums behind posteriors' expected transition counts, G[i][j] += Σ_s (pair term at step s),
// in the two spaces posteriors runs in. Both accumulate at most FLUSH steps in f32 registers or rows
// before adding to the f64 G, so long sequences lose no digits to one f32 running sum.

import { add, ld, mul, replaceEq, splat, st, sub, vexp, W } from '../lanes';
import { numTags, paddedTags, rowBytes, transLog } from '../tables';

/** Steps per f32 accumulation before the pair sums are flushed to f64. */
const FLUSH = 256;

/**
 * Linear space: G[i][j] += Σ_{s=1}^{len−1} AH[s−1][i]·V[s][j] (the pair marginals are then E ⊙ G, so
 * the exp(trans) factor is applied once per call, not per step), register tiled: two rows i at a
 * time, and over j tiles of 4 lane values, then one of the 3, 2 or 1 left; each (i, j) is summed over
 * s in step order whatever its tile. AH[s][i] is at `AH + s·rs + i·ts` (rows, or a group's lanes); V is in rows.
 */
export function pairGemm<L>(AH: usize, rs: usize, ts: usize, V: usize, len: i32, G: usize): void {
  const K = numTags;
  const nb = paddedTags / W<L>();
  for (let s0 = 1; s0 < len; s0 += FLUSH) {
    const s1 = min(len, s0 + FLUSH);
    // Two rows of G at a time: each V load feeds both, each splat a tile.
    let i = 0;
    for (; i + 2 <= K; i += 2) {
      const pa0 = AH + <usize>(s0 - 1) * rs + <usize>i * ts;
      let q = 0;
      for (; q + 4 <= nb; q += 4) pairTile<L>(2, 4, pa0, ts, rs, V, s0, s1, q, G, i);
      const left = nb - q;
      if (left == 3) pairTile<L>(2, 3, pa0, ts, rs, V, s0, s1, q, G, i);
      else if (left == 2) pairTile<L>(2, 2, pa0, ts, rs, V, s0, s1, q, G, i);
      else if (left == 1) pairTile<L>(2, 1, pa0, ts, rs, V, s0, s1, q, G, i);
    }
    if (i < K) {
      const pa0 = AH + <usize>(s0 - 1) * rs + <usize>i * ts;
      let q = 0;
      for (; q + 4 <= nb; q += 4) pairTile<L>(1, 4, pa0, ts, rs, V, s0, s1, q, G, i);
      const left = nb - q;
      if (left == 3) pairTile<L>(1, 3, pa0, ts, rs, V, s0, s1, q, G, i);
      else if (left == 2) pairTile<L>(1, 2, pa0, ts, rs, V, s0, s1, q, G, i);
      else if (left == 1) pairTile<L>(1, 1, pa0, ts, rs, V, s0, s1, q, G, i);
    }
  }
}

/**
 * Rows i … i+m−1 of G (m a constant 1 or 2), lane values q … q+n−1 (n a constant 1 … 4), over steps
 * [s0, s1), kept in registers. Row i's forward values are at `pa0 + (s − s0)·rs`, row i+1's `ts` after.
 */
@inline function pairTile<L>(m: i32, n: i32, pa0: usize, ts: usize, rs: usize, V: usize, s0: i32, s1: i32, q: i32, G: usize, i: i32): void {
  const row = rowBytes, bb = <usize>W<L>() << 2;
  let a0 = splat<L>(0), a1 = a0, a2 = a0, a3 = a0;
  let c0 = a0, c1 = a0, c2 = a0, c3 = a0;
  let pa = pa0, pv = V + <usize>s0 * row + <usize>q * bb;
  for (let s = s0; s < s1; s++) {
    const a = splat<L>(load<f32>(pa));
    const v0 = ld<L>(pv);
    a0 = add<L>(a0, mul<L>(a, v0));
    if (m > 1) {
      const c = splat<L>(load<f32>(pa + ts));
      c0 = add<L>(c0, mul<L>(c, v0));
      if (n > 1) { const v1 = ld<L>(pv + bb); a1 = add<L>(a1, mul<L>(a, v1)); c1 = add<L>(c1, mul<L>(c, v1)); }
      if (n > 2) { const v2 = ld<L>(pv + 2 * bb); a2 = add<L>(a2, mul<L>(a, v2)); c2 = add<L>(c2, mul<L>(c, v2)); }
      if (n > 3) { const v3 = ld<L>(pv + 3 * bb); a3 = add<L>(a3, mul<L>(a, v3)); c3 = add<L>(c3, mul<L>(c, v3)); }
    } else {
      if (n > 1) a1 = add<L>(a1, mul<L>(a, ld<L>(pv + bb)));
      if (n > 2) a2 = add<L>(a2, mul<L>(a, ld<L>(pv + 2 * bb)));
      if (n > 3) a3 = add<L>(a3, mul<L>(a, ld<L>(pv + 3 * bb)));
    }
    pa += rs;
    pv += row;
  }
  const gb = <usize>W<L>() << 3;
  const gi = G + (<usize>(i * paddedTags + q * W<L>()) << 3);
  flush<L>(gi, a0);
  if (n > 1) flush<L>(gi + gb, a1);
  if (n > 2) flush<L>(gi + 2 * gb, a2);
  if (n > 3) flush<L>(gi + 3 * gb, a3);
  if (m > 1) {
    const gc = gi + (<usize>paddedTags << 3);
    flush<L>(gc, c0);
    if (n > 1) flush<L>(gc + gb, c1);
    if (n > 2) flush<L>(gc + 2 * gb, c2);
    if (n > 3) flush<L>(gc + 3 * gb, c3);
  }
}

/** Adds the lanes of v to four (or one) consecutive f64s. */
@inline function flush<L>(g: usize, v: L): void {
  if (isVector<L>()) {
    store<f64>(g, load<f64>(g) + <f64>f32x4.extract_lane(v, 0));
    store<f64>(g + 8, load<f64>(g + 8) + <f64>f32x4.extract_lane(v, 1));
    store<f64>(g + 16, load<f64>(g + 16) + <f64>f32x4.extract_lane(v, 2));
    store<f64>(g + 24, load<f64>(g + 24) + <f64>f32x4.extract_lane(v, 3));
  } else {
    store<f64>(g, load<f64>(g) + <f64>(v as f32));
  }
}

/**
 * Log space: ACC[i][j] += exp(AH[s−1][i] + trans[i][j] + V[s][j]) step by step (no factorisation
 * survives the log), flushed to the f64 G every FLUSH steps.
 */
export function pairLog<L>(AH: usize, AT: usize, V: usize, len: i32, G: usize, ACC: usize): void {
  const K = numTags, Kp = paddedTags, row = rowBytes;
  const bb = <usize>W<L>() << 2;
  const n = <usize>Kp << 2;
  memory.fill(ACC, 0, <usize>Kp * row);
  for (let s = 1; s < len; s++) {
    const pa = AH + <usize>(s - 1) * row;
    const pp = AT + <usize>s * row;
    const pv = V + <usize>s * row;
    for (let i = 0; i < K; i++) {
      const a = splat<L>(load<f32>(pa + (<usize>i << 2)));
      const acc = ACC + <usize>i * row;
      const t = transLog + <usize>i * row;
      for (let o: usize = 0; o < n; o += bb) {
        // pre is −∞ only where every α + trans is, and V is −∞ there too: a shift of 0 keeps
        // −∞ − −∞ (NaN) out.
        const cond = sub<L>(add<L>(a, ld<L>(t + o)), replaceEq<L>(ld<L>(pp + o), -Infinity, 0));
        st<L>(acc + o, add<L>(ld<L>(acc + o), vexp<L>(add<L>(cond, ld<L>(pv + o)))));
      }
    }
    if (s % FLUSH == 0 || s == len - 1) {
      for (let i = 0; i < K; i++) {
        for (let j = 0; j < K; j++) {
          const g = G + (<usize>(i * Kp + j) << 3);
          const c = ACC + <usize>i * row + (<usize>j << 2);
          store<f64>(g, load<f64>(g) + <f64>load<f32>(c));
          store<f32>(c, 0);
        }
      }
    }
  }
}
