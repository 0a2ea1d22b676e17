// The float64 recursion every op's reference is written with (js/ops/*.ts): the semirings as objects with a
// fold, and one chain over them. Slow and exact: the oracle the other backends are tested against.

/**
 * A semiring whose values have `width` components, the first a log-weight. ⊗ by a potential adds it to
 * that component in every semiring here, so the recursion needs only ⊕: `sum` folds n values (at
 * v[i·width]) into out[o…]; `arg` receives the index that attains a max (Viterbi's backpointer).
 */
interface Semiring {
  width: number;
  sum(v: Float64Array, n: number, out: Float64Array, o: number, arg: Int32Array | null, at: number): void;
}

export const LogSum: Semiring = {
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

export const MaxPlus: Semiring = {
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
export const Entropy: Semiring = {
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
export function finalSum(
  sr: Semiring,
  c: { alpha: Float64Array; shift: number },
  len: number,
  K: number,
  end: Float64Array,
  arg: Int32Array | null,
): Float64Array {
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
export function normalise(v: Float64Array, n: number, q: Float64Array): void {
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
