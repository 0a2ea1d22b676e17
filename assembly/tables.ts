// Per-call parameter tables, built once from the raw potentials the JS side writes. Rows are padded to
// Kp = K rounded up to 4 floats so that every row starts 16-byte aligned and a lane never straddles
// rows; padded entries are the semiring's zero (−∞ in log space, 0 in linear space), so they never
// contribute.

export let gK: i32 = 0;
export let gKp: i32 = 0;
/** Bytes per padded row. */
export let gRow: usize = 0;
/** log-space transitions [from][to] and transposed [to][from]. */
export let gTL: usize = 0;
export let gTLt: usize = 0;
/** exp(trans − c) and transposed: the scaled linear-space matrices. */
export let gE: usize = 0;
export let gEt: usize = 0;
/** start, end in log space (−∞ padded) and exp(start − cs), exp(end − ce). */
export let gSL: usize = 0;
export let gEL: usize = 0;
export let gSX: usize = 0;
export let gEX: usize = 0;
/** i32 lane masks: all ones for j < K, 0 for the padding. */
export let gLM: usize = 0;
/** The entropy semiring's step-0 state: start in log space, then a row of zero entropies. */
export let gSH: usize = 0;
export let gC: f64 = 0;
export let gCS: f64 = 0;
export let gCE: f64 = 0;
/** Some start, end or transition is −∞: not every tag is reachable at every step. */
export let gNegInf: bool = false;

export function padK(K: i32): i32 {
  return (K + 3) & ~3;
}

/** Bytes of the tables, in f64 so that the JS side can check a call's size before anything wraps. */
export function tableBytes(K: i32): f64 {
  const Kp = <f64>padK(K);
  return (4 * Kp * Kp + 7 * Kp) * 4;
}

function finiteMax(p: usize, n: i32): f64 {
  let m = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = <f64>load<f32>(p + (<usize>i << 2));
    if (v > m) m = v;
  }
  // All −∞: any shift works, and 0 keeps exp(−∞ − 0) = 0 instead of NaN.
  return m == -Infinity ? 0 : m;
}

function expShift(x: f32, c: f64): f32 {
  return x == -Infinity ? 0 : <f32>Math.exp(<f64>x - c);
}

/**
 * Builds the tables at `tab` from f32 start[K], end[K], trans[K*K] (row-major from→to; −∞ forbidden).
 * exp is taken in f64 here (K² per call) so the matrices carry no approximation error.
 */
export function setup(K: i32, start: usize, end: usize, trans: usize, tab: usize): void {
  const Kp = padK(K);
  gK = K;
  gKp = Kp;
  gRow = <usize>Kp << 2;
  const sq = <usize>(Kp * Kp) << 2;
  gTL = tab;
  gTLt = gTL + sq;
  gE = gTLt + sq;
  gEt = gE + sq;
  gSL = gEt + sq;
  gEL = gSL + gRow;
  gSX = gEL + gRow;
  gEX = gSX + gRow;
  gLM = gEX + gRow;
  gSH = gLM + gRow;
  gC = finiteMax(trans, K * K);
  gCS = finiteMax(start, K);
  gCE = finiteMax(end, K);
  let neg = false;
  for (let i = 0; i < Kp; i++) {
    for (let j = 0; j < Kp; j++) {
      const inside = i < K && j < K;
      const t = inside ? load<f32>(trans + (<usize>(i * K + j) << 2)) : -Infinity;
      if (inside && t == -Infinity) neg = true;
      const e = expShift(t, gC);
      store<f32>(gTL + (<usize>(i * Kp + j) << 2), t);
      store<f32>(gTLt + (<usize>(j * Kp + i) << 2), t);
      store<f32>(gE + (<usize>(i * Kp + j) << 2), e);
      store<f32>(gEt + (<usize>(j * Kp + i) << 2), e);
    }
  }
  for (let j = 0; j < Kp; j++) {
    const s = j < K ? load<f32>(start + (<usize>j << 2)) : -Infinity;
    const e = j < K ? load<f32>(end + (<usize>j << 2)) : -Infinity;
    if (j < K && (s == -Infinity || e == -Infinity)) neg = true;
    const o = <usize>j << 2;
    store<f32>(gSL + o, s);
    store<f32>(gEL + o, e);
    store<f32>(gSX + o, expShift(s, gCS));
    store<f32>(gEX + o, expShift(e, gCE));
    store<i32>(gLM + o, j < K ? -1 : 0);
    store<f32>(gSH + o, s);
    store<f32>(gSH + gRow + o, 0);
  }
  gNegInf = neg;
}

/**
 * How many tags can carry mass at each step, from the −∞ pattern alone (emissions are finite):
 * forward, cnt[s] = |reachable from an allowed start in s steps|; backward (`back`), the tags that reach
 * an allowed end in s steps. The scaled linear-space pass compares against these to tell a structural
 * zero from an underflow. The sets are a deterministic function of the previous set, so the loop stops
 * at the first fixed point. `scratch` holds 2·Kp bytes.
 */
export function supportCounts(T: i32, cnt: usize, back: bool, scratch: usize): void {
  const K = gK;
  if (!gNegInf) {
    for (let s = 0; s < T; s++) store<i32>(cnt + (<usize>s << 2), K);
    return;
  }
  const Kp = gKp;
  let cur = scratch, nxt = scratch + <usize>Kp;
  const init = back ? gEL : gSL;
  const M = back ? gTLt : gTL; // M[i][j]: i → j in the direction of travel
  let n = 0;
  for (let j = 0; j < K; j++) {
    const ok = load<f32>(init + (<usize>j << 2)) != -Infinity;
    store<u8>(cur + <usize>j, <u8>ok);
    n += i32(ok);
  }
  store<i32>(cnt, n);
  let s = 1;
  for (; s < T; s++) {
    let changed = false;
    n = 0;
    for (let j = 0; j < K; j++) {
      let ok = false;
      for (let i = 0; i < K && !ok; i++) {
        ok = load<u8>(cur + <usize>i) != 0 && load<f32>(M + (<usize>(i * Kp + j) << 2)) != -Infinity;
      }
      if (ok != (load<u8>(cur + <usize>j) != 0)) changed = true;
      store<u8>(nxt + <usize>j, <u8>ok);
      n += i32(ok);
    }
    store<i32>(cnt + (<usize>s << 2), n);
    const t = cur; cur = nxt; nxt = t;
    if (!changed) break;
  }
  for (; s < T; s++) store<i32>(cnt + (<usize>s << 2), n);
}
