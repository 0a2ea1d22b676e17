/**
 * Where a batch may be cut. Results per sequence do not depend on which sequences share a kernel call
 * (the kernels run one sequence at a time), but posteriors' expected transition counts are a sum over
 * the batch, and float addition is not associative. So that sum is taken in fixed blocks of sequences,
 * boundaries that depend on the call's shape only, never on how many threads run it: each block's
 * counts are summed from zero, then the block sums are added in block order. One thread and n threads
 * then add the same numbers in the same order, and give the same bits.
 */

/**
 * Sequences per block of the counts sum: 16, or more where one block's K² counts would outweigh its
 * B·T·K marginals (short sequences, many tags), so that handing per-block sums between threads costs
 * no more than the marginals themselves.
 */
export function countBlock(T: number, K: number): number {
  return Math.max(16, Math.ceil((2 * K) / T));
}

/** Adds `parts` (`[n, K·K]` block sums, in block order) into `total` (`K·K`), left to right. */
export function foldCounts(total: Float64Array, parts: Float64Array): void {
  const KK = total.length;
  for (let o = 0; o < parts.length; o += KK) {
    for (let i = 0; i < KK; i++) total[i] += parts[o + i];
  }
}

/**
 * Cuts sequences [0, B) into `n` contiguous ranges at multiples of `block`, balanced by work (the
 * sequences' lengths, plus one per sequence for its fixed cost). Returns the n + 1 boundaries; some
 * ranges may be empty.
 */
export function splitBatch(lengths: Int32Array, n: number, block: number): number[] {
  const B = lengths.length;
  const blocks = Math.ceil(B / block);
  const cost = new Float64Array(blocks + 1);
  for (let i = 0; i < blocks; i++) {
    let c = 0;
    for (let b = i * block; b < Math.min(B, (i + 1) * block); b++) c += lengths[b] + 1;
    cost[i + 1] = cost[i] + c;
  }
  const cuts = [0];
  let at = 0;
  for (let r = 1; r < n; r++) {
    const goal = (cost[blocks] * r) / n;
    while (at < blocks && cost[at + 1] <= goal) at++;
    // The nearer of the two block boundaries around the goal.
    if (at < blocks && cost[at + 1] - goal < goal - cost[at]) at++;
    cuts.push(Math.min(B, at * block));
  }
  cuts.push(B);
  return cuts;
}
