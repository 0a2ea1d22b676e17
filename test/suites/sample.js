// crf.sample against enumeration: each path's frequency among many seeded draws lies within the
// binomial bound of its exact probability, and a path the constraints or the annotation forbid is
// never drawn.
import { rng } from './oracle.js';
import { check, create } from './util.js';

/** @param {import('./util.js').Ctx} ctx */
export async function sampleFrequencies(ctx) {
  const R = rng(777);
  const K = 3,
    T = 4,
    B = 3,
    N = 20000;
  const em = Array.from({ length: B }, () => Array.from({ length: T }, () => Array.from({ length: K }, () => Math.fround(R.normal()))));
  // 4 positions on; 3 with a gap; 2 after a masked first step.
  const mask = [
    [1, 1, 1, 1],
    [1, 0, 1, 1],
    [0, 1, 1, 0],
  ];
  const constraints = {
    transitions: [
      [1, 1, 0],
      [1, 1, 1],
      [1, 1, 1],
    ],
    start: [1, 0, 1],
    end: [0, 1, 1],
  };
  const allowed = em.map((seq, b) => seq.map((_, t) => [1, b === 1 && t === 3 ? 0 : 1, 1]));
  const crf = await create(ctx, K, { batchFirst: true, constraints });
  const params = { start: Array.from({ length: K }, () => Math.fround(R.normal())), end: Array.from({ length: K }, () => Math.fround(R.normal())) };
  const trans = Array.from({ length: K }, () => Array.from({ length: K }, () => Math.fround(R.normal())));
  crf.loadStateDict({ start_transitions: params.start, end_transitions: params.end, transitions: trans });
  const got = await crf.sample(em, { mask, allowed, numSamples: N, seed: 31337 });
  for (let b = 0; b < B; b++) {
    const on = mask[b].flatMap((m, t) => (m ? [t] : []));
    const L = on.length;
    /** @type {Map<string, number>} */
    const scores = new Map();
    for (let code = 0; code < K ** L; code++) {
      const y = Array.from({ length: L }, (_, s) => Math.floor(code / K ** s) % K);
      let ok = constraints.start[y[0]] === 1 && constraints.end[y[L - 1]] === 1;
      let sc = params.start[y[0]] + params.end[y[L - 1]];
      y.forEach((j, s) => {
        ok &&= allowed[b][on[s]][j] === 1 && (s === 0 || constraints.transitions[y[s - 1]][j] === 1);
        sc += em[b][on[s]][j] + (s > 0 ? trans[y[s - 1]][j] : 0);
      });
      if (ok) scores.set(y.join(','), sc);
    }
    const m = Math.max(...scores.values());
    let z = 0;
    for (const v of scores.values()) z += Math.exp(v - m);
    /** @type {Map<string, number>} */
    const counts = new Map();
    for (const path of got[b]) counts.set(path.join(','), (counts.get(path.join(',')) ?? 0) + 1);
    check(got[b].length === N, `sequence ${b}: ${got[b].length} paths, expected ${N}`);
    for (const key of counts.keys()) check(scores.has(key), `sequence ${b}: drew [${key}], which is forbidden or not ${L} long`);
    for (const [key, s] of scores) {
      const p = Math.exp(s - m) / z;
      const f = (counts.get(key) ?? 0) / N;
      check(Math.abs(f - p) <= 5 * Math.sqrt((p * (1 - p)) / N) + 1 / N, `sequence ${b}, path [${key}]: frequency ${f}, probability ${p}`);
    }
  }
  crf.dispose();
}
