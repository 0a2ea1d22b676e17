/**
 * log p(y | x) for each path of one sequence's k-best list, from its scores (best first) and log Z.
 *
 * The scores and log Z come from different recursions (on the float32 backends from different kernels,
 * and on WebGPU from different processors), each exact only to its own rounding: score − log Z alone can
 * come out above 0 when one path holds nearly all the mass. So the list is normalised by whichever is
 * larger, log Z or the log of the list's own mass, both taken relative to the best score (no absolute
 * score enters a difference that is meant to be small). Then the list's probabilities cannot sum past 1
 * in exact arithmetic; the last step makes that hold for their float64 sum in any order: a sum of n
 * terms, each exp rounded once, is within about (n + 1)·2^-53 of the exact sum, so the list's sum in
 * its own order is brought to at most 1 − 3n·2^-53.
 * @param scores the list's scores, best first, `n` of them from `from` (all finite)
 * @param logZ log Z of the sequence over every path the CRF allows (≥ each score in exact arithmetic)
 * @param out receives the n log-probabilities from index 0
 */
export function listLogProbs(scores: ArrayLike<number>, from: number, n: number, logZ: number, out: Float64Array): void {
  const top = scores[from];
  let rest = 0;
  for (let r = 1; r < n; r++) rest += Math.exp(scores[from + r] - top);
  const z = logZ - top,
    own = Math.log1p(rest);
  // Written so that a log Z that is not a number leaves the list's own mass in charge.
  const norm = z > own ? z : own;
  for (let r = 0; r < n; r++) out[r] = scores[from + r] - top - norm;
  // One path: exp(x) ≤ 1 exactly when x ≤ 0, and norm ≥ log1p(0) = 0.
  if (n === 1) return;
  const most = 1 - 3 * n * 2 ** -53;
  for (let step = 2 ** -52; ; step *= 2) {
    let sum = 0;
    for (let r = 0; r < n; r++) sum += Math.exp(out[r]);
    // (A NaN sum, which finite scores cannot give, ends the loop too.)
    if (!(sum > most)) return;
    // exp(x − d) ≈ exp(x)·(1 − d): lowering every term by the excess (at least `step`, doubling in case
    // the subtraction rounds away on a term of large magnitude) brings the sum under the bound.
    const d = Math.max(sum - most, step);
    for (let r = 0; r < n; r++) out[r] -= d;
  }
}
