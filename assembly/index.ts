// webcrf kernels. The JS side (src/backends/wasm.ts) owns the memory layout: it writes the raw
// potentials, emissions [B,T,K] (f32, unpadded rows) and lengths [B] at offsets of its choosing, calls
// `setup` then one op with the offsets of its outputs and of a work area of `workBytes(...)` bytes.
// Each op dispatches at compile time to the SIMD (v128 lanes) or scalar (f32 lanes) instantiation.

import { chain } from './chain';
import { Entropy, ENTROPY, Linear, LINEAR, LogSum, LOGSUM, MaxPlus, MAXPLUS, THRESHOLD } from './semirings';
import { add as addL, ld, mul as mulL, replaceEq, splat as splatF, st, sub as subL, vexp, vlog, W } from './lanes';
import {
  transShift, endShift, startShift, transExp, endLog, endExp, transExpT, numTags, paddedTags, rowBytes, entropyInit, startLog, startExp, transLog, transLogT, padK, supportCounts,
} from './tables';

export { setup, tableBytes } from './tables';

export const OP_LOG_PARTITION = 0;
export const OP_VITERBI = 1;
export const OP_POSTERIORS = 2;
export const OP_KBEST = 3;
export const OP_ENTROPY = 4;

/** Sequences that fell back from scaled linear space to log space (tests check both paths run). */
let fallbacks: i32 = 0;

export function logSpaceFallbacks(): i32 {
  return fallbacks;
}

/** First free byte after the module's own data: the JS layout starts here. */
export function heapBase(): usize {
  return __heap_base;
}

@inline function a16(n: usize): usize {
  return (n + 15) & ~<usize>15;
}

/** Rows of scratch every op gets: a chain needs a two-row state and the entropy semiring's three more. */
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
  if (op == OP_LOG_PARTITION) return head + 2 * row;
  if (op == OP_VITERBI) return head + t * row;
  if (op == OP_POSTERIORS) return head + 4 * t * row + sq * 12;
  if (op == OP_ENTROPY) return head + 4 * row;
  return head + 3 * t * row * <f64>k;
}

// Work-area sections shared by all ops.
@inline function cntF(work: usize, T: i32): usize { return work; }
@inline function cntB(work: usize, T: i32): usize { return work + a16(<usize>T << 2); }
@inline function scratch(work: usize, T: i32): usize { return work + <usize>2 * a16(<usize>T << 2); }
@inline function bits(work: usize, T: i32): usize { return scratch(work, T) + <usize>SCRATCH_ROWS * rowBytes; }
@inline function body(work: usize, T: i32): usize { return bits(work, T) + <usize>2 * rowBytes; }

/** log Σ_j exp(row[j] + end[j]) over the K tags, in f64 (−∞ when all terms are). */
function logSumEnd(row: usize): f64 {
  let m = -Infinity;
  for (let j = 0; j < numTags; j++) {
    const v = <f64>load<f32>(row + (<usize>j << 2)) + <f64>load<f32>(endLog + (<usize>j << 2));
    if (v > m) m = v;
  }
  if (m == -Infinity) return m;
  let s: f64 = 0;
  for (let j = 0; j < numTags; j++) {
    s += Math.exp(<f64>load<f32>(row + (<usize>j << 2)) + <f64>load<f32>(endLog + (<usize>j << 2)) - m);
  }
  return m + Math.log(s);
}

/** Σ_j row[j]·exp(end[j] − ce) in f64: the linear-space closing sum. */
function sumEnd(row: usize): f64 {
  let s: f64 = 0;
  for (let j = 0; j < numTags; j++) s += <f64>load<f32>(row + (<usize>j << 2)) * <f64>load<f32>(endExp + (<usize>j << 2));
  return s;
}

/**
 * log Z of one sequence: scaled linear space first; when a check fails (something would underflow),
 * log space. Returns −∞ when no path is allowed. `post` needs two rows.
 */
