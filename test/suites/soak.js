// Soak: many mixed calls on one instance, each checked against the float64 reference, with the memory
// the process and the backend hold read at the start and the end.
import { rng } from './oracle.js';

function randomCall(R) {
  const K = [2, 3, 5, 9, 16][R.int(5)], T = 1 + R.int(24), B = 1 + R.int(6);
  const em = Array.from({ length: B }, () => Array.from({ length: T }, () => Array.from({ length: K }, () => Math.fround(2 * R.normal()))));
  const mask = Array.from({ length: B }, () => Array.from({ length: T }, () => (R.next() < 0.85 ? 1 : 0)));
  const tags = Array.from({ length: B }, () => Array.from({ length: T }, () => R.int(K)));
  return { K, em, mask, tags, op: ['forward', 'decode', 'marginals', 'forwardBackward'][R.int(4)] };
}

async function apply(crf, c) {
  switch (c.op) {
    case 'forward': return Array.from(await crf.forward(c.em, c.tags, { mask: c.mask, reduction: 'none' }));
    case 'decode': return crf.decode(c.em, { mask: c.mask });
    case 'marginals': return Array.from(await crf.marginals(c.em, { mask: c.mask }));
    default: {
      const r = await crf.forwardBackward(c.em, c.tags, { mask: c.mask });
      return [r.logLikelihood, ...r.grads.emissions, ...r.grads.transitions, ...r.grads.startTransitions, ...r.grads.endTransitions];
    }
  }
}

function agree(a, b, op, tol) {
  if (op === 'decode') return JSON.stringify(a) === JSON.stringify(b);
  return a.length === b.length && a.every((x, i) => Math.abs(x - b[i]) <= tol * (1 + Math.abs(b[i])));
}

/**
 * `calls` mixed calls with K fixed per instance: one instance per K so that shapes vary within it.
 * The memory figures: `start` after the first half, `end` after the second, which repeats the first.
 * @returns {{ calls: number, disagreements: string[], start: object, end: object }}
 */
export async function soak({ lib, backend, options = {}, calls, seed = 1, memory = () => ({}), tol = 2e-3 }) {
  const crfs = new Map();
  const refs = new Map();
  const get = async (K) => {
    if (!crfs.has(K)) {
      const crf = await lib.CRF.create(K, { backend, seed: K, ...options });
      const ref = await lib.CRF.create(K, { backend: 'js', seed: K });
      crfs.set(K, crf);
      refs.set(K, ref);
    }
    return [crfs.get(K), refs.get(K)];
  };
  const usage = () => ({ ...memory(), wasmBytes: 0, gpuBytes: 0, ...[...crfs.values()].reduce((acc, c) => {
    const m = c.memoryUsage ? c.memoryUsage() : {};
    return { wasmBytes: acc.wasmBytes + (m.wasmBytes ?? 0), gpuBytes: acc.gpuBytes + (m.gpuBytes ?? 0) };
  }, { wasmBytes: 0, gpuBytes: 0 }) });
  // Two passes over the same calls: the first finds every size class the mix needs (memory grows to
  // the largest call, pools fill), the second must reuse all of it. Start is read between them.
  const half = Math.ceil(calls / 2);
  const disagreements = [];
  let start = null;
  for (let pass = 0; pass < 2; pass++) {
    const R = rng(seed);
    for (let i = 0; i < half && pass * half + i < calls; i++) {
      const c = randomCall(R);
      const [crf, ref] = await get(c.K);
      const [a, b] = [await apply(crf, c), await apply(ref, c)];
      if (!agree(a, b, c.op, tol)) disagreements.push(`call ${pass * half + i} (${c.op}, K=${c.K}, B=${c.em.length}, T=${c.em[0].length})`);
    }
    if (pass === 0) start = usage();
  }
  const end = usage();
  for (const c of [...crfs.values(), ...refs.values()]) c.dispose();
  return { calls, disagreements, start, end };
}
