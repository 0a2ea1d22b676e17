import type { Backend, KBestResult, Posteriors, Potentials, ViterbiResult } from '../backend.js';
import type { Packed } from '../pack.js';

/**
 * ⊕ of a semiring whose ⊗ is +. `arg` receives the index that attains a max (Viterbi's backpointer);
 * log-sum-exp leaves it alone.
 */
interface Semiring {
  sum(v: Float64Array, n: number, arg: Int32Array | null, at: number): number;
}

export const LogSemiring: Semiring = {
  sum(v, n) {
    let m = -Infinity;
    for (let i = 0; i < n; i++) if (v[i] > m) m = v[i];
    if (m === -Infinity) return m;
    let s = 0;
    for (let i = 0; i < n; i++) s += Math.exp(v[i] - m);
    return m + Math.log(s);
  },
};

export const MaxSemiring: Semiring = {
  sum(v, n, arg, at) {
    let m = -Infinity;
    let a = 0;
    for (let i = 0; i < n; i++) if (v[i] > m) { m = v[i]; a = i; }
    if (arg) arg[at] = a;
    return m;
  },
};

/**
 * The one recursion: α_s[j] = e_s[j] ⊗ ⊕_i (α_{s-1}[i] ⊗ trans[i][j]), α_0 = start ⊗ e_0.
 * Run on the reversed sequence with transposed transitions and `start` = end potentials it is the
 * backward pass (β including the step's own emission), so forward–backward is two calls of it.
 * Returns α for each step, `[len, K]`, in the order the steps were visited.
 */
export function chain(
  sr: Semiring, em: ArrayLike<number>, first: number, stride: number, len: number, K: number,
  start: Float64Array, trans: Float64Array, transposed: boolean, back: Int32Array | null,
): Float64Array {
  const alpha = new Float64Array(len * K);
  const v = new Float64Array(K);
  for (let j = 0; j < K; j++) alpha[j] = start[j] + em[first + j];
  for (let s = 1; s < len; s++) {
    const row = first + s * stride;
    for (let j = 0; j < K; j++) {
      for (let i = 0; i < K; i++) v[i] = alpha[(s - 1) * K + i] + (transposed ? trans[j * K + i] : trans[i * K + j]);
      alpha[s * K + j] = sr.sum(v, K, back, s * K + j) + em[row + j];
    }
  }
  return alpha;
}

function finalSum(sr: Semiring, alpha: Float64Array, len: number, K: number, end: Float64Array, arg: Int32Array | null): number {
  const v = new Float64Array(K);
  for (let j = 0; j < K; j++) v[j] = alpha[(len - 1) * K + j] + end[j];
  return sr.sum(v, K, arg, 0);
}

function forwardBackward(p: Packed, w: Potentials, b: number) {
  const { T, K } = p;
  const len = p.lengths[b];
  const base = b * T * K;
  const alpha = chain(LogSemiring, p.emissions, base, K, len, K, w.start, w.trans, false, null);
  const beta = chain(LogSemiring, p.emissions, base + (len - 1) * K, -K, len, K, w.end, w.trans, true, null);
  const logZ = finalSum(LogSemiring, alpha, len, K, w.end, null);
  return { alpha, beta, logZ };
}

/** Float64 log-space reference: slow, exact, the oracle for the other backends. */
export class JsBackend implements Backend {
  readonly name = 'js' as const;

  async logPartition(p: Packed, w: Potentials): Promise<Float64Array> {
    const out = new Float64Array(p.B);
    for (let b = 0; b < p.B; b++) {
      const len = p.lengths[b];
      if (len === 0) continue;
      const alpha = chain(LogSemiring, p.emissions, b * p.T * p.K, p.K, len, p.K, w.start, w.trans, false, null);
      out[b] = finalSum(LogSemiring, alpha, len, p.K, w.end, null);
    }
    return out;
  }

