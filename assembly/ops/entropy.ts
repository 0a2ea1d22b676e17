// entropy: log Z and H(y | x) per sequence, from the entropy semiring's forward recursion.

import { chain, chainStateRows, chainWorkRows } from '../chain';
import { ENTROPY, Entropy } from '../semirings';
import { endLog, entropyInit, numTags, rowBytes, transLog } from '../tables';
import { layoutEnd, layoutFrom, rows, section } from './work-area';

/** entropy's work area: where `layout` put each section. */
@final @unmanaged class Area {
  /** The chain's work rows. */
  workRows!: usize;
  /** The chain's two alternating states. */
  states!: usize;
}

const AREA = changetype<Area>(memory.data(offsetof<Area>(), 8));

/** Lays out entropy's work area for up to T steps of K tags from `base` into AREA; returns its end. */
function layout(base: usize, T: i32, K: i32): f64 {
  layoutFrom(base);
  AREA.workRows = section(rows(K, chainWorkRows(ENTROPY)));
  AREA.states = section(rows(K, chainStateRows(ENTROPY, T, false)));
  return layoutEnd();
}

/**
 * Log space only: it is the robust form, and entropy is not on a training hot path. The closing sum
 * with the end potentials is the semiring's own ⊕, in f64.
 */
function entropyL<L>(B: i32, T: i32, em: usize, lens: usize, logZ: usize, ent: usize, work: usize): void {
  const K = numTags, row = rowBytes;
  layout(work, T, K);
  const seq = <usize>T * <usize>K << 2;
  for (let b = 0; b < B; b++) {
    const len = load<i32>(lens + (<usize>b << 2));
    const zo = logZ + (<usize>b << 3), ho = ent + (<usize>b << 3);
    store<f64>(zo, 0);
    store<f64>(ho, 0);
    if (len == 0) continue;
    const r = chain<L, Entropy>(ENTROPY, em + <usize>b * seq, <isize>K << 2, len, transLog, entropyInit, AREA.states, false, 0, 0, AREA.workRows);
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

/** Bytes of entropy's work area for sequences of up to T steps of K tags (n: unused, 0). */
export function entropyWorkBytes(T: i32, K: i32, n: i32): f64 {
  return layout(0, T, K);
}
