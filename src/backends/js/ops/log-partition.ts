// Log Z per sequence in float64: the logPartition op's reference, which the js backend runs and the other
// backends are tested against (the op's spec, with what it computes: src/ops/log-partition.ts).
import type { Packed } from '../../../call/pack.js';
import type { Potentials } from '../../../model/parameters.js';
import { LogSum, chain, finalSum } from '../recursion.js';

export function logPartition(p: Packed, w: Potentials): Float64Array {
  const out = new Float64Array(p.B);
  for (let b = 0; b < p.B; b++) {
    const len = p.lengths[b];
    if (len === 0) continue;
    const c = chain(LogSum, p.emissions, b * p.T * p.K, p.K, len, p.K, w.start, w.trans, false, null);
    out[b] = c.shift === -Infinity ? -Infinity : finalSum(LogSum, c, len, p.K, w.end, null)[0];
  }
  return out;
}
