// posteriors: forward–backward, for the gradients: log Z, unary marginals and expected transition counts.

import { chain, chainStateRows, chainWorkRows } from '../chain';
import { noteLogSpaceFallback } from '../diagnostics';
import { groupMin, groupPass, groupRowsBytes, groupsFor, groupStateBytes } from '../grouped';
import { LINEAR, Linear, LOGSUM, LogSum } from '../semirings';
import {
  endExp, endLog, numTags, padK, paddedTags, rowBytes, startExp, startLog, supportCounts, supportSetsBytes, transExp, transExpT, transLog,
  transLogT,
} from '../tables';
import { goldScores } from './log-likelihood';
import { linearLogZ, logSpaceLogZ } from './log-z';
import { pairGemm, pairLog } from './pair-sums';
import { layoutEnd, layoutFrom, rows, section } from './work-area';

/** posteriors' work area: where `layout` put each section. */
@final @unmanaged class Area {
  /** The forward and backward support counts, one i32 per step each. */
  forwardCounts!: usize;
  backwardCounts!: usize;
  /** supportCounts' sets. */
  sets!: usize;
  /** A chain's work rows. */
  workRows!: usize;
  /** A sequence's passes, one row per step: forward states, forward products before the emissions, backward states. */
  alphas!: usize;
  products!: usize;
  betas!: usize;
  /** The per-step factors V of the pair sums (marginalsOne), one row per step. */
  factors!: usize;
  /** A sequence's pair sums G (Kp × Kp f64), and pairLog's f32 accumulators (Kp rows). */
  pairSums!: usize;
  pairAccs!: usize;
  /** A group's passes (groupsFor(K) only, as are the next two), one grouped state per step: as alphas, products, betas. */
  groupAlphas!: usize;
  groupProducts!: usize;
  groupBetas!: usize;
  /** A group's gathered emission rows. */
  groupRows!: usize;
  /** A group's per-step factors V, one block of T rows per lane (marginalsOne's `factors`, per lane). */
  groupFactors!: usize;
  /** A group's log scales (f64): the forward pass's four, then the backward pass's. */
  scales!: usize;
  /** gradients: a sequence's gradient at its gold tags (f32, one per step), while its rows are rewritten. */
  tagGrads!: usize;
}

const AREA = changetype<Area>(memory.data(offsetof<Area>(), 8));

/** Lays out posteriors' work area for up to T steps of K tags from `base` into AREA; returns its end. */
function layout(base: usize, T: i32, K: i32): f64 {
  layoutFrom(base);
  AREA.forwardCounts = section(4 * <f64>T);
  AREA.backwardCounts = section(4 * <f64>T);
  AREA.sets = section(supportSetsBytes(K));
  AREA.workRows = section(rows(K, max(chainWorkRows(LINEAR), chainWorkRows(LOGSUM))));
  const steps = rows(K, max(chainStateRows(LINEAR, T, true), chainStateRows(LOGSUM, T, true)));
  AREA.alphas = section(steps);
  AREA.products = section(steps);
  AREA.betas = section(steps);
  AREA.factors = section(rows(K, <f64>T));
  AREA.pairSums = section(8 * <f64>padK(K) * <f64>padK(K));
  AREA.pairAccs = section(rows(K, <f64>padK(K)));
  AREA.tagGrads = section(4 * <f64>T);
  if (groupsFor(K)) {
    const groupPassBytes = <f64>T * <f64>groupStateBytes(K);
    AREA.groupAlphas = section(groupPassBytes);
    AREA.groupProducts = section(groupPassBytes);
    AREA.groupBetas = section(groupPassBytes);
    AREA.groupRows = section(<f64>groupRowsBytes(K));
    AREA.groupFactors = section(4 * rows(K, <f64>T));
    AREA.scales = section(2 * 4 * 8);
  }
  return layoutEnd();
}