@inline function logZOne<L>(e: usize, len: i32, cnt: usize, post: usize, scr: usize): f64 {
  const K4 = <isize>numTags << 2;
  const r = chain<L, Linear>(LINEAR, e, K4, len, transExp, startExp, post, false, 0, cnt, scr);
  const d = r.logScale;
  if (!isNaN(d)) {
    const S = sumEnd(r.last);
    if (S >= <f64>THRESHOLD) return d + startShift + <f64>(len - 1) * transShift + Math.log(S) + endShift;
  }
  fallbacks++;
  const rl = chain<L, LogSum>(LOGSUM, e, K4, len, transLog, startLog, post, false, 0, 0, scr);
  if (rl.logScale == -Infinity) return -Infinity;
  return rl.logScale + logSumEnd(rl.last);
}

function logPartitionL<L>(B: i32, T: i32, em: usize, lens: usize, out: usize, work: usize): void {
  supportCounts(T, cntF(work, T), false, bits(work, T));
  const seq = <usize>T * <usize>numTags << 2;
  for (let b = 0; b < B; b++) {
    const len = load<i32>(lens + (<usize>b << 2));
    const z = len == 0 ? 0 : logZOne<L>(em + <usize>b * seq, len, cntF(work, T), body(work, T), scratch(work, T));
    store<f64>(out + (<usize>b << 3), z);
  }
}

export function logPartition(B: i32, T: i32, em: usize, lens: usize, out: usize, work: usize): void {
  if (ASC_FEATURE_SIMD) logPartitionL<v128>(B, T, em, lens, out, work);
  else logPartitionL<f32>(B, T, em, lens, out, work);
}

/**
 * Viterbi. The forward max-plus pass keeps every step's (normalised) α; the backtrace recomputes each
 * backpointer as the first i maximising α_{s−1}[i] + trans[i][y_s] — the same f32 sums the forward pass
 * maximised, so it is the backpointer that pass would have stored (first index on ties, as the js
 * backend and pytorch-crf), for K operations per step instead of storing K per step.
 */
function viterbiL<L>(B: i32, T: i32, em: usize, lens: usize, paths: usize, scores: usize, work: usize): void {
  const K = numTags, row = rowBytes;
  const seq = <usize>T * <usize>K << 2;
  const AH = body(work, T);
  memory.fill(paths, 0, <usize>B * <usize>T << 2);
  for (let b = 0; b < B; b++) {
    const len = load<i32>(lens + (<usize>b << 2));
    const so = scores + (<usize>b << 3);
    if (len == 0) { store<f64>(so, 0); continue; }
    const d = chain<L, MaxPlus>(MAXPLUS, em + <usize>b * seq, <isize>K << 2, len, transLog, startLog, AH, true, 0, 0, scratch(work, T)).logScale;
    if (d == -Infinity) { store<f64>(so, -Infinity); continue; }
    const last = AH + <usize>(len - 1) * row;
    let best: f32 = -Infinity;
    let y = 0;
    for (let j = 0; j < K; j++) {
      const v = load<f32>(last + (<usize>j << 2)) + load<f32>(endLog + (<usize>j << 2));
      if (v > best) { best = v; y = j; }
    }
    if (best == -Infinity) { store<f64>(so, -Infinity); continue; }
    store<f64>(so, d + <f64>best);
    const pb = paths + (<usize>b * <usize>T << 2);
    for (let s = len - 1; s >= 0; s--) {
      store<i32>(pb + (<usize>s << 2), y);
      if (s == 0) break;
      const a = AH + <usize>(s - 1) * row;
      const t = transLogT + <usize>y * row;
      let m: f32 = -Infinity;
      let arg = 0;
      for (let i = 0; i < K; i++) {
        const v = load<f32>(a + (<usize>i << 2)) + load<f32>(t + (<usize>i << 2));
        if (v > m) { m = v; arg = i; }
      }
      y = arg;
    }
  }
}

export function viterbi(B: i32, T: i32, em: usize, lens: usize, paths: usize, scores: usize, work: usize): void {
  if (ASC_FEATURE_SIMD) viterbiL<v128>(B, T, em, lens, paths, scores, work);
  else viterbiL<f32>(B, T, em, lens, paths, scores, work);
}

/** Steps per f32 accumulation before the pair sums are flushed to f64. */
const FLUSH = 256;

/**
 * G[i][j] += Σ_{s=1}^{len−1} AH[s−1][i]·V[s][j] (linear space: the pair marginals are E ⊙ G), register
 * tiled over j, accumulating ≤ FLUSH steps in f32 before adding to the f64 G.
 */
