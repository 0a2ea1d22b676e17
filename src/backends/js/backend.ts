import type { Backend, EntropyResult, KBestResult, Posteriors, Potentials, ViterbiResult } from '../backend.js';
import type { Packed } from '../../call/pack.js';

/**
 * A semiring whose values have `width` components, the first a log-weight. ⊗ by a potential adds it to
 * that component in every semiring here, so the recursion needs only ⊕: `sum` folds n values (at
 * v[i·width]) into out[o…]; `arg` receives the index that attains a max (Viterbi's backpointer).
 */
interface Semiring {
  width: number;
  sum(v: Float64Array, n: number, out: Float64Array, o: number, arg: Int32Array | null, at: number): void;
}

export const LogSemiring: Semiring = {
  width: 1,
  sum(v, n, out, o) {
    let m = -Infinity;
    for (let i = 0; i < n; i++) if (v[i] > m) m = v[i];
    if (m === -Infinity) {
      out[o] = m;
      return;
    }
    let s = 0;
    for (let i = 0; i < n; i++) s += Math.exp(v[i] - m);
    out[o] = m + Math.log(s);
  },
};

export const MaxSemiring: Semiring = {
  width: 1,
  sum(v, n, out, o, arg, at) {
    let m = -Infinity;
    let a = 0;
    for (let i = 0; i < n; i++)
      if (v[i] > m) {
        m = v[i];
        a = i;
      }
    if (arg) arg[at] = a;
    out[o] = m;
  },
};

/**
 * The entropy semiring (torch-struct's): values (log-weight x, entropy H) of a set of paths;
 * ⊕ gives (log Σ e^x_i, Σ p_i (H_i − log p_i)) with p_i = e^(x_i − lse). Every term is ≥ 0, and
 * −log p_i = (m − x_i) + log1p(Σ_{i ≠ argmax} e^(x_i − m)) with m the max, so nothing cancels even when
 * one path holds all but 1e-9 of the mass (log Z − E[score] would lose it all).
 */
export const EntropySemiring: Semiring = {
  width: 2,
  sum(v, n, out, o) {
    let m = -Infinity,
      a = -1;
    for (let i = 0; i < n; i++)
      if (v[2 * i] > m) {
        m = v[2 * i];
        a = i;
      }
    if (m === -Infinity) {
      out[o] = m;
      out[o + 1] = 0;
      return;
    }
    let rest = 0,
      h = 0;
    for (let i = 0; i < n; i++) {
      const x = v[2 * i];
      if (x === -Infinity) continue;
      const e = Math.exp(x - m);
      if (i !== a) rest += e;
      h += e * (v[2 * i + 1] + (m - x));
    }
    const l = Math.log1p(rest);
    out[o] = m + l;
    out[o + 1] = h / (1 + rest) + l;
  },
};

/**
 * The one recursion: α_s[j] = e_s[j] ⊗ ⊕_i (α_{s-1}[i] ⊗ trans[i][j]), α_0 = start ⊗ e_0.
 * Run on the reversed sequence with transposed transitions and `start` = end potentials it is the
 * backward pass (β including the step's own emission), so forward–backward is two calls of it.
 * Each step is kept relative: its emissions less the row's largest, its log-weights less their max, both
 * added to `shift` (so log α_s = alpha_s + the shifts up to s). float64 then keeps the digits of the
 * transitions next to emissions of 1e15, where absolute log-weights of T·1e15 would not.
 * Returns α for each step, `[len, K, width]`, in the order the steps were visited, and the total shift
 * (−∞ when some step has no reachable tag).
 */
export function chain(
  sr: Semiring,
  em: ArrayLike<number>,
  first: number,
  stride: number,
  len: number,
  K: number,
  start: Float64Array,
  trans: Float64Array,
  transposed: boolean,
  back: Int32Array | null,
): { alpha: Float64Array; shift: number } {
  const w = sr.width;
  const alpha = new Float64Array(len * K * w);
  const v = new Float64Array(K * w);
  let shift = 0;
  for (let s = 0; s < len; s++) {
    const row = first + s * stride;
    const o = s * K * w;
    let me = -Infinity;
    for (let j = 0; j < K; j++) me = Math.max(me, em[row + j]);
    for (let j = 0; j < K; j++) {
      if (s === 0) {
        alpha[o + j * w] = start[j];
      } else {
        const prev = o - K * w;
        for (let i = 0; i < K; i++) {
          v[i * w] = alpha[prev + i * w] + (transposed ? trans[j * K + i] : trans[i * K + j]);
          for (let c = 1; c < w; c++) v[i * w + c] = alpha[prev + i * w + c];
        }
        sr.sum(v, K, alpha, o + j * w, back, s * K + j);
      }
      alpha[o + j * w] += em[row + j] - me;
    }
    let m = -Infinity;
    for (let j = 0; j < K; j++) m = Math.max(m, alpha[o + j * w]);
    if (m === -Infinity) return { alpha, shift: -Infinity };
    for (let j = 0; j < K; j++) alpha[o + j * w] -= m;
    shift += me + m;
  }
  return { alpha, shift };
}

