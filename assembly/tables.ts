// The per-call parameter tables: built once by `setup` from the raw potentials the JS side writes, read
// by every op. Rows are padded to Kp = K rounded up to 4 floats so that every row starts 16-byte aligned
// and a lane never straddles rows; padded entries are the semiring's zero (−∞ in log space, 0 in linear
// space), so they never contribute.
//
// They are module globals, not fields of a struct: AssemblyScript reads a global with one `global.get`
// that the optimiser can hoist, where a field would be a memory load through a pointer in every inner
// loop. Each is written only by `setup`. Addresses are byte offsets into linear memory; matrices are
// Kp×Kp f32, row-major, `…T` the transpose ([to][from], for backward passes).

/** K: the number of tags. */
export let numTags: i32 = 0;
/** Kp: K rounded up to a multiple of 4, the width of every padded row. */
export let paddedTags: i32 = 0;
/** Bytes per padded row (4·Kp). */
export let rowBytes: usize = 0;
/** trans[from][to] in log space, −∞ padded: Viterbi's and the log-space fallback's matrix. */
export let transLog: usize = 0;
/** transLog transposed: the backward passes' matrix, and Viterbi's backtrace reads a row of it per step. */
export let transLogT: usize = 0;
/** exp(trans − transShift), 0 padded: the scaled linear-space matrix. */
export let transExp: usize = 0;
/** transExp transposed, for linear-space backward passes. */
export let transExpT: usize = 0;
/** start potentials in log space, one row, −∞ padded. */
export let startLog: usize = 0;
/** end potentials in log space, one row, −∞ padded. */
export let endLog: usize = 0;
/** exp(start − startShift): the linear-space forward pass's step-0 state. */
export let startExp: usize = 0;
/** exp(end − endShift): the linear-space backward pass's step-0 state and the forward pass's closing sum. */
export let endExp: usize = 0;
/** One row of i32 lane masks, all ones for j < K and 0 in the padding: emission rows are only K wide. */
export let tagLanes: usize = 0;
/** The entropy semiring's step-0 state (three rows): start in log space, then Kp zero entropies in f64. */
export let entropyInit: usize = 0;
/** The largest finite transition, taken out of transExp so that exp cannot overflow: log Z adds it back once per step. */
export let transShift: f64 = 0;
/** The largest finite start potential, taken out of startExp. */
export let startShift: f64 = 0;
/** The largest finite end potential, taken out of endExp. */
export let endShift: f64 = 0;
/**
 * Some start, end or transition is −∞ (a constraint): not every tag is reachable at every step, so
 * `supportCounts` must walk the pattern instead of answering K everywhere.
 */
export let hasForbidden: bool = false;

/** Kp for K tags: rows padded to whole 4-float lanes. */
export function padK(K: i32): i32 {
  return (K + 3) & ~3;
}

/** Bytes of the tables, in f64 so that the JS side can check a call's size before anything wraps. */
export function tableBytes(K: i32): f64 {
  const Kp = <f64>padK(K);
  return (4 * Kp * Kp + 8 * Kp) * 4;
}

/** The largest of n f32s other than −∞: the shift that keeps exp of the potentials in range. */
function finiteMax(p: usize, n: i32): f64 {
  let m = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = <f64>load<f32>(p + (<usize>i << 2));
    if (v > m) m = v;
  }
  // All −∞: any shift works, and 0 keeps exp(−∞ − 0) = 0 instead of NaN.
  return m == -Infinity ? 0 : m;
}

/** exp(x − c) in f64, rounded once; exactly 0 for a forbidden (−∞) entry. */
function expShift(x: f32, c: f64): f32 {
  return x == -Infinity ? 0 : <f32>Math.exp(<f64>x - c);
}

/**
 * Builds the tables at `tab` from f32 start[K], end[K], trans[K*K] (row-major from→to; −∞ forbidden).
 * exp is taken in f64 here (K² per call) so the matrices carry no approximation error.
 */
export function setup(K: i32, start: usize, end: usize, trans: usize, tab: usize): void {
  const Kp = padK(K);
  numTags = K;
  paddedTags = Kp;
  rowBytes = <usize>Kp << 2;
  const sq = <usize>(Kp * Kp) << 2;
  transLog = tab;
  transLogT = transLog + sq;
  transExp = transLogT + sq;
  transExpT = transExp + sq;
  startLog = transExpT + sq;
  endLog = startLog + rowBytes;
  startExp = endLog + rowBytes;
  endExp = startExp + rowBytes;
  tagLanes = endExp + rowBytes;
  entropyInit = tagLanes + rowBytes;
  transShift = finiteMax(trans, K * K);
  startShift = finiteMax(start, K);
  endShift = finiteMax(end, K);
  let neg = false;
  for (let i = 0; i < Kp; i++) {
    for (let j = 0; j < Kp; j++) {
      const inside = i < K && j < K;
      const t = inside ? load<f32>(trans + (<usize>(i * K + j) << 2)) : -Infinity;
      if (inside && t == -Infinity) neg = true;
      const e = expShift(t, transShift);
      store<f32>(transLog + (<usize>(i * Kp + j) << 2), t);
      store<f32>(transLogT + (<usize>(j * Kp + i) << 2), t);
      store<f32>(transExp + (<usize>(i * Kp + j) << 2), e);
      store<f32>(transExpT + (<usize>(j * Kp + i) << 2), e);
    }
  }
  for (let j = 0; j < Kp; j++) {
    const s = j < K ? load<f32>(start + (<usize>j << 2)) : -Infinity;
    const e = j < K ? load<f32>(end + (<usize>j << 2)) : -Infinity;
    if (j < K && (s == -Infinity || e == -Infinity)) neg = true;
    const o = <usize>j << 2;
    store<f32>(startLog + o, s);
    store<f32>(endLog + o, e);
    store<f32>(startExp + o, expShift(s, startShift));
    store<f32>(endExp + o, expShift(e, endShift));
    store<i32>(tagLanes + o, j < K ? -1 : 0);
    store<f32>(entropyInit + o, s);
    store<f64>(entropyInit + rowBytes + (<usize>j << 3), 0);
  }
  hasForbidden = neg;
}

/** Bytes of supportCounts' `sets` for K tags: two sets of one byte per padded tag. */
@inline export function supportSetsBytes(K: i32): f64 {
  return 2 * <f64>padK(K);
}

/**
 * How many tags can carry mass at each step, from the potentials' −∞ pattern alone (a −∞ emission, from
 * a partial annotation, only makes a step carry less: its check fails and the sequence runs in log space):
 * forward, cnt[s] = |reachable from an allowed start in s steps|; backward (`back`), the tags that reach
 * an allowed end in s steps. The scaled linear-space pass compares against these to tell a structural
 * zero from an underflow. The sets are a deterministic function of the previous set, so the loop stops
 * at the first fixed point. `sets` holds supportSetsBytes.
 */
export function supportCounts(T: i32, cnt: usize, back: bool, sets: usize): void {
  const K = numTags;
  if (!hasForbidden) {
    for (let s = 0; s < T; s++) store<i32>(cnt + (<usize>s << 2), K);
    return;
  }
  const Kp = paddedTags;
  let cur = sets, nxt = sets + <usize>Kp;
  const init = back ? endLog : startLog;
  const M = back ? transLogT : transLog; // M[i][j]: i → j in the direction of travel
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