function pairGemm<L>(AH: usize, V: usize, len: i32, G: usize): void {
  const K = numTags, row = rowBytes;
  const nb = paddedTags / W<L>();
  const bb = <usize>W<L>() << 2;
  for (let s0 = 1; s0 < len; s0 += FLUSH) {
    const s1 = min(len, s0 + FLUSH);
    for (let i = 0; i < K; i++) {
      const gi = G + (<usize>(i * paddedTags) << 3);
      const pa0 = AH + <usize>(s0 - 1) * row + (<usize>i << 2);
      const pv0 = V + <usize>s0 * row;
      let q = 0;
      for (; q + 2 <= nb; q += 2) {
        let a0 = splat0<L>(), a1 = splat0<L>();
        let pa = pa0, pv = pv0 + <usize>q * bb;
        for (let s = s0; s < s1; s++) {
          const a = splatF<L>(load<f32>(pa));
          a0 = addL<L>(a0, mulL<L>(a, ld<L>(pv)));
          a1 = addL<L>(a1, mulL<L>(a, ld<L>(pv + bb)));
          pa += row;
          pv += row;
        }
        flush<L>(gi + (<usize>(q * W<L>()) << 3), a0);
        flush<L>(gi + (<usize>((q + 1) * W<L>()) << 3), a1);
      }
      if (q < nb) {
        let a0 = splat0<L>();
        let pa = pa0, pv = pv0 + <usize>q * bb;
        for (let s = s0; s < s1; s++) {
          a0 = addL<L>(a0, mulL<L>(splatF<L>(load<f32>(pa)), ld<L>(pv)));
          pa += row;
          pv += row;
        }
        flush<L>(gi + (<usize>(q * W<L>()) << 3), a0);
      }
    }
  }
}

