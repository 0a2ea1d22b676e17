// The k best paths per sequence with their scores, best first (k-best Viterbi: the max-plus semiring
// lifted to sorted lists of k).
import type { Packed } from '../call/pack.js';
import type { Potentials } from '../model/parameters.js';
import { defineOp, joinField } from './op.js';

/** The list size. */
export interface KBestArgs {
  k: number;
}

export interface KBestResult {
  /** `[B, k, T]` packed paths. */
  paths: Int32Array | number[];
  /** `[B, k]` scores, best first; −∞ marks a missing path (the sequence has fewer than k). */
  scores: Float64Array;
  k: number;
}

/**
 * k-best Viterbi (the max semiring lifted to sorted top-k lists): each cell keeps its k best
 * partial scores with (previous tag, previous rank) backpointers. A cell's list is the merge of its
 * K predecessors' sorted lists, taken head by head (ties: the smaller previous tag, then rank), so a
 * step costs O(K·k) per cell and no allocation.
 */
function reference(p: Packed, w: Potentials, { k }: KBestArgs): KBestResult {
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

export const kBest = defineOp<KBestArgs, KBestResult>({
  name: 'kBest',
  reference,
  wasm: {
    kernel: 'kBest',
    workArg: ({ k }) => k,
    outputs: (p, { k }) => [p.B * k * p.T * 4, p.B * k * 8],
    run(c, p, { k }) {
      c.kernel(p.B, p.T, k, c.em, c.lens, c.out[0], c.out[1], c.work);
      const [paths, scores] = c.out;
      return { paths: c.mem.i32.slice(paths >>> 2, (paths >>> 2) + p.B * k * p.T), scores: c.mem.f64.slice(scores >>> 3, (scores >>> 3) + p.B * k), k };
    },
  },
  // The lists' merges have no GPU kernel.
  gpu: 'cpu',
  threads: { split: { minK: 9, minWork: 2 ** 22 }, join: (parts, _p, { k }) => ({ paths: joinField(parts, 'paths'), scores: joinField(parts, 'scores'), k }) },
});