/** ⊕_j α_last[j] ⊗ end[j] (plus the chain's shift): the whole sequence's value (`width` components). */
function finalSum(sr: Semiring, c: { alpha: Float64Array; shift: number }, len: number, K: number, end: Float64Array, arg: Int32Array | null): Float64Array {
  const w = sr.width;
  const v = new Float64Array(K * w);
  const last = (len - 1) * K * w;
  for (let j = 0; j < K; j++) {
    v[j * w] = c.alpha[last + j * w] + end[j];
    for (let i = 1; i < w; i++) v[j * w + i] = c.alpha[last + j * w + i];
  }
  const out = new Float64Array(w);
  sr.sum(v, K, out, 0, arg, 0);
  out[0] += c.shift;
  return out;
}

/** Writes exp(v[i] − lse) for the n values into `q` (all 0 when every v is −∞). */
function normalise(v: Float64Array, n: number, q: Float64Array): void {
  let m = -Infinity;
  for (let i = 0; i < n; i++) if (v[i] > m) m = v[i];
  if (m === -Infinity) {
    q.fill(0, 0, n);
    return;
  }
  let s = 0;
  for (let i = 0; i < n; i++) s += q[i] = Math.exp(v[i] - m);
  for (let i = 0; i < n; i++) q[i] /= s;
}

/** Float64 log-space reference: slow, exact, the oracle for the other backends. */
export class JsBackend implements Backend {
  readonly name = 'js' as const;
  readonly precision = 'float64' as const;

  async logPartition(p: Packed, w: Potentials): Promise<Float64Array> {
    const out = new Float64Array(p.B);
    for (let b = 0; b < p.B; b++) {
      const len = p.lengths[b];
      if (len === 0) continue;
      const c = chain(LogSemiring, p.emissions, b * p.T * p.K, p.K, len, p.K, w.start, w.trans, false, null);
      out[b] = c.shift === -Infinity ? -Infinity : finalSum(LogSemiring, c, len, p.K, w.end, null)[0];
    }
    return out;
  }

  async entropy(p: Packed, w: Potentials): Promise<EntropyResult> {
    const logZ = new Float64Array(p.B);
    const entropy = new Float64Array(p.B);
    for (let b = 0; b < p.B; b++) {
      const len = p.lengths[b];
      if (len === 0) continue;
      const c = chain(EntropySemiring, p.emissions, b * p.T * p.K, p.K, len, p.K, w.start, w.trans, false, null);
      if (c.shift === -Infinity) {
        logZ[b] = -Infinity;
        continue;
      }
      [logZ[b], entropy[b]] = finalSum(EntropySemiring, c, len, p.K, w.end, null);
    }
    return { logZ, entropy };
  }

  /**
   * Forward–backward on relative log-weights (see `chain`): each position's marginals are normalised
   * by their own log-sum-exp and each step's pair marginals by theirs, so no absolute log Z (which
   * carries ulps of T·|e|) enters a probability.
   */
  async posteriors(p: Packed, w: Potentials): Promise<Posteriors> {
    const { B, T, K } = p;
    const logZ = new Float64Array(B);
    const unary = new Float64Array(B * T * K);
    const transCounts = new Float64Array(K * K);
    const v = new Float64Array(K * K);
    const q = new Float64Array(K * K);
    for (let b = 0; b < B; b++) {
      const len = p.lengths[b];
      if (len === 0) continue;
      const base = b * T * K;
      const fwd = chain(LogSemiring, p.emissions, base, K, len, K, w.start, w.trans, false, null);
      logZ[b] = fwd.shift === -Infinity ? -Infinity : finalSum(LogSemiring, fwd, len, K, w.end, null)[0];
      if (logZ[b] === -Infinity) continue;
      const { alpha } = fwd;
      // beta (visited back to front: step s at row len-1-s) includes e_s; its relative part comes out.
      const { alpha: beta } = chain(LogSemiring, p.emissions, base + (len - 1) * K, -K, len, K, w.end, w.trans, true, null);
      for (let s = 0; s < len; s++) {
        const row = base + s * K;
        let me = -Infinity;
        for (let j = 0; j < K; j++) me = Math.max(me, p.emissions[row + j]);
        const bs = (len - 1 - s) * K;
        // An emission of −∞ (a tag a partial annotation rules out) has marginal 0; subtracting it would be NaN.
        for (let j = 0; j < K; j++) {
          const e = p.emissions[row + j];
          v[j] = e === -Infinity ? -Infinity : alpha[s * K + j] + beta[bs + j] - (e - me);
        }
        normalise(v, K, q);
        unary.set(q.subarray(0, K), row);
        if (s === 0) continue;
        for (let i = 0; i < K; i++) {
          for (let j = 0; j < K; j++) v[i * K + j] = alpha[(s - 1) * K + i] + w.trans[i * K + j] + beta[bs + j];
        }
        normalise(v, K * K, q);
        for (let i = 0; i < K * K; i++) transCounts[i] += q[i];
      }
    }
    return { logZ, unary, transCounts };
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
      const c = chain(MaxSemiring, p.emissions, b * T * K, K, len, K, w.start, w.trans, false, back);
      if (c.shift === -Infinity) {
        scores[b] = -Infinity;
        continue;
      }
      scores[b] = finalSum(MaxSemiring, c, len, K, w.end, last)[0];
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
   * partial scores with (previous tag, previous rank) backpointers. A cell's list is the merge of its
   * K predecessors' sorted lists, taken head by head (ties: the smaller previous tag, then rank), so a
   * step costs O(K·k) per cell and no allocation.
   */
  async kBest(p: Packed, w: Potentials, k: number): Promise<KBestResult> {
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

  dispose(): void {}
}