/**
 * Unary marginals of one sequence into `ub`, the per-step factors V, and its pair sums into `counts`,
 * from the passes' rows: normalised forward states at `fa`, products before the emissions at `fp`,
 * backward states at `fb`, step s's tag j at `+ s·rs + j·ts` (rows of Kp floats: ts = 4; a group's
 * lanes take groupMarginals and pairSumsOne instead).
 */
@inline function marginalsOne<L>(linear: bool, len: i32, fa: usize, fp: usize, fb: usize, rs: usize, ts: usize, ub: usize, counts: usize): void {
  const K = numTags, Kp = paddedTags, row = rowBytes;
  const V = AREA.factors, G = AREA.pairSums;
  const K4 = <usize>K << 2;
  for (let s = 0; s < len; s++) {
    const a = fp + <usize>s * rs;
    const bt = fb + <usize>(len - 1 - s) * rs;
    const v = V + <usize>s * row;
    const u = ub + <usize>s * K4;
    if (linear) {
      let D: f64 = 0;
      for (let j = 0; j < K; j++) D += <f64>load<f32>(a + <usize>j * ts) * <f64>load<f32>(bt + <usize>j * ts);
      const inv = 1 / D;
      let j = 0;
      if (isVector<L>() && ts == 4) {
        // Rows of Kp floats: four tags at a time, the same f64 operations as the loop below.
        const vi = f64x2.splat(inv), zero = f32x4.splat(0);
        for (; j < Kp; j += 4) {
          const o = <usize>j << 2;
          const av = v128.load(a + o), bv = v128.load(bt + o);
          const aLo = f64x2.promote_low_f32x4(av), aHi = f64x2.promote_low_f32x4(hiHalf(av));
          const bLo = f64x2.promote_low_f32x4(bv), bHi = f64x2.promote_low_f32x4(hiHalf(bv));
          const p = joinHalves(f64x2.mul(f64x2.mul(aLo, bLo), vi), f64x2.mul(f64x2.mul(aHi, bHi), vi));
          v128.store(v + o, v128.and(joinHalves(f64x2.mul(bLo, vi), f64x2.mul(bHi, vi)), f32x4.gt(av, zero)));
          // The marginals' rows are K floats: the last chunk stores only the tags < K.
          if (j + 4 <= K) v128.store(u + o, p);
          else {
            store<f32>(u + o, f32x4.extract_lane(p, 0));
            if (j + 1 < K) store<f32>(u + o + 4, f32x4.extract_lane(p, 1));
            if (j + 2 < K) store<f32>(u + o + 8, f32x4.extract_lane(p, 2));
          }
        }
      }
      for (; j < Kp; j++) {
        const o = <usize>j << 2;
        // Padded tags (j ≥ K) hold 0 in both passes.
        const aj = j < K ? <f64>load<f32>(a + <usize>j * ts) : 0, bj = j < K ? <f64>load<f32>(bt + <usize>j * ts) : 0;
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

  pairSumsOne<L>(linear, len, fa, fp, rs, ts, V, counts);
}

/**
 * One sequence's pair sums from its forward states (as marginalsOne's `fa`, `fp`, `rs`, `ts`) and its
 * per-step factors V (rows of Kp floats), added to the batch's `counts`.
 */
@inline function pairSumsOne<L>(linear: bool, len: i32, fa: usize, fp: usize, rs: usize, ts: usize, V: usize, counts: usize): void {
  const K = numTags, Kp = paddedTags, G = AREA.pairSums;
  memory.fill(G, 0, <usize>(Kp * Kp) << 3);
  if (linear) pairGemm<L>(fa, rs, ts, V, len, G);
  else if (len > 1) pairLog<L>(fa, fp, V, len, G, AREA.pairAccs);
  for (let i = 0; i < K; i++) {
    for (let j = 0; j < K; j++) {
      const o = <usize>(i * Kp + j);
      let c = load<f64>(G + (o << 3));
      if (linear) c *= <f64>load<f32>(transExp + (o << 2));
      store<f64>(counts + (o << 3), load<f64>(counts + (o << 3)) + c);
    }
  }
}

/** Stores lane l of `v` at `p_l` for the lanes whose bit is set in `active`. */
@inline function storeLanes(v: v128, p0: usize, p1: usize, p2: usize, p3: usize, active: i32): void {
  if (active == 15) {
    store<f32>(p0, f32x4.extract_lane(v, 0));
    store<f32>(p1, f32x4.extract_lane(v, 1));
    store<f32>(p2, f32x4.extract_lane(v, 2));
    store<f32>(p3, f32x4.extract_lane(v, 3));
  } else {
    if (active & 1) store<f32>(p0, f32x4.extract_lane(v, 0));
    if (active & 2) store<f32>(p1, f32x4.extract_lane(v, 1));
    if (active & 4) store<f32>(p2, f32x4.extract_lane(v, 2));
    if (active & 8) store<f32>(p3, f32x4.extract_lane(v, 3));
  }
}

/**
 * marginalsOne's linear half for the four lanes of a group at once, each lane's sequence its own
 * (lengths `lens`, unary rows from `ub + l·seq`, up to T steps, factors into lane l's block of AREA.groupFactors):
 * the same f64 operations in the same order per lane, two lanes per f64x2, so every lane's marginals
 * and factors are the bits the per-lane loop gives. Lanes past `n`, and lanes at steps past their
 * length, store nothing; a lane that failed its check stores values its redo overwrites.
 */
function groupMarginals(n: i32, T: i32, lens: usize, ub: usize, seq: usize): void {
  const K = numTags, Kp = paddedTags, row = rowBytes, sb = groupStateBytes(K);
  const GP = AREA.groupProducts, GB = AREA.groupBetas, VG = AREA.groupFactors;
  const vBlock = <usize>T * row;
  const l0 = load<i32>(lens), l1 = n > 1 ? load<i32>(lens, 4) : 0, l2 = n > 2 ? load<i32>(lens, 8) : 0, l3 = n > 3 ? load<i32>(lens, 12) : 0;
  const maxLen = max(max(l0, l1), max(l2, l3));
  const same = n == 4 && l0 == l1 && l1 == l2 && l2 == l3;
  const K4 = <usize>K << 2;
  const one = f64x2.splat(1), zero = f32x4.splat(0);
  for (let s = 0; s < maxLen; s++) {
    const active = (s < l0 ? 1 : 0) | (s < l1 ? 2 : 0) | (s < l2 ? 4 : 0) | (s < l3 ? 8 : 0);
    const a = GP + <usize>s * sb;
    // Lane l's backward state for step s is its row len_l − 1 − s (a lane past its length reads row 0).
    const b0 = GB + <usize>max(l0 - 1 - s, 0) * sb, b1 = GB + <usize>max(l1 - 1 - s, 0) * sb + 4;
    const b2 = GB + <usize>max(l2 - 1 - s, 0) * sb + 8, b3 = GB + <usize>max(l3 - 1 - s, 0) * sb + 12;
    let dLo = f64x2.splat(0), dHi = f64x2.splat(0);
    for (let j = 0; j < K; j++) {
      const o = <usize>j << 4;
      const av = v128.load(a + o);
      const bv = same ? v128.load(b0 + o) : betaLanes(b0 + o, b1 + o, b2 + o, b3 + o);
      dLo = f64x2.add(dLo, f64x2.mul(f64x2.promote_low_f32x4(av), f64x2.promote_low_f32x4(bv)));
      dHi = f64x2.add(dHi, f64x2.mul(f64x2.promote_low_f32x4(hiHalf(av)), f64x2.promote_low_f32x4(hiHalf(bv))));
    }
    const invLo = f64x2.div(one, dLo), invHi = f64x2.div(one, dHi);
    const us = <usize>s * K4, vs = <usize>s * row;
    const v0 = VG + vs, v1 = v0 + vBlock, v2 = v1 + vBlock, v3 = v2 + vBlock;
    for (let j = 0; j < K; j++) {
      const o = <usize>j << 4;
      const av = v128.load(a + o);
      const bv = same ? v128.load(b0 + o) : betaLanes(b0 + o, b1 + o, b2 + o, b3 + o);
      const aLo = f64x2.promote_low_f32x4(av), aHi = f64x2.promote_low_f32x4(hiHalf(av));
      const bLo = f64x2.promote_low_f32x4(bv), bHi = f64x2.promote_low_f32x4(hiHalf(bv));
      const u = joinHalves(f64x2.mul(f64x2.mul(aLo, bLo), invLo), f64x2.mul(f64x2.mul(aHi, bHi), invHi));
      // Where pre is exactly 0 (structurally unreachable) no pair ends here; 0 keeps inf·0 out.
      const v = v128.and(joinHalves(f64x2.mul(bLo, invLo), f64x2.mul(bHi, invHi)), f32x4.gt(av, zero));
      const uo = us + (<usize>j << 2), vo = <usize>j << 2;
      storeLanes(u, ub + uo, ub + seq + uo, ub + 2 * seq + uo, ub + 3 * seq + uo, active & ((1 << n) - 1));
      storeLanes(v, v0 + vo, v1 + vo, v2 + vo, v3 + vo, active);
    }
    // Padded tags hold 0 in both passes: their factors are 0.
    for (let j = K; j < Kp; j++) storeLanes(zero, v0 + (<usize>j << 2), v1 + (<usize>j << 2), v2 + (<usize>j << 2), v3 + (<usize>j << 2), active);
  }
}

/** Lanes 2 and 3 of v in lanes 0 and 1. */
@inline function hiHalf(v: v128): v128 {
  return v128.shuffle<f32>(v, v, 2, 3, 2, 3);
}

/** The f32 of two f64x2 halves, as one f32x4 (lanes 0–1 from lo, 2–3 from hi). */
@inline function joinHalves(lo: v128, hi: v128): v128 {
  return v128.shuffle<f32>(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5);
}

/** Lane l from the f32 at p_l. */
@inline function betaLanes(p0: usize, p1: usize, p2: usize, p3: usize): v128 {
  return f32x4.replace_lane(f32x4.replace_lane(f32x4.replace_lane(v128.load32_zero(p0), 1, load<f32>(p1)), 2, load<f32>(p2)), 3, load<f32>(p3));
}

/** Forward–backward of one sequence of `len` ≥ 1 steps from `e`, per-sequence passes: log Z into `zo`. */
function posteriorOne<L>(e: usize, len: i32, zo: usize, ub: usize, counts: usize): void {
  const K4 = <isize>numTags << 2;
  const eLast = e + <usize>(len - 1) * <usize>K4;
  const AH = AREA.alphas, AT = AREA.products, BT = AREA.betas, work = AREA.workRows;
  const f = chain<L, Linear>(LINEAR, e, K4, len, transExp, startExp, AH, true, AT, AREA.forwardCounts, work);
  let z = linearLogZ(f.logScale, f.last, 4, len);
  const linear = !isNaN(z) && !isNaN(chain<L, Linear>(LINEAR, eLast, -K4, len, transExpT, endExp, BT, true, 0, AREA.backwardCounts, work).logScale);
  if (!linear) {
    noteLogSpaceFallback();
    z = logSpaceLogZ(chain<L, LogSum>(LOGSUM, e, K4, len, transLog, startLog, AH, true, AT, 0, work));
    if (z == -Infinity) { store<f64>(zo, -Infinity); return; }
    chain<L, LogSum>(LOGSUM, eLast, -K4, len, transLogT, endLog, BT, true, 0, 0, work);
  }
  store<f64>(zo, z);
  marginalsOne<L>(linear, len, AH, AT, BT, rowBytes, 4, ub, counts);
}

/**
 * Linear space with per-sequence fallback to log space, as logPartition; for small K the SIMD build
 * runs both passes over groups of four sequences (grouped.ts) and the marginals per sequence from the
 * lanes, a sequence that fails a check going through the per-sequence passes (the same bits).
 *
 * Per step s the forward pass keeps pre_s = ⊕_i α_{s−1}[i] ⊗ trans[i][·] (before the emission) and the
 * backward pass β̃_s (including the emission), each with its own scale; p_s(j) ∝ pre_s[j] ⊗ β̃_s[j] is
 * normalised per step, so the scales never need to meet. The pair marginals at step s are
 * α_{s−1}[i] ⊗ trans[i][j] ⊗ β̃_s[j] with the same normaliser D_s = Σ_j pre_s[j] ⊗ β̃_s[j].
 */
function posteriorsL<L>(
  B: i32, T: i32, em: usize, lens: usize, logZ: usize, unary: usize, counts: usize, work: usize, tags: usize, weight: f64, ends: usize,
): void {
  const K = numTags, Kp = paddedTags;
  const K4 = <usize>K << 2;
  const seq = <usize>T * K4;
  layout(work, T, K);
  supportCounts(T, AREA.forwardCounts, false, AREA.sets);
  supportCounts(T, AREA.backwardCounts, true, AREA.sets);
  memory.fill(counts, 0, <usize>(Kp * Kp) << 3);
  memory.fill(unary, 0, <usize>B * seq);
  if (tags != 0) memory.fill(ends, 0, <usize>B * (K4 << 1));
  let b = 0;
  if (isVector<L>() && groupsFor(K)) {
    const sb = groupStateBytes(K);
    const GH = AREA.groupAlphas, GP = AREA.groupProducts, GB = AREA.groupBetas, rows = AREA.groupRows, scales = AREA.scales;
    for (; B - b >= groupMin(); b += 4) {
      const n = min(4, B - b);
      const e = em + <usize>b * seq, ls = lens + (<usize>b << 2);
      groupPass<Linear>(LINEAR, n, e, seq, ls, <isize>K4, transExp, startExp, AREA.forwardCounts, GH, true, GP, rows, scales);
      groupPass<Linear>(LINEAR, n, e, seq, ls, -<isize>K4, transExpT, endExp, AREA.backwardCounts, GB, true, 0, rows, scales + 32);
      groupMarginals(n, T, ls, unary + <usize>b * seq, seq);
      for (let l = 0; l < n; l++) {
        const len = load<i32>(ls + (<usize>l << 2));
        const zo = logZ + (<usize>(b + l) << 3);
        store<f64>(zo, 0);
        if (len == 0) continue;
        const el = e + <usize>l * seq, ub = unary + <usize>(b + l) * seq;
        const lo = <usize>l << 2;
        const z = linearLogZ(load<f64>(scales + (<usize>l << 3)), GH + <usize>(len - 1) * sb + lo, 16, len);
        if (isNaN(z) || isNaN(load<f64>(scales + 32 + (<usize>l << 3)))) {
          // groupMarginals wrote this lane's rows from a failed pass; a sequence with no allowed path keeps 0s.
          memory.fill(ub, 0, <usize>len * K4);
          posteriorOne<L>(el, len, zo, ub, counts);
        } else {
          store<f64>(zo, z);
          pairSumsOne<L>(true, len, GH + lo, GP + lo, sb, 16, AREA.groupFactors + <usize>l * <usize>T * rowBytes, counts);
        }
        if (tags != 0) gradientRows<L>(ub, len, tags + <usize>(b + l) * <usize>(T << 2), weight, ends + <usize>(b + l) * (K4 << 1));
      }
    }
  }
  for (; b < B; b++) {
    const len = load<i32>(lens + (<usize>b << 2));
    const zo = logZ + (<usize>b << 3);
    store<f64>(zo, 0);
    if (len == 0) continue;
    posteriorOne<L>(em + <usize>b * seq, len, zo, unary + <usize>b * seq, counts);
    if (tags != 0) gradientRows<L>(unary + <usize>b * seq, len, tags + <usize>b * <usize>(T << 2), weight, ends + <usize>b * (K4 << 1));
  }
}

/**
 * gradients' rewrite of one sequence's marginal rows p (at `ub`, `len` rows of K) into the gradient
 * of `weight`·llh with respect to its emissions, weight·([y_s = j] − p_s(j)) for the gold tags y (i32
 * at `ty`), each value computed in f64 as (−weight·p) (+ weight at y) from the f32 marginal and
 * rounded once; the first and last rows of marginals go to `ends` first (the start and end gradients
 * are made of them).
 */
function gradientRows<L>(ub: usize, len: i32, ty: usize, weight: f64, ends: usize): void {
  const K4 = <usize>numTags << 2;
  memory.copy(ends, ub, K4);
  memory.copy(ends + K4, ub + <usize>(len - 1) * K4, K4);
  const tg = AREA.tagGrads;
  for (let s = 0; s < len; s++) {
    const y = <usize>load<i32>(ty + (<usize>s << 2));
    store<f32>(tg + (<usize>s << 2), <f32>(-weight * <f64>load<f32>(ub + <usize>s * K4 + (y << 2)) + weight));
  }
  const n = <usize>len * K4;
  let o: usize = 0;
  if (isVector<L>()) {
    const w = f64x2.splat(-weight);
    for (; o + 16 <= n; o += 16) {
      const v = v128.load(ub + o);
      v128.store(ub + o, joinHalves(f64x2.mul(w, f64x2.promote_low_f32x4(v)), f64x2.mul(w, f64x2.promote_low_f32x4(hiHalf(v)))));
    }
  }
  for (; o < n; o += 4) store<f32>(ub + o, <f32>(-weight * <f64>load<f32>(ub + o)));
  for (let s = 0; s < len; s++) {
    const y = <usize>load<i32>(ty + (<usize>s << 2));
    store<f32>(ub + <usize>s * K4 + (y << 2), load<f32>(tg + (<usize>s << 2)));
  }
}

/**
 * Forward–backward for every sequence: logZ[b] (f64), unary marginals [B,T,K] (f32, 0 past each
 * length) and expected transition counts summed over the batch (f64 [Kp·Kp], row-major from→to).
 */
export function posteriors(B: i32, T: i32, em: usize, lens: usize, logZ: usize, unary: usize, counts: usize, work: usize): void {
  if (ASC_FEATURE_SIMD) posteriorsL<v128>(B, T, em, lens, logZ, unary, counts, work, 0, 0, 0);
  else posteriorsL<f32>(B, T, em, lens, logZ, unary, counts, work, 0, 0, 0);
}

/**
 * forwardBackward's kernel: posteriors with the emission gradient in place of the marginals, written
 * by the same sweep while each sequence's rows are in cache. `tags` holds the gold tags (i32 [B,T]),
 * `weight` the loss weight; `grads` gets weight·([y_s = j] − p_s(j)) (f32 [B,T,K], 0 past each
 * length), `ends` each sequence's first and last rows of marginals (f32 [B,2,K]), `score` the tags'
 * scores (f64 [B], goldScores); logZ and counts as posteriors. Its work area is posteriors'.
 */
export function gradients(
  B: i32, T: i32, em: usize, lens: usize, tags: usize, weight: f64, logZ: usize, score: usize, grads: usize, ends: usize, counts: usize, work: usize,
): void {
  if (ASC_FEATURE_SIMD) posteriorsL<v128>(B, T, em, lens, logZ, grads, counts, work, tags, weight, ends);
  else posteriorsL<f32>(B, T, em, lens, logZ, grads, counts, work, tags, weight, ends);
  goldScores(B, T, em, lens, tags, score);
}

/** Bytes of gradients' work area: posteriors' (n: unused, 0). */
export function gradientsWorkBytes(T: i32, K: i32, n: i32): f64 {
  return layout(0, T, K);
}

/** Bytes of posteriors' work area for sequences of up to T steps of K tags (n: unused, 0). */
export function posteriorsWorkBytes(T: i32, K: i32, n: i32): f64 {
  return layout(0, T, K);
}
