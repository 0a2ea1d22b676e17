// kbest: the k best paths and their scores per sequence (k-best Viterbi).

import { endLog, numTags, paddedTags, rowBytes, startLog, transLog } from '../tables';
import { opArea, scratchRows } from './work-area';

/**
 * The max-plus semiring lifted to sorted lists of k. Cell (s, j) keeps its k best partial scores
 * (relative to the step's best, for f32 precision) with (previous tag, previous rank).
 * A cell's list is the k-way merge of the K predecessor lists shifted by trans[i][j], taken head by head;
 * ties go to the smaller previous tag, then the smaller rank, as in the js backend.
 * Paths [B,k,T]; scores [B,k], −∞ for a missing path (fewer than k paths exist).
 */
export function kbest(B: i32, T: i32, k: i32, em: usize, lens: usize, paths: usize, scores: usize, work: usize): void {
  const K = numTags, Kp = paddedTags;
  const seq = <usize>T * <usize>K << 2;
  const cell = <usize>Kp * <usize>k; // entries per step
  const SC = opArea(work, T);
  const PT = SC + (<usize>T * cell << 2);
  const PR = PT + (<usize>T * cell << 2);
  const heads = scratchRows(work, T);
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