  async posteriors(p: Packed, w: Potentials): Promise<Posteriors> {
    const { B, T, K } = p;
    const logZ = new Float64Array(B);
    const unary = new Float64Array(B * T * K);
    const transCounts = new Float64Array(K * K);
    const pairScore = new Float64Array(B);
    for (let b = 0; b < B; b++) {
      const len = p.lengths[b];
      if (len === 0) continue;
      const { alpha, beta, logZ: z } = forwardBackward(p, w, b);
      logZ[b] = z;
      if (z === -Infinity) continue;
      const base = b * T * K;
      // beta was visited back to front: step s sits at row len-1-s.
      for (let s = 0; s < len; s++) {
        for (let j = 0; j < K; j++) {
          const lp = alpha[s * K + j] + beta[(len - 1 - s) * K + j] - p.emissions[base + s * K + j] - z;
          unary[base + s * K + j] = Math.exp(lp);
        }
        if (s === 0) continue;
        for (let i = 0; i < K; i++) {
          const a = alpha[(s - 1) * K + i];
          if (a === -Infinity) continue;
          for (let j = 0; j < K; j++) {
            const tr = w.trans[i * K + j];
            if (tr === -Infinity) continue;
            const q = Math.exp(a + tr + beta[(len - 1 - s) * K + j] - z);
            transCounts[i * K + j] += q;
            if (q > 0) pairScore[b] += q * tr;
          }
        }
      }
    }
    return { logZ, unary, transCounts, pairScore };
  }

  async viterbi(p: Packed, w: Potentials): Promise<ViterbiResult> {
    const { B, T, K } = p;
    const paths = new Int32Array(B * T);
    const scores = new Float64Array(B);
    const back = new Int32Array(T * K);
    const last = new Int32Array(1);
    for (let b = 0; b < B; b++) {
      const len = p.lengths[b];
      if (len === 0) continue;
      const alpha = chain(MaxSemiring, p.emissions, b * T * K, K, len, K, w.start, w.trans, false, back);
      scores[b] = finalSum(MaxSemiring, alpha, len, K, w.end, last);
      let y = last[0];
      for (let s = len - 1; s >= 0; s--) {
        paths[b * T + s] = y;
        y = back[s * K + y];
      }
    }
    return { paths, scores };
  }

  /**
   * k-best Viterbi (the max semiring lifted to sorted top-k lists): each cell keeps its k best
   * partial scores with (previous tag, previous rank) backpointers.
   */
  async kBest(p: Packed, w: Potentials, k: number): Promise<KBestResult> {
    const { B, T, K } = p;
    const paths = new Int32Array(B * k * T);
    const scores = new Float64Array(B * k).fill(-Infinity);
    for (let b = 0; b < B; b++) {
      const len = p.lengths[b];
      if (len === 0) { scores[b * k] = 0; continue; }
      const em = p.emissions;
      const base = b * T * K;
      // cell (s, j) holds up to k entries: score, prev tag, prev rank.
      const sc = new Float64Array(len * K * k).fill(-Infinity);
      const pt = new Int32Array(len * K * k);
      const pr = new Int32Array(len * K * k);
      for (let j = 0; j < K; j++) sc[j * k] = w.start[j] + em[base + j];
      const cand: [number, number, number][] = [];
      const topInto = (s: number, j: number, add: number) => {
        cand.sort((x, y) => y[0] - x[0] || x[1] - y[1] || x[2] - y[2]);
        for (let r = 0; r < Math.min(k, cand.length); r++) {
          const o = (s * K + j) * k + r;
          sc[o] = cand[r][0] + add;
          pt[o] = cand[r][1];
          pr[o] = cand[r][2];
        }
      };
      for (let s = 1; s < len; s++) {
        for (let j = 0; j < K; j++) {
          cand.length = 0;
          for (let i = 0; i < K; i++) {
            const tr = w.trans[i * K + j];
            for (let r = 0; r < k; r++) {
              const v = sc[((s - 1) * K + i) * k + r];
              if (v === -Infinity || tr === -Infinity) break;
              cand.push([v + tr, i, r]);
            }
          }
          topInto(s, j, em[base + s * K + j]);
        }
      }
      cand.length = 0;
      for (let j = 0; j < K; j++) {
        for (let r = 0; r < k; r++) {
          const v = sc[((len - 1) * K + j) * k + r];
          if (v === -Infinity || w.end[j] === -Infinity) break;
          cand.push([v + w.end[j], j, r]);
        }
      }
      cand.sort((x, y) => y[0] - x[0] || x[1] - y[1] || x[2] - y[2]);
      for (let r = 0; r < Math.min(k, cand.length); r++) {
        scores[b * k + r] = cand[r][0];
        let j = cand[r][1], rank = cand[r][2];
        for (let s = len - 1; s >= 0; s--) {
          paths[(b * k + r) * T + s] = j;
          const o = (s * K + j) * k + rank;
          j = pt[o];
          rank = pr[o];
        }
      }
    }
    return { paths, scores, k };
  }

  dispose(): void {}
}
