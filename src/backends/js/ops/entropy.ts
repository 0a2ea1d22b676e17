// H(y | x) per sequence in float64: the entropy op's reference, which the js backend runs and the other
// backends are tested against (the op's spec, with what it computes: src/ops/entropy.ts).
import type { Packed } from '../../../call/pack.js';
import type { Potentials } from '../../../model/parameters.js';
import type { EntropyResult } from '../../../ops/entropy.js';
import { Entropy, chain, finalSum } from '../recursion.js';

export function entropy(p: Packed, w: Potentials): EntropyResult {
  const logZ = new Float64Array(p.B);
  const entropy = new Float64Array(p.B);
  for (let b = 0; b < p.B; b++) {
    const len = p.lengths[b];
    if (len === 0) continue;
    const c = chain(Entropy, p.emissions, b * p.T * p.K, p.K, len, p.K, w.start, w.trans, false, null);
    if (c.shift === -Infinity) {
      logZ[b] = -Infinity;
      continue;
    }
    [logZ[b], entropy[b]] = finalSum(Entropy, c, len, p.K, w.end, null);
  }
  return { logZ, entropy };
}
