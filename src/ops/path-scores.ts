// The gold path's score by its definition, in float64: what the float64 references and the GPU ops
// compute, and what the kernels' gold scores (assembly/ops/log-likelihood.ts goldScores) equal exactly.
// Only the lazily loaded backends import it: the calls on the kernels never load it.
import type { Packed } from '../call/pack.js';
import type { Potentials } from '../model/parameters.js';

/** score(y) per sequence over packed tags; -Infinity where y takes a forbidden step. */
export function pathScores(p: Packed, tags: Int32Array, w: Potentials): Float64Array {
  const { B, T, K } = p;
  const out = new Float64Array(B);
  for (let b = 0; b < B; b++) {
    const len = p.lengths[b];
    if (len === 0) continue;
    let y = tags[b * T];
    let s = w.start[y] + p.emissions[b * T * K + y];
    for (let t = 1; t < len; t++) {
      const z = tags[b * T + t];
      s += w.trans[y * K + z] + p.emissions[(b * T + t) * K + z];
      y = z;
    }
    out[b] = s + w.end[y];
  }
  return out;
}
