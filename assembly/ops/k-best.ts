// kBest: the k best paths and their scores per sequence (k-best Viterbi).

import { endLog, numTags, padK, paddedTags, rowBytes, startLog, transLog } from '../tables';
import { layoutEnd, layoutFrom, section } from './work-area';

/** kBest's work area: where `layout` put each section. */
@final @unmanaged class Area {
  /** The merge's heads, one i32 per list (tag). */
  heads!: usize;
  /** The partial scores (f32), per step and cell (tag j, rank r at j·k + r). */
  partials!: usize;
  /** Each cell's previous tag and previous rank (i32), laid out as `partials`. */
  prevTags!: usize;
  prevRanks!: usize;
}

const AREA = changetype<Area>(memory.data(offsetof<Area>(), 8));

/** Lays out kBest's work area for up to T steps of K tags and lists of k from `base` into AREA; returns its end. */
function layout(base: usize, T: i32, K: i32, k: i32): f64 {
  layoutFrom(base);
  AREA.heads = section(4 * <f64>K);
  const cells = <f64>T * <f64>padK(K) * <f64>k;
  AREA.partials = section(4 * cells);
  AREA.prevTags = section(4 * cells);
  AREA.prevRanks = section(4 * cells);
  return layoutEnd();
}

// A k-way merge of K sorted lists of k f32 scores, list i at `lists + i·k` floats, each shifted by the
// f32 at `shifts + i·stride`; heads[i] (K i32s) is how many of list i are taken. Taking the best head
// repeatedly yields the shifted union in order, ties to the smaller list index.

/** Head h of list i, shifted. */
@inline function headScore(lists: usize, shifts: usize, stride: usize, k: i32, i: i32, h: i32): f32 {
  return load<f32>(lists + (<usize>(i * k + h) << 2)) + load<f32>(shifts + <usize>i * stride);
}

/** The list whose untaken head scores highest (the first on ties); −1 when every head left is −∞. */
@inline function bestHead(lists: usize, shifts: usize, stride: usize, k: i32, heads: usize): i32 {
  let best: f32 = -Infinity;
  let bi = -1;
  for (let i = 0; i < numTags; i++) {
    const h = load<i32>(heads + (<usize>i << 2));
    if (h >= k) continue;
    const v = headScore(lists, shifts, stride, k, i, h);
    if (v > best) { best = v; bi = i; }
  }
  return bi;
}

/** Takes list i's head: returns its rank and moves the head on. */
@inline function takeHead(heads: usize, i: i32): i32 {
  const p = heads + (<usize>i << 2);
  const h = load<i32>(p);
  store<i32>(p, h + 1);
  return h;
}

/**
 * The max-plus semiring lifted to sorted lists of k. Cell (s, j) keeps its k best partial scores
 * (relative to the step's best, for f32 precision) with (previous tag, previous rank): the merge of the
 * K predecessor lists shifted by trans[i][j]. The k best ends are the merge of the last step's lists
 * shifted by end[j]. Ties go to the smaller previous tag, then the smaller rank, as in the js backend.
 * Paths [B,k,T]; scores [B,k], −∞ for a missing path (fewer than k paths exist).
 */
export function kBest(B: i32, T: i32, k: i32, em: usize, lens: usize, paths: usize, scores: usize, work: usize): void {
  const K = numTags, Kp = paddedTags;
  const seq = <usize>T * <usize>K << 2;
  const cell = <usize>Kp * <usize>k; // entries per step
  layout(work, T, K, k);
  const SC = AREA.partials, PT = AREA.prevTags, PR = AREA.prevRanks, heads = AREA.heads;
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
          const into = transLog + (<usize>j << 2); // trans[i][j] for i = 0, 1, … one row apart
          memory.fill(heads, 0, <usize>K << 2);
          for (let r = 0; r < k; r++) {
            const bi = bestHead(prev, into, rowBytes, k, heads);
            if (bi < 0) {
              for (let q = r; q < k; q++) store<f32>(sc + (<usize>(j * k + q) << 2), -Infinity);
              break;
            }
            const h = takeHead(heads, bi);
            const o = <usize>(j * k + r);
            store<f32>(sc + (o << 2), headScore(prev, into, rowBytes, k, bi, h) + ej);
            store<i32>(PT + (<usize>s * cell << 2) + (o << 2), bi);
            store<i32>(PR + (<usize>s * cell << 2) + (o << 2), h);
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
    const last = SC + (<usize>(len - 1) * cell << 2);
    memory.fill(heads, 0, <usize>K << 2);
    for (let r = 0; r < k; r++) {
      const bj = bestHead(last, endLog, 4, k, heads);
      if (bj < 0) break;
      let rank = takeHead(heads, bj);
      store<f64>(sb + (<usize>r << 3), acc + <f64>headScore(last, endLog, 4, k, bj, rank));
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

/** Bytes of kBest's work area for sequences of up to T steps of K tags and lists of k. */
export function kBestWorkBytes(T: i32, K: i32, k: i32): f64 {
  return layout(0, T, K, k);
}
