// Where a call is cut across threads.

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