@inline function splat0<L>(): L { return splatF<L>(0); }

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
function pairLog<L>(AH: usize, AT: usize, V: usize, len: i32, G: usize, ACC: usize): void {
  const K = numTags, Kp = paddedTags, row = rowBytes;
  const bb = <usize>W<L>() << 2;
  const n = <usize>Kp << 2;
  memory.fill(ACC, 0, <usize>Kp * row);
  for (let s = 1; s < len; s++) {
    const pa = AH + <usize>(s - 1) * row;
    const pp = AT + <usize>s * row;
    const pv = V + <usize>s * row;
    for (let i = 0; i < K; i++) {
      const a = splatF<L>(load<f32>(pa + (<usize>i << 2)));
      const acc = ACC + <usize>i * row;
      const t = transLog + <usize>i * row;
      for (let o: usize = 0; o < n; o += bb) {
        // pre is −∞ only where every α + trans is, and V is −∞ there too: a shift of 0 keeps
        // −∞ − −∞ (NaN) out.
        const cond = subL<L>(addL<L>(a, ld<L>(t + o)), replaceEq<L>(ld<L>(pp + o), -Infinity, 0));
        st<L>(acc + o, addL<L>(ld<L>(acc + o), vexp<L>(addL<L>(cond, ld<L>(pv + o)))));
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

/**
 * Forward–backward for every sequence: logZ[b], unary marginals [B,T,K] (0 past each length) and
 * expected transition counts summed over the batch (f64 [Kp·Kp], row-major from→to). Linear space with
 * per-sequence fallback to log space, as logPartition.
 *
 * Per step s the forward pass keeps pre_s = ⊕_i α_{s−1}[i] ⊗ trans[i][·] (before the emission) and the
 * backward pass β̃_s (including the emission), each with its own scale; p_s(j) ∝ pre_s[j] ⊗ β̃_s[j] is
 * normalised per step, so the scales never need to meet. The pair marginals at step s are
 * α_{s−1}[i] ⊗ trans[i][j] ⊗ β̃_s[j] with the same normaliser D_s = Σ_j pre_s[j] ⊗ β̃_s[j].
 */
function posteriorsL<L>(
  B: i32, T: i32, em: usize, lens: usize, logZ: usize, unary: usize, counts: usize, work: usize,
): void {
  const K = numTags, Kp = paddedTags, row = rowBytes;
  const K4 = <isize>K << 2;
  const seq = <usize>T * <usize>K << 2;
  const cf = cntF(work, T), cb = cntB(work, T), scr = scratch(work, T);
  supportCounts(T, cf, false, bits(work, T));
  supportCounts(T, cb, true, bits(work, T));
  const AH = body(work, T);
  const AT = AH + <usize>T * row;
  const BT = AT + <usize>T * row;
  const V = BT + <usize>T * row;
  const G = V + <usize>T * row;
  const ACC = G + (<usize>(Kp * Kp) << 3);
  memory.fill(counts, 0, <usize>(Kp * Kp) << 3);
  memory.fill(unary, 0, <usize>B * seq);
  for (let b = 0; b < B; b++) {
    const len = load<i32>(lens + (<usize>b << 2));
    store<f64>(logZ + (<usize>b << 3), 0);
    if (len == 0) continue;
    const e = em + <usize>b * seq;
    const eLast = e + <usize>(len - 1) * <usize>K4;
    let linear = true;
    let z: f64 = 0;
    const r = chain<L, Linear>(LINEAR, e, K4, len, transExp, startExp, AH, true, AT, cf, scr);
    const d = r.logScale;
    if (isNaN(d)) linear = false;
    else {
      const S = sumEnd(r.last);
      if (S < <f64>THRESHOLD) linear = false;
      else z = d + startShift + <f64>(len - 1) * transShift + Math.log(S) + endShift;
    }
    if (linear && isNaN(chain<L, Linear>(LINEAR, eLast, -K4, len, transExpT, endExp, BT, true, 0, cb, scr).logScale)) linear = false;
    if (!linear) {
      fallbacks++;
      const rl = chain<L, LogSum>(LOGSUM, e, K4, len, transLog, startLog, AH, true, AT, 0, scr);
      if (rl.logScale == -Infinity) { store<f64>(logZ + (<usize>b << 3), -Infinity); continue; }
      z = rl.logScale + logSumEnd(rl.last);
      if (z == -Infinity) { store<f64>(logZ + (<usize>b << 3), -Infinity); continue; }
      chain<L, LogSum>(LOGSUM, eLast, -K4, len, transLogT, endLog, BT, true, 0, 0, scr);
    }
    store<f64>(logZ + (<usize>b << 3), z);

    // Unary marginals and the per-step factor V[s] for the pair sums.
    const ub = unary + <usize>b * seq;
    for (let s = 0; s < len; s++) {
      const a = AT + <usize>s * row;
      const bt = BT + <usize>(len - 1 - s) * row;
      const v = V + <usize>s * row;
      const u = ub + <usize>s * <usize>K4;
      if (linear) {
        let D: f64 = 0;
        for (let j = 0; j < K; j++) D += <f64>load<f32>(a + (<usize>j << 2)) * <f64>load<f32>(bt + (<usize>j << 2));
        const inv = 1 / D;
        for (let j = 0; j < Kp; j++) {
          const o = <usize>j << 2;
          const aj = <f64>load<f32>(a + o), bj = <f64>load<f32>(bt + o);
          if (j < K) store<f32>(u + o, <f32>(aj * bj * inv));
          // Where pre is exactly 0 (structurally unreachable) no pair ends here; 0 keeps inf·0 out.
          store<f32>(v + o, aj > 0 ? <f32>(bj * inv) : 0);
        }
      } else {
        let M: f64 = -Infinity;
        for (let j = 0; j < K; j++) {
          const x = <f64>load<f32>(a + (<usize>j << 2)) + <f64>load<f32>(bt + (<usize>j << 2));
          if (x > M) M = x;
        }
        let D: f64 = 0;
        for (let j = 0; j < K; j++) D += Math.exp(<f64>load<f32>(a + (<usize>j << 2)) + <f64>load<f32>(bt + (<usize>j << 2)) - M);
        const lD = Math.log(D);
        for (let j = 0; j < Kp; j++) {
          const o = <usize>j << 2;
          // V = log p(y_s = j), kept apart from pre_s[j]: the pair exponent is then
          // (α_{s−1}[i] + trans[i][j] − pre_s[j]) + V[j], two terms that stay small for every pair
          // that matters, where α + trans + (β̃ − M − lD) would cancel terms of 1e19 in float32.
          const x = <f64>load<f32>(a + o) + <f64>load<f32>(bt + o) - M;
          if (j < K) store<f32>(u + o, <f32>(Math.exp(x) / D));
          store<f32>(v + o, j < K ? <f32>(x - lD) : -Infinity);
        }
      }
    }

    // Pair sums for this sequence, then into the batch counts.
    memory.fill(G, 0, <usize>(Kp * Kp) << 3);
    if (linear) pairGemm<L>(AH, V, len, G);
    else if (len > 1) pairLog<L>(AH, AT, V, len, G, ACC);
    for (let i = 0; i < K; i++) {
      for (let j = 0; j < K; j++) {
        const o = <usize>(i * Kp + j);
        let c = load<f64>(G + (o << 3));
        if (linear) c *= <f64>load<f32>(transExp + (o << 2));
        store<f64>(counts + (o << 3), load<f64>(counts + (o << 3)) + c);
      }
    }
  }
}

export function posteriors(B: i32, T: i32, em: usize, lens: usize, logZ: usize, unary: usize, counts: usize, work: usize): void {
  if (ASC_FEATURE_SIMD) posteriorsL<v128>(B, T, em, lens, logZ, unary, counts, work);
  else posteriorsL<f32>(B, T, em, lens, logZ, unary, counts, work);
}

/**
 * log Z and the entropy H(y | x) per sequence from the entropy semiring's forward recursion (log space
 * only: it is the robust form, and entropy is not on a training hot path). The closing sum with the end
 * potentials is the same ⊕, in f64.
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
    const r = chain<L, Entropy>(ENTROPY, em + <usize>b * seq, <isize>K << 2, len, transLog, entropyInit, body(work, T), false, 0, 0, scratch(work, T));
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
      hs += e * (<f64>load<f32>(h + (<usize>j << 2)) + (m - v));
    }
    const l = Math.log1p(rest);
    store<f64>(zo, d + m + l);
    store<f64>(ho, hs / (1 + rest) + l);
  }
}

export function entropy(B: i32, T: i32, em: usize, lens: usize, logZ: usize, ent: usize, work: usize): void {
  if (ASC_FEATURE_SIMD) entropyL<v128>(B, T, em, lens, logZ, ent, work);
  else entropyL<f32>(B, T, em, lens, logZ, ent, work);
}

/**
 * k-best Viterbi: the max-plus semiring lifted to sorted lists of k. Cell (s, j) keeps its k best
 * partial scores (relative to the step's best, for f32 precision) with (previous tag, previous rank).
 * A cell's list is the k-way merge of the K predecessor lists shifted by trans[i][j], taken head by head;
 * ties go to the smaller previous tag, then the smaller rank, as in the js backend.
 * Paths [B,k,T]; scores [B,k], −∞ for a missing path (fewer than k paths exist).
 */
export function kbest(B: i32, T: i32, k: i32, em: usize, lens: usize, paths: usize, scores: usize, work: usize): void {
  const K = numTags, Kp = paddedTags;
  const seq = <usize>T * <usize>K << 2;
  const cell = <usize>Kp * <usize>k; // entries per step
  const SC = body(work, T);
  const PT = SC + (<usize>T * cell << 2);
  const PR = PT + (<usize>T * cell << 2);
  const heads = scratch(work, T);
  memory.fill(paths, 0, <usize>B * <usize>k * <usize>T << 2);
  for (let b = 0; b < B; b++) {
    const len = load<i32>(lens + (<usize>b << 2));
    const sb = scores + (<usize>(b * k) << 3);
    for (let r = 0; r < k; r++) store<f64>(sb + (<usize>r << 3), -Infinity);
    if (len == 0) { store<f64>(sb, 0); continue; }
    const e = em + <usize>b * seq;
    let acc: f64 = 0;
    let dead = false;
    for (let s = 0; s < len && !dead; s++) {
      const es = e + (<usize>(s * K) << 2);
      const sc = SC + (<usize>s * cell << 2);
      // Emissions relative to the row's largest (which goes to the f64 total), as in chain's emits.
      let me: f32 = -Infinity;
      for (let j = 0; j < K; j++) me = max(me, load<f32>(es + (<usize>j << 2)));
      let top: f32 = -Infinity;
      for (let j = 0; j < K; j++) {
        const c = sc + (<usize>(j * k) << 2);
        const ej = load<f32>(es + (<usize>j << 2)) - me;
        if (s == 0) {
          store<f32>(c, load<f32>(startLog + (<usize>j << 2)) + ej);
          for (let r = 1; r < k; r++) store<f32>(c + (<usize>r << 2), -Infinity);
        } else {
          const prev = SC + (<usize>(s - 1) * cell << 2);
          memory.fill(heads, 0, <usize>K << 2);
          for (let r = 0; r < k; r++) {
            let best: f32 = -Infinity;
            let bi = -1;
            for (let i = 0; i < K; i++) {
              const h = load<i32>(heads + (<usize>i << 2));
              if (h >= k) continue;
              const v = load<f32>(prev + (<usize>(i * k + h) << 2)) + load<f32>(transLog + (<usize>(i * Kp + j) << 2));
              if (v > best) { best = v; bi = i; }
            }
            const o = <usize>(j * k + r);
            if (bi < 0) {
              for (let q = r; q < k; q++) store<f32>(sc + (<usize>(j * k + q) << 2), -Infinity);
              break;
            }
            const h = load<i32>(heads + (<usize>bi << 2));
            store<f32>(sc + (o << 2), best + ej);
            store<i32>(PT + (<usize>s * cell << 2) + (o << 2), bi);
            store<i32>(PR + (<usize>s * cell << 2) + (o << 2), h);
            store<i32>(heads + (<usize>bi << 2), h + 1);
          }
        }
        const v0 = load<f32>(c);
        if (v0 > top) top = v0;
      }
      if (top == -Infinity) { dead = true; break; }
      for (let q: usize = 0; q < cell; q++) {
        const p = sc + (q << 2);
        store<f32>(p, load<f32>(p) - top);
      }
      acc += <f64>me + <f64>top;
    }
    if (dead) continue;
    // The k best ends: merge the last step's lists shifted by end[j].
    const last = SC + (<usize>(len - 1) * cell << 2);
    memory.fill(heads, 0, <usize>K << 2);
    for (let r = 0; r < k; r++) {
      let best: f32 = -Infinity;
      let bj = -1;
      for (let j = 0; j < K; j++) {
        const h = load<i32>(heads + (<usize>j << 2));
        if (h >= k) continue;
        const v = load<f32>(last + (<usize>(j * k + h) << 2)) + load<f32>(endLog + (<usize>j << 2));
        if (v > best) { best = v; bj = j; }
      }
      if (bj < 0) break;
      let rank = load<i32>(heads + (<usize>bj << 2));
      store<i32>(heads + (<usize>bj << 2), rank + 1);
      store<f64>(sb + (<usize>r << 3), acc + <f64>best);
      const pb = paths + (<usize>((b * k + r) * T) << 2);
      let y = bj;
      for (let s = len - 1; s >= 0; s--) {
        store<i32>(pb + (<usize>s << 2), y);
        const o = (<usize>s * cell + <usize>(y * k + rank)) << 2;
        const py = load<i32>(PT + o);
        rank = load<i32>(PR + o);
        y = py;
      }
    }
  }
}

/** Vectorised exp over n floats (n a multiple of 4), for the accuracy tests. */
export function mathExp(src: usize, dst: usize, n: i32): void {
  if (ASC_FEATURE_SIMD) for (let i = 0; i < n; i += 4) v128.store(dst + (<usize>i << 2), vexp<v128>(v128.load(src + (<usize>i << 2))));
  else for (let i = 0; i < n; i++) store<f32>(dst + (<usize>i << 2), vexp<f32>(load<f32>(src + (<usize>i << 2))));
}

/** Vectorised log over n floats (n a multiple of 4), for the accuracy tests. */
export function mathLog(src: usize, dst: usize, n: i32): void {
  if (ASC_FEATURE_SIMD) for (let i = 0; i < n; i += 4) v128.store(dst + (<usize>i << 2), vlog<v128>(v128.load(src + (<usize>i << 2))));
  else for (let i = 0; i < n; i++) store<f32>(dst + (<usize>i << 2), vlog<f32>(load<f32>(src + (<usize>i << 2))));
}

/** 1 when this build uses SIMD lanes. */
export function simd(): i32 {
  return ASC_FEATURE_SIMD ? 1 : 0;
}
