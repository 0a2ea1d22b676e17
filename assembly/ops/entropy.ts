// entropy: log Z and H(y | x) per sequence, from the entropy semiring's forward recursion.

import { chain } from '../chain';
import { ENTROPY, Entropy } from '../semirings';
import { endLog, entropyInit, numTags, rowBytes, transLog } from '../tables';
import { OP_ENTROPY, opArea, scratchRows, workBytes } from './work-area';

/**
 * Log space only: it is the robust form, and entropy is not on a training hot path. The closing sum
 * with the end potentials is the semiring's own ⊕, in f64.
 */
function entropyL<L>(B: i32, T: i32, em: usize, lens: usize, logZ: usize, ent: usize, work: usize): void {
  const K = numTags, row = rowBytes;
  const seq = <usize>T * <usize>K << 2;
  for (let b = 0; b < B; b++) {
    const len = load<i32>(lens + (<usize>b << 2));
    const zo = logZ + (<usize>b << 3), ho = ent + (<usize>b << 3);
    store<f64>(zo, 0);
    store<f64>(ho, 0);
    if (len == 0) continue;
    const r = chain<L, Entropy>(ENTROPY, em + <usize>b * seq, <isize>K << 2, len, transLog, entropyInit, opArea(work, T), false, 0, 0, scratchRows(work, T));
    const d = r.logScale;
    if (d == -Infinity) { store<f64>(zo, -Infinity); continue; }
    const x = r.last, h = r.last + row;
    let m = -Infinity;
    let arg = -1;
    for (let j = 0; j < K; j++) {
      const v = <f64>load<f32>(x + (<usize>j << 2)) + <f64>load<f32>(endLog + (<usize>j << 2));
      if (v > m) { m = v; arg = j; }
    }
    if (m == -Infinity) { store<f64>(zo, -Infinity); continue; }
    let rest: f64 = 0, hs: f64 = 0;
    for (let j = 0; j < K; j++) {
      const v = <f64>load<f32>(x + (<usize>j << 2)) + <f64>load<f32>(endLog + (<usize>j << 2));
      if (v == -Infinity) continue;
      const e = Math.exp(v - m);
      if (j != arg) rest += e;
      hs += e * (load<f64>(h + (<usize>j << 3)) + (m - v));
    }
    const l = Math.log1p(rest);
    store<f64>(zo, d + m + l);
    store<f64>(ho, hs / (1 + rest) + l);
  }
}

/** log Z [B] and entropies [B] (f64; both 0 for a length of 0, log Z −∞ where no path is allowed). */
export function entropy(B: i32, T: i32, em: usize, lens: usize, logZ: usize, ent: usize, work: usize): void {
  if (ASC_FEATURE_SIMD) entropyL<v128>(B, T, em, lens, logZ, ent, work);
  else entropyL<f32>(B, T, em, lens, logZ, ent, work);
}

/** Bytes of the work area entropy needs for sequences of up to T steps (k: the list size, else 0). */
export function entropyWorkBytes(T: i32, K: i32, k: i32): f64 {
  return workBytes(OP_ENTROPY, T, K, k);
}
