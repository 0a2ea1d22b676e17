// sample: paths drawn from p(y | x), forward filtering, backward sampling (src/ops/sample.ts describes
// the draws and the generator, which this file computes to the same bits).

import { chain, chainStateRows, chainWorkRows } from '../chain';
import { noteLogSpaceFallback } from '../diagnostics';
import { LINEAR, Linear, LOGSUM, LogSum } from '../semirings';
import {
  endExp, endLog, numTags, padK, rowBytes, startExp, startLog, supportCounts, supportSetsBytes, transExp, transExpT, transLog, transLogT,
} from '../tables';
import { linearLogZ, logSpaceLogZ } from './log-z';
import { layoutEnd, layoutFrom, rows, section } from './work-area';

/** sample's work area: where `layout` put each section. */
@final @unmanaged class Area {
  /** The forward support counts, one i32 per step. */
  counts!: usize;
  /** supportCounts' sets. */
  sets!: usize;
  /** A chain's work rows. */
  workRows!: usize;
  /** Every step's forward state, one row per step: the draws read them back to front. */
  alphas!: usize;
  /** The last tag's weights (Kp f64), the same for every sample of a sequence. */
  endWeights!: usize;
  /** One step's weights (Kp f64). */
  weights!: usize;
}

const AREA = changetype<Area>(memory.data(offsetof<Area>(), 8));

/** Lays out sample's work area for up to T steps of K tags from `base` into AREA; returns its end. */
function layout(base: usize, T: i32, K: i32): f64 {
  layoutFrom(base);
  AREA.counts = section(4 * <f64>T);
  AREA.sets = section(supportSetsBytes(K));
  AREA.workRows = section(rows(K, max(chainWorkRows(LINEAR), chainWorkRows(LOGSUM))));
  AREA.alphas = section(rows(K, max(chainStateRows(LINEAR, T, true), chainStateRows(LOGSUM, T, true))));
  AREA.endWeights = section(8 * <f64>padK(K));
  AREA.weights = section(8 * <f64>padK(K));
  return layoutEnd();
}

/** One round of murmur3_x86_32's body: the word k mixed into the hash h. */
@inline function round(h: u32, k: u32): u32 {
  k *= 0xcc9e2d51;
  k = rotl<u32>(k, 15);
  k *= 0x1b873593;
  h ^= k;
  h = rotl<u32>(h, 13);
  return h * 5 + 0xe6546b64;
}

/** murmur3_x86_32 of the four words (a, b, c, d) under the hash seed h. */
@inline function murmur4(h: u32, a: u32, b: u32, c: u32, d: u32): u32 {
  h = round(round(round(round(h, a), b), c), d) ^ 16;
  h ^= h >>> 16;
  h *= 0x85ebca6b;
  h ^= h >>> 13;
  h *= 0xc2b2ae35;
  h ^= h >>> 16;
  return h;
}

/** The uniform in [0, 1) of step `step` of sample `n` of sequence `seq` under `seed`: 53 bits from two hashes. */
@inline function uniform(seed: u32, seq: u32, n: u32, step: u32): f64 {
  const hi = murmur4(0, seed, seq, n, step) >>> 5;
  const lo = murmur4(0x9e3779b9, seed, seq, n, step) >>> 6;
  return (<f64>hi * 67108864.0 + <f64>lo) / 9007199254740992.0;
}

/**
 * Weights of the K tags into f64 `w`, from a state row `a` and a potentials row `m` (tag i at + 4i):
 * a[i]·m[i] in linear space, exp(a[i] + m[i] − max) in log space (−∞ gives exactly 0). Returns their sum.
 */
@inline function weights(logSpace: bool, a: usize, m: usize, w: usize): f64 {
  const K = numTags;
  let total: f64 = 0;
  if (!logSpace) {
    for (let i = 0; i < K; i++) {
      const o = <usize>i << 2;
      const x = <f64>load<f32>(a + o) * <f64>load<f32>(m + o);
      store<f64>(w + (<usize>i << 3), x);
      total += x;
    }
    return total;
  }
  let mx = -Infinity;
  for (let i = 0; i < K; i++) {
    const o = <usize>i << 2;
    const v = <f64>load<f32>(a + o) + <f64>load<f32>(m + o);
    store<f64>(w + (<usize>i << 3), v);
    if (v > mx) mx = v;
  }
  if (mx == -Infinity) return 0;
  for (let i = 0; i < K; i++) {
    const p = w + (<usize>i << 3);
    const x = Math.exp(load<f64>(p) - mx);
    store<f64>(p, x);
    total += x;
  }
  return total;
}

