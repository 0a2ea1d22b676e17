// The k best paths in float64: the kBest op's reference, which the js backend runs and the other
// backends are tested against (the op's spec, with what it computes: src/ops/k-best.ts).
import type { Packed } from '../../../call/pack.js';
import type { Potentials } from '../../../model/parameters.js';
import type { KBestArgs, KBestResult } from '../../../ops/k-best.js';

/**
 * k-best Viterbi (the max semiring lifted to sorted top-k lists): each cell keeps its k best
 * partial scores with (previous tag, previous rank) backpointers. A cell's list is the merge of its
 * K predecessors' sorted lists, taken head by head (ties: the smaller previous tag, then rank), so a
 * step costs O(K·k) per cell and no allocation.
 */
export function kBest(p: Packed, w: Potentials, { k }: KBestArgs): KBestResult {
  const { B, T, K } = p;
  const paths = new Int32Array(B * k * T);
  const scores = new Float64Array(B * k).fill(-Infinity);
  const heads = new Int32Array(K);
  for (let b = 0; b < B; b++) {
    const len = p.lengths[b];
    if (len === 0) {
      scores[b * k] = 0;
      continue;
    }
    const em = p.emissions;
    const base = b * T * K;
    // cell (s, j) holds up to k entries: score, prev tag, prev rank.
    const sc = new Float64Array(len * K * k).fill(-Infinity);
    const pt = new Int32Array(len * K * k);
    const pr = new Int32Array(len * K * k);
    for (let j = 0; j < K; j++) sc[j * k] = w.start[j] + em[base + j];
    /** Merges the lists of step s (shifted by add(i)) into `emit(rank, score, i, headRank)`. */
    const merge = (s: number, add: (i: number) => number, emit: (r: number, v: number, i: number, h: number) => void) => {
      heads.fill(0);
      for (let r = 0; r < k; r++) {
        let best = -Infinity,
          bi = -1;
        for (let i = 0; i < K; i++) {
          if (heads[i] >= k) continue;
          const v = sc[(s * K + i) * k + heads[i]] + add(i);
          if (v > best) {
            best = v;
            bi = i;
          }
        }
        if (bi < 0) return;
        emit(r, best, bi, heads[bi]++);
      }
    };
    for (let s = 1; s < len; s++) {
      for (let j = 0; j < K; j++) {
        const e = em[base + s * K + j];
        merge(
          s - 1,
          (i) => w.trans[i * K + j],
          (r, v, i, h) => {
            const o = (s * K + j) * k + r;
            sc[o] = v + e;
            pt[o] = i;
            pr[o] = h;
          },
        );
      }
    }
    merge(
      len - 1,
      (j) => w.end[j],
      (r, v, j0, rank0) => {
        scores[b * k + r] = v;
        let j = j0,
          rank = rank0;
        for (let s = len - 1; s >= 0; s--) {
          paths[(b * k + r) * T + s] = j;
          const o = (s * K + j) * k + rank;
          j = pt[o];
          rank = pr[o];
        }
      },
    );
  }
  return { paths, scores, k };
}
