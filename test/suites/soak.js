// Soak: many mixed calls on one instance, each checked against the float64 reference, with the memory
// the process and the instances hold (memoryUsage()) read at the start and the end.
import { rng } from './oracle.js';

/** @typedef {import('webcrf').CRF} CRF */
/** @typedef {ReturnType<typeof randomCall>} Call */
/** What `soak` reads at the start and the end: the backend's bytes and the caller's `memory()` figures. @typedef {Record<string, number> & import('webcrf').MemoryUsage} Usage */

/** @param {import('./oracle.js').Rng} R */
function randomCall(R) {
  const K = [2, 3, 5, 9, 16][R.int(5)],
    T = 1 + R.int(24),
    B = 1 + R.int(6);
  const em = Array.from({ length: B }, () => Array.from({ length: T }, () => Array.from({ length: K }, () => Math.fround(2 * R.normal()))));
  const mask = Array.from({ length: B }, () => Array.from({ length: T }, () => (R.next() < 0.85 ? 1 : 0)));
  const tags = Array.from({ length: B }, () => Array.from({ length: T }, () => R.int(K)));
  return { K, em, mask, tags, op: ['forward', 'decode', 'marginals', 'forwardBackward'][R.int(4)] };
}

/** @param {CRF} crf @param {Call} c @returns {Promise<number[] | number[][]>} */
async function apply(crf, c) {
  switch (c.op) {
    case 'forward':
      return Array.from(await crf.forward(c.em, c.tags, { mask: c.mask, reduction: 'none' }));
    case 'decode':
      return crf.decode(c.em, { mask: c.mask });
    case 'marginals':
      return Array.from(await crf.marginals(c.em, { mask: c.mask }));
    default: {
      const r = await crf.forwardBackward(c.em, c.tags, { mask: c.mask });
      return [r.logLikelihood, ...r.grads.emissions, ...r.grads.transitions, ...r.grads.startTransitions, ...r.grads.endTransitions];
    }
  }
}

/** @param {number[] | number[][]} a @param {number[] | number[][]} b @param {string} op @param {number} tol */
function agree(a, b, op, tol) {
  if (op === 'decode') return JSON.stringify(a) === JSON.stringify(b);
  // Every op but decode gives numbers.
  const [x, y] = /** @type {[number[], number[]]} */ ([a, b]);
  return x.length === y.length && x.every((v, i) => Math.abs(v - y[i]) <= tol * (1 + Math.abs(y[i])));
}

/**
 * `calls` mixed calls with K fixed per instance: one instance per K so that shapes vary within it.
 * The memory figures: `start` after the first half, `end` after the second, which repeats the first.
 * @param {{ lib: typeof import('webcrf'), backend: import('webcrf').BackendName, options?: import('webcrf').CRFOptions,
 *   calls: number, seed?: number, memory?: () => Record<string, number>, tol?: number }} opts
 * @returns {Promise<{ calls: number, disagreements: string[], start: Usage, end: Usage }>}
 */
export async function soak({ lib, backend, options = {}, calls, seed = 1, memory = () => ({}), tol = 2e-3 }) {
  /** @type {Map<number, CRF>} */
  const crfs = new Map();
  /** @type {Map<number, CRF>} */
  const refs = new Map();
  /** @type {(K: number) => Promise<[CRF, CRF]>} */
  const get = async (K) => {
    if (!crfs.has(K)) {
      const crf = await lib.CRF.create(K, { backend, seed: K, ...options });
      const ref = await lib.CRF.create(K, { backend: 'js', seed: K });
      crfs.set(K, crf);
      refs.set(K, ref);
    }
    return /** @type {[CRF, CRF]} */ ([crfs.get(K), refs.get(K)]);
  };
  const usage = () => ({
    ...memory(),
    ...[...crfs.values()].reduce(
      (acc, c) => {
        const m = c.memoryUsage ? c.memoryUsage() : /** @type {Partial<import('webcrf').MemoryUsage>} */ ({});
        return { wasmBytes: acc.wasmBytes + (m.wasmBytes ?? 0), gpuBytes: acc.gpuBytes + (m.gpuBytes ?? 0), cacheBytes: acc.cacheBytes + (m.cacheBytes ?? 0) };
      },
      { wasmBytes: 0, gpuBytes: 0, cacheBytes: 0 },
    ),
  });
  // Two passes over the same calls: the first finds every size class the mix needs (memory grows to
  // the largest call, pools fill), the second must reuse all of it. Start is read between them.
  const half = Math.ceil(calls / 2);
  /** @type {string[]} */
  const disagreements = [];
  /** @type {Usage | null} */
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
  // Pass 0 always runs: start is read.
  return { calls, disagreements, start: /** @type {Usage} */ (start), end };
}
