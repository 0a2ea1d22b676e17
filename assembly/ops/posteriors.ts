// posteriors: forward–backward, for the gradients: log Z, unary marginals and expected transition counts.

import { chain, chainStateRows, chainWorkRows } from '../chain';
import { noteLogSpaceFallback } from '../diagnostics';
import { groupMin, groupPass, groupRowsBytes, groupsFor, groupStateBytes } from '../grouped';
import { LINEAR, Linear, LOGSUM, LogSum } from '../semirings';
import {
  endExp, endLog, numTags, padK, paddedTags, rowBytes, startExp, startLog, supportCounts, supportSetsBytes, transExp, transExpT, transLog,
  transLogT,
} from '../tables';
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
  /** A group's log scales (f64): the forward pass's four, then the backward pass's. */
  scales!: usize;
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
  if (groupsFor(K)) {
    const groupPassBytes = <f64>T * <f64>groupStateBytes(K);
    AREA.groupAlphas = section(groupPassBytes);
    AREA.groupProducts = section(groupPassBytes);
    AREA.groupBetas = section(groupPassBytes);
    AREA.groupRows = section(<f64>groupRowsBytes(K));
    AREA.scales = section(2 * 4 * 8);
  }
  return layoutEnd();
}

/**
 * Unary marginals of one sequence into `ub`, the per-step factors V, and its pair sums into `counts`,
 * from the passes' rows: normalised forward states at `fa`, products before the emissions at `fp`,
 * backward states at `fb`, step s's tag j at `+ s·rs + j·ts` (rows of Kp floats for the per-sequence
 * passes, the lanes of a group for grouped ones, which are always linear).
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
      for (let j = 0; j < Kp; j++) {
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

  // Pair sums for this sequence, then into the batch counts.
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
  B: i32, T: i32, em: usize, lens: usize, logZ: usize, unary: usize, counts: usize, work: usize,
): void {
  const K = numTags, Kp = paddedTags;
  const K4 = <usize>K << 2;
  const seq = <usize>T * K4;
  layout(work, T, K);
  supportCounts(T, AREA.forwardCounts, false, AREA.sets);
  supportCounts(T, AREA.backwardCounts, true, AREA.sets);
  memory.fill(counts, 0, <usize>(Kp * Kp) << 3);
  memory.fill(unary, 0, <usize>B * seq);
  let b = 0;
  if (isVector<L>() && groupsFor(K)) {
    const sb = groupStateBytes(K);
    const GH = AREA.groupAlphas, GP = AREA.groupProducts, GB = AREA.groupBetas, rows = AREA.groupRows, scales = AREA.scales;
    for (; B - b >= groupMin(); b += 4) {
      const n = min(4, B - b);
      const e = em + <usize>b * seq, ls = lens + (<usize>b << 2);
      groupPass<Linear>(LINEAR, n, e, seq, ls, <isize>K4, transExp, startExp, AREA.forwardCounts, GH, true, GP, rows, scales);
      groupPass<Linear>(LINEAR, n, e, seq, ls, -<isize>K4, transExpT, endExp, AREA.backwardCounts, GB, true, 0, rows, scales + 32);
      for (let l = 0; l < n; l++) {
        const len = load<i32>(ls + (<usize>l << 2));
        const zo = logZ + (<usize>(b + l) << 3);
        store<f64>(zo, 0);
        if (len == 0) continue;
        const el = e + <usize>l * seq, ub = unary + <usize>(b + l) * seq;
        const lo = <usize>l << 2;
        const z = linearLogZ(load<f64>(scales + (<usize>l << 3)), GH + <usize>(len - 1) * sb + lo, 16, len);
        if (isNaN(z) || isNaN(load<f64>(scales + 32 + (<usize>l << 3)))) { posteriorOne<L>(el, len, zo, ub, counts); continue; }
        store<f64>(zo, z);
        marginalsOne<L>(true, len, GH + lo, GP + lo, GB + lo, sb, 16, ub, counts);
      }
    }
  }
  for (; b < B; b++) {
    const len = load<i32>(lens + (<usize>b << 2));
    const zo = logZ + (<usize>b << 3);
    store<f64>(zo, 0);
    if (len == 0) continue;
    posteriorOne<L>(em + <usize>b * seq, len, zo, unary + <usize>b * seq, counts);
  }
}

/**
 * Forward–backward for every sequence: logZ[b] (f64), unary marginals [B,T,K] (f32, 0 past each
 * length) and expected transition counts summed over the batch (f64 [Kp·Kp], row-major from→to).
 */
export function posteriors(B: i32, T: i32, em: usize, lens: usize, logZ: usize, unary: usize, counts: usize, work: usize): void {
  if (ASC_FEATURE_SIMD) posteriorsL<v128>(B, T, em, lens, logZ, unary, counts, work);
  else posteriorsL<f32>(B, T, em, lens, logZ, unary, counts, work);
}

/** Bytes of posteriors' work area for sequences of up to T steps of K tags (n: unused, 0). */
export function posteriorsWorkBytes(T: i32, K: i32, n: i32): f64 {
  return layout(0, T, K);
}