/** The first tag whose cumulative weight exceeds u·total; where rounding leaves none, the last of positive weight. */
@inline function draw(w: usize, total: f64, u: f64): i32 {
  const target = u * total;
  let cum: f64 = 0;
  let last = 0;
  for (let i = 0; i < numTags; i++) {
    const x = load<f64>(w + (<usize>i << 3));
    if (x == 0) continue;
    cum += x;
    last = i;
    if (cum > target) return i;
  }
  return last;
}

function sampleL<L>(B: i32, T: i32, S: i32, seed: u32, first: i32, em: usize, lens: usize, paths: usize, logZ: usize, work: usize): void {
  const K = numTags, row = rowBytes;
  const K4 = <isize>K << 2;
  const seq = <usize>T * <usize>K << 2;
  layout(work, T, K);
  supportCounts(T, AREA.counts, false, AREA.sets);
  memory.fill(paths, 0, (<usize>B * <usize>S * <usize>T) << 2);
  const AH = AREA.alphas, W = AREA.weights, EW = AREA.endWeights;
  for (let b = 0; b < B; b++) {
    const len = load<i32>(lens + (<usize>b << 2));
    const zo = logZ + (<usize>b << 3);
    store<f64>(zo, 0);
    if (len == 0) continue;
    const e = em + <usize>b * seq;
    // Scaled linear space first; a sequence whose check fails is redone in log space, as logPartition.
    const f = chain<L, Linear>(LINEAR, e, K4, len, transExp, startExp, AH, true, 0, AREA.counts, AREA.workRows);
    let z = linearLogZ(f.logScale, f.last, 4, len);
    const logSpace = isNaN(z);
    if (logSpace) {
      noteLogSpaceFallback();
      z = logSpaceLogZ(chain<L, LogSum>(LOGSUM, e, K4, len, transLog, startLog, AH, true, 0, 0, AREA.workRows));
    }
    store<f64>(zo, z);
    if (z == -Infinity) continue;
    const endTotal = weights(logSpace, AH + <usize>(len - 1) * row, logSpace ? endLog : endExp, EW);
    const M = logSpace ? transLogT : transExpT;
    const g = <u32>(first + b);
    for (let n = 0; n < S; n++) {
      const pb = paths + ((<usize>(b * S + n) * <usize>T) << 2);
      let y = draw(EW, endTotal, uniform(seed, g, <u32>n, <u32>(len - 1)));
      store<i32>(pb + (<usize>(len - 1) << 2), y);
      for (let s = len - 2; s >= 0; s--) {
        // trans[i][y] for every i: row y of the transpose.
        const total = weights(logSpace, AH + <usize>s * row, M + <usize>y * row, W);
        y = draw(W, total, uniform(seed, g, <u32>n, <u32>s));
        store<i32>(pb + (<usize>s << 2), y);
      }
    }
  }
}

/**
 * S paths per sequence drawn from p(y | x) into i32 paths [B, S, T] (0 past each length and for a
 * sequence with no allowed path), and log Z into f64 logZ[B]; the draws of sequence b are keyed by
 * `seed` and its index in the whole call, first + b.
 */
export function sample(B: i32, T: i32, S: i32, seed: u32, first: i32, em: usize, lens: usize, paths: usize, logZ: usize, work: usize): void {
  if (ASC_FEATURE_SIMD) sampleL<v128>(B, T, S, seed, first, em, lens, paths, logZ, work);
  else sampleL<f32>(B, T, S, seed, first, em, lens, paths, logZ, work);
}

/** Bytes of sample's work area for sequences of up to T steps of K tags (n: unused, 0). */
export function sampleWorkBytes(T: i32, K: i32, n: i32): f64 {
  return layout(0, T, K);
}
