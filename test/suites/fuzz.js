// Differential fuzzing: random shapes, layouts, masks, constraints and scales from 1e-3 to beyond the
// supported ±1e20; inputs handed over as typed arrays, plain arrays, nested arrays, Proxies that answer
// NaN on a second read, getters, array-likes that are no Array, onnxruntime / transformers.js tensors
// (duck-typed), and typed-array subclasses with a
// truncating species; parameters written between calls; Object.prototype polluted with the keys the
// package reads (`mask`, `reduction`, `data`, ...), which must change nothing. Every backend against the
// float64 js backend (and js against enumeration where that is small), plus the invariants: llh ≤ 0,
// entropy in [0, L·ln K], marginals summing to 1, and the probabilities of decode's top-k lists
// (exp(logProb)) each ≤ 1 and summing to ≤ 1.
// Seeded: a run is reproduced by its printed seed, and a failure is shrunk to a minimal case printed as JSON.
import { bruteForce, rng } from './oracle.js';

/** @typedef {typeof import('webcrf')} Lib */
/** @typedef {import('webcrf').BackendName} BackendName */
/** @typedef {import('webcrf').CRFOptions} CRFOptions */
/** @typedef {{ transitions: boolean[][], start: boolean[], end: boolean[] }} Bits */
/** A case's constraints: a matrix with start and end tags, or a scheme for allowedTransitions. @typedef {Bits | { scheme: import('webcrf').TaggingScheme, labels: string[] }} CaseConstraints */
/** @typedef {ReturnType<typeof randomCase>} Case */
/** @typedef {(x: Case) => Promise<string[]>} Check */

/**
 * What one backend gives on a case. A run that stops early sets only its flags (outOfRange with
 * accepted, or noPath): read the rest after checking them.
 * @typedef {object} Results
 * @property {boolean} [outOfRange] emissions beyond the supported range (refused, or accepted)
 * @property {boolean} [accepted] an op took emissions beyond the range
 * @property {boolean} [noPath] some sequence has no allowed path
 * @property {number[]} llh
 * @property {number[]} [typedLlh] llh with the emissions as a typed array (for other containers)
 * @property {number[][]} decode
 * @property {import('webcrf').ScoredPath[][]} topK
 * @property {number[]} marginals
 * @property {number[]} entropy
 * @property {Record<'emissions' | 'transitions' | 'startTransitions' | 'endTransitions', number[]>} grads
 * @property {BackendName} backend
 * @property {string[]} [mutationErrors] per call after a refused parameter value: the argument named
 * @property {number[]} [llhAfter] llh after the value was put back (after a transfer: llh when the
 *   other parameters are unchanged)
 */

/** Emission scales; 3e38 is beyond the supported ±1e20 and must be refused by every backend. */
const SCALES = [1e-3, 1, 10, 1e4, 1e8, 1e15, 1e20, 3e38];
const LIMIT = 1e20;
const CONTAINERS = ['typed', 'array', 'nested', 'proxy', 'getters', 'species', 'arraylike', 'ort', 'transformers'];
/**
 * What is done to a live parameter between calls: a value written that is refused (NaN, +Infinity,
 * beyond ±1e20) or forbids (−Infinity), or its buffer transferred away.
 */
const MUTATIONS = [null, null, NaN, Infinity, 2e20, -Infinity, 'transfer'];
/** @type {('transitions' | 'startTransitions' | 'endTransitions')[]} */
const PARAMS = ['transitions', 'startTransitions', 'endTransitions'];

/**
 * A random case, described by plain data so it can be printed and replayed.
 * @param {import('./oracle.js').Rng} R
 */
export function randomCase(R) {
  const K = [1, 2, 3, 5, 9, 17, 33][R.int(7)];
  const T = 1 + R.int([4, 12, 40][R.int(3)]);
  const B = 1 + R.int(6);
  const scale = SCALES[R.int(SCALES.length)];
  const f32 = (/** @type {number} */ v) => Math.fround(v);
  const start = Array.from({ length: K }, () => f32(R.normal()));
  const end = Array.from({ length: K }, () => f32(R.normal()));
  const trans = Array.from({ length: K * K }, () => f32(R.next() < 0.1 ? -1e4 : R.normal()));
  const maskKind = ['prefix', 'gaps', 'firstOff', 'allOff', 'none'][R.int(5)];
  /** @type {number[][]} */
  const mask = [];
  for (let b = 0; b < B; b++) {
    const len = 1 + R.int(T);
    mask.push(
      Array.from({ length: T }, (_, t) => {
        switch (maskKind) {
          case 'prefix':
            return t < len ? 1 : 0;
          case 'gaps':
            return R.next() < 0.6 ? 1 : 0;
          case 'firstOff':
            return t > 0 && t < len + 1 ? 1 : 0;
          case 'allOff':
            return b === 0 ? 0 : R.next() < 0.8 ? 1 : 0;
          default:
            return 1;
        }
      }),
    );
  }
  // Within the range the values stay within it (a clamp at the edge); beyond it they are left as drawn.
  const em = Array.from({ length: B * T * K }, () => f32(scale > LIMIT ? scale * R.normal() : Math.max(-LIMIT, Math.min(LIMIT, scale * R.normal()))));
  /** @type {CaseConstraints | null} */
  let constraints = null;
  const cKind = R.int(3);
  if (cKind === 1 && K >= 2) {
    // A banded structure that always admits a path (staying on one tag is allowed).
    constraints = {
      transitions: Array.from({ length: K }, (_, i) => Array.from({ length: K }, (_, j) => i === j || R.next() < 0.5)),
      start: Array.from({ length: K }, (_, j) => j === 0 || R.next() < 0.5),
      end: Array.from({ length: K }, (_, j) => j === 0 || R.next() < 0.5),
    };
  } else if (cKind === 2 && K === 5) {
    constraints = { scheme: 'BIOES', labels: ['O', 'B-X', 'I-X', 'E-X', 'S-X'] };
  } else if (cKind === 2 && K === 3) {
    constraints = { scheme: 'BIO', labels: ['O', 'B-X', 'I-X'] };
  }
  const tags = Array.from({ length: B * T }, () => R.int(K));
  const container = CONTAINERS[R.int(CONTAINERS.length)];
  const mutation = { value: MUTATIONS[R.int(MUTATIONS.length)], param: PARAMS[R.int(3)], at: R.int(K) };
  const pollute = R.next() < 0.25;
  return { K, T, B, batchFirst: R.next() < 0.5, scale, start, end, trans, mask, em, tags, constraints, topK: 1 + R.int(4), container, mutation, pollute };
}

/**
 * What Object.prototype is polluted with in a case that asks for it: the option names and input keys
 * the package reads, each with a value that a read would show (a different mask, reduction, layout,
 * constraint or result), shaped for the case so that it would be taken rather than refused.
 * @param {Case} c
 */
function pollution(c) {
  const { B, T, K, batchFirst } = c;
  const [d0, d1] = batchFirst ? [B, T] : [T, B];
  const diagonal = () => Array.from({ length: K }, (_, i) => Array.from({ length: K }, (_, j) => i === j));
  const first = () => Array.from({ length: K }, (_, j) => j === 0);
  return {
    mask: Array.from({ length: d0 }, () => new Array(d1).fill(0)),
    reduction: 'mean',
    batchFirst: !batchFirst,
    topK: c.topK + 1,
    allowed: Array.from({ length: d0 }, () => Array.from({ length: d1 }, first)),
    constraints: diagonal(),
    transitions: diagonal(),
    start: first(),
    end: first(),
    data: new Float32Array(B * T * K).fill(1),
    shape: [d0, d1, K],
    start_transitions: new Array(K).fill(5),
    end_transitions: new Array(K).fill(5),
    seed: 1,
  };
}

/**
 * `body` run with Object.prototype carrying `values`; the prototype is restored whatever happens.
 * @template R @param {Record<string, unknown>} values @param {() => Promise<R>} body @returns {Promise<R>}
 */
export async function withPollutedPrototype(values, body) {
  const proto = /** @type {Record<string, unknown>} */ (/** @type {unknown} */ (Object.prototype));
  const keys = Object.keys(values);
  const saved = keys.map((k) => Object.getOwnPropertyDescriptor(proto, k));
  try {
    for (const k of keys) proto[k] = values[k];
    return await body();
  } finally {
    keys.forEach((k, i) => {
      const d = saved[i];
      if (d) Object.defineProperty(proto, k, d);
      else delete proto[k];
    });
  }
}

/**
 * The emissions of `x` (batch-first typed data) handed over as `kind`: every kind must give exactly
 * the typed result, since each value is read once into the CRF's own copy.
 * @param {string} kind @param {{ data: Float32Array, shape: number[] }} em
 * @returns {import('webcrf').EmissionsInput}
 */
function container(kind, em) {
  const [d0, d1, K] = em.shape;
  const flat = Array.from(em.data);
  switch (kind) {
    case 'array':
      return { data: flat, shape: em.shape };
    case 'nested':
      return Array.from({ length: d0 }, (_, a) => Array.from({ length: d1 }, (_, b) => flat.slice((a * d1 + b) * K, (a * d1 + b + 1) * K)));
    case 'proxy': {
      const seen = new Set();
      return {
        data: new Proxy(flat, {
          get: (t, k) => (typeof k === 'string' && /^\d+$/.test(k) ? (seen.has(k) ? NaN : (seen.add(k), Reflect.get(t, k))) : Reflect.get(t, k)),
        }),
        shape: em.shape,
      };
    }
    case 'getters': {
      const o = { length: flat.length };
      const read = new Uint8Array(flat.length);
      flat.forEach((v, i) => Object.defineProperty(o, i, { get: () => (read[i]++ ? NaN : v) }));
      return { data: o, shape: em.shape };
    }
    case 'arraylike': {
      // Nested array-likes that are no Array (an inherited `data` and `shape` must not make them `{ data, shape }`).
      /** @type {(rows: unknown[]) => ArrayLike<unknown>} */
      const like = (rows) => Object.assign({ length: rows.length }, rows);
      return /** @type {import('webcrf').EmissionsInput} */ (
        like(Array.from({ length: d0 }, (_, a) => like(Array.from({ length: d1 }, (_, b) => flat.slice((a * d1 + b) * K, (a * d1 + b + 1) * K)))))
      );
    }
    case 'species': {
      class Truncating extends Float32Array {
        static get [Symbol.species]() {
          return Int8Array;
        }
      }
      const d = new Truncating(flat.length);
      Float32Array.prototype.set.call(d, em.data);
      return { data: d, shape: em.shape };
    }
    case 'ort':
    case 'transformers': {
      // onnxruntime-web's Tensor keeps data and location behind getters; transformers.js wraps one in
      // getters behind a Proxy. Neither is imported: the core recognises them by their fields.
      const data = Float32Array.from(em.data);
      const ortTensor = Object.freeze(
        Object.create(
          {
            get data() {
              return data;
            },
            get location() {
              return 'cpu';
            },
          },
          { type: { value: 'float32' }, dims: { value: em.shape } },
        ),
      );
      if (kind === 'ort') return ortTensor;
      const wrapper = {
        ort_tensor: ortTensor,
        get dims() {
          return ortTensor.dims;
        },
        get type() {
          return ortTensor.type;
        },
        get data() {
          return ortTensor.data;
        },
        get location() {
          return ortTensor.location;
        },
      };
      return new Proxy(wrapper, { get: (t, k) => (typeof k === 'string' && /^\d+$/.test(k) ? undefined : Reflect.get(t, k)) });
    }
    default:
      return em;
  }
}

/** @param {Lib} lib @param {Case} c @returns {Bits | undefined} */
function constraintsOf(lib, c) {
  if (!c.constraints) return undefined;
  return 'scheme' in c.constraints ? lib.allowedTransitions(c.constraints.scheme, c.constraints.labels) : c.constraints;
}

/** Batch-first `[B][T]` rows of the case as the layout the CRF is created with. @param {Case} c */
function inputs(c) {
  const { B, T, K, batchFirst } = c;
  const data = new Float32Array(B * T * K);
  const mask = new Uint8Array(B * T);
  const tags = new Int32Array(B * T);
  for (let b = 0; b < B; b++)
    for (let t = 0; t < T; t++) {
      const i = batchFirst ? b * T + t : t * B + b;
      for (let j = 0; j < K; j++) data[i * K + j] = c.em[(b * T + t) * K + j];
      mask[i] = c.mask[b][t];
      tags[i] = c.tags[b * T + t];
    }
  const shape2 = batchFirst ? [B, T] : [T, B];
  return { em: { data, shape: [...shape2, K] }, mask: { data: mask, shape: shape2 }, tags: { data: tags, shape: shape2 } };
}

/**
 * Float64 score of a path over one sequence's on positions; -Infinity if constraints forbid it.
 * @param {Case} c @param {Bits | undefined} allowed @param {number} b @param {number[]} path
 */
function pathScore(c, allowed, b, path) {
  const { K, T } = c;
  /** @type {number[]} */
  const on = [];
  for (let t = 0; t < T; t++) if (c.mask[b][t]) on.push(t);
  if (path.length !== on.length) return NaN;
  if (!on.length) return 0;
  let s = 0;
  for (let i = 0; i < on.length; i++) {
    const y = path[i];
    if (!Number.isInteger(y) || y < 0 || y >= K) return NaN;
    s += c.em[(b * T + on[i]) * K + y];
    if (i === 0) s += allowed && !allowed.start[y] ? -Infinity : c.start[y];
    else s += allowed && !allowed.transitions[path[i - 1]][y] ? -Infinity : c.trans[path[i - 1] * K + y];
  }
  const last = path[on.length - 1];
  return s + (allowed && !allowed.end[last] ? -Infinity : c.end[last]);
}

/**
 * One backend's results on a case; with `pollute`, every call runs with Object.prototype polluted.
 * @param {Lib} lib @param {BackendName} backend @param {CRFOptions} options @param {Case} c @param {boolean} [pollute]
 * @returns {Promise<Results>}
 */
async function run(lib, backend, options, c, pollute = false) {
  return pollute ? withPollutedPrototype(pollution(c), () => runClean(lib, backend, options, c)) : runClean(lib, backend, options, c);
}

/**
 * @param {Lib} lib @param {BackendName} backend @param {CRFOptions} options @param {Case} c
 * @returns {Promise<Results>}
 */
async function runClean(lib, backend, options, c) {
  const crf = await lib.CRF.create(c.K, { backend, batchFirst: c.batchFirst, constraints: constraintsOf(lib, c), ...options });
  try {
    crf.loadStateDict({ start_transitions: c.start, end_transitions: c.end, transitions: c.trans });
    const x = inputs(c);
    /** @type {Partial<Results>} */
    const out = {};
    if (c.scale > LIMIT) {
      // Beyond the supported range: refused by every op, naming the emissions.
      for (const call of [
        () => crf.forward(x.em, x.tags, { mask: x.mask }),
        () => crf.decode(x.em, { mask: x.mask }),
        () => crf.marginals(x.em, { mask: x.mask }),
      ]) {
        try {
          await call();
          out.accepted = true;
        } catch (e) {
          if (!(e instanceof lib.CRFInputError && e.argument === 'emissions')) throw e;
        }
      }
      return /** @type {Results} */ ({ outOfRange: true, ...out });
    }
    const em = container(c.container, x.em);
    try {
      out.llh = Array.from(await crf.forward(em, x.tags, { mask: x.mask, reduction: 'none' }));
    } catch (e) {
      // No allowed path for some sequence: every backend must say so alike.
      if (e instanceof lib.CRFInputError && e.argument === 'constraints') return /** @type {Results} */ (/** @type {Partial<Results>} */ ({ noPath: true }));
      throw e;
    }
    if (c.container !== 'typed') out.typedLlh = Array.from(await crf.forward(x.em, x.tags, { mask: x.mask, reduction: 'none' }));
    out.decode = await crf.decode(x.em, { mask: x.mask });
    out.topK = await crf.decode(x.em, { mask: x.mask, topK: c.topK });
    out.marginals = Array.from(await crf.marginals(x.em, { mask: x.mask }));
    out.entropy = Array.from(await crf.entropy(x.em, { mask: x.mask }));
    const fb = await crf.forwardBackward(x.em, x.tags, { mask: x.mask });
    out.grads = {
      emissions: Array.from(fb.grads.emissions),
      transitions: Array.from(fb.grads.transitions),
      startTransitions: Array.from(fb.grads.startTransitions),
      endTransitions: Array.from(fb.grads.endTransitions),
    };
    out.backend = crf.backend;
    const v = c.mutation?.value;
    if (v === 'transfer') {
      // Transferred away, a parameter is empty: every reader and writer names it, and a refused load
      // leaves the other two as they were (the load below would change them).
      const others = PARAMS.filter((p) => p !== c.mutation.param);
      const before = others.map((p) => Array.from(crf[p]).join());
      const arr = crf[c.mutation.param];
      structuredClone(arr.buffer, { transfer: [arr.buffer] });
      const shifted = (/** @type {number[]} */ a) => a.map((x) => x + 1);
      out.mutationErrors = [];
      for (const call of [
        () => crf.logPartition(x.em, { mask: x.mask }),
        () => crf.decode(x.em, { mask: x.mask, topK: 2 }),
        () => crf.forwardBackward(x.em, x.tags, { mask: x.mask }),
        () => crf.loadStateDict({ start_transitions: shifted(c.start), end_transitions: shifted(c.end), transitions: shifted(c.trans) }),
        () => crf.stateDict(),
        () => crf.toSafetensors(),
      ]) {
        try {
          await call();
          out.mutationErrors.push('accepted');
        } catch (e) {
          out.mutationErrors.push(e instanceof lib.CRFInputError ? e.argument : String(e));
        }
      }
      // Nothing to put back: the llh comparison stands for "the other parameters are unchanged".
      out.llhAfter = others.every((p, n) => Array.from(crf[p]).join() === before[n]) ? out.llh : [];
    } else if (typeof v === 'number' && v !== -Infinity) {
      // A refused value written between calls: every op says which parameter, and nothing changes.
      const arr = crf[c.mutation.param];
      const i = c.mutation.at % arr.length;
      const old = arr[i];
      arr[i] = v;
      out.mutationErrors = [];
      for (const call of [
        () => crf.logPartition(x.em, { mask: x.mask }),
        () => crf.decode(x.em, { mask: x.mask, topK: 2 }),
        () => crf.forwardBackward(x.em, x.tags, { mask: x.mask }),
      ]) {
        try {
          await call();
          out.mutationErrors.push('accepted');
        } catch (e) {
          out.mutationErrors.push(e instanceof lib.CRFInputError ? e.argument : String(e));
        }
      }
      arr[i] = old;
      out.llhAfter = Array.from(await crf.forward(x.em, x.tags, { mask: x.mask, reduction: 'none' }));
    }
    // Every field is set on this path.
    return /** @type {Results} */ (out);
  } finally {
    crf.dispose();
  }
}

/**
 * Invariants of one backend's results: llh ≤ 0, entropy in [0, L·ln K], marginals summing to 1 or 0,
 * top-k probabilities each ≤ 1 and a list's sum ≤ 1 (added in either order).
 * @param {Case} c @param {Results} out @param {string} backend
 */
function invariants(c, out, backend) {
  /** @type {string[]} */
  const fail = [];
  out.topK.forEach((list, b) => {
    const p = list.map((x) => Math.exp(x.logProb));
    const sums = [p.reduce((a, v) => a + v, 0), p.reduceRight((a, v) => a + v, 0)];
    if (!p.every((v) => v <= 1) || !sums.every((s) => s <= 1)) fail.push(`${backend} topK[${b}] probabilities ${p.join(', ')} (sum ${sums[0]})`);
  });
  const lens = c.mask.map((row) => row.reduce((a, v) => a + v, 0));
  out.llh.forEach((v, b) => {
    if (!(v <= 0)) fail.push(`${backend} llh[${b}] = ${v} > 0`);
  });
  out.entropy.forEach((v, b) => {
    if (!(v >= 0 && v <= lens[b] * Math.log(c.K) * (1 + 1e-6) + 1e-12)) fail.push(`${backend} entropy[${b}] = ${v} outside [0, ${lens[b]}·ln ${c.K}]`);
  });
  const { B, T, K, batchFirst } = c;
  for (let b = 0; b < B; b++)
    for (let t = 0; t < T; t++) {
      const o = (batchFirst ? b * T + t : t * B + b) * K;
      let s = 0;
      for (let j = 0; j < K; j++) s += out.marginals[o + j];
      if (!(Math.abs(s - c.mask[b][t]) <= 1e-4)) fail.push(`${backend} marginals at [${b}][${t}] sum to ${s}`);
    }
  if (out.typedLlh && JSON.stringify(out.typedLlh) !== JSON.stringify(out.llh))
    fail.push(`${backend} ${c.container} input: llh ${out.llh}, typed ${out.typedLlh}`);
  if (out.mutationErrors) {
    if (out.mutationErrors.some((a) => a !== c.mutation.param))
      fail.push(`${backend} ${c.mutation.param} = ${c.mutation.value}: ${out.mutationErrors.join(', ')}`);
    if (JSON.stringify(out.llhAfter) !== JSON.stringify(out.llh)) fail.push(`${backend}: results changed after a refused call`);
  }
  return fail;
}

/**
 * Differences beyond float32 tolerance between a backend's results and the float64 reference.
 * @param {Lib} lib @param {BackendName} backend @param {CRFOptions} options @param {Case} c
 */
export async function compareCase(lib, backend, options, c) {
  const ref = await run(lib, 'js', {}, c);
  // A polluted prototype on the backend's side only: the clean float64 run is the reference.
  const got = await run(lib, backend, options, c, !!c.pollute);
  /** @type {string[]} */
  const fail = [];
  if (ref.outOfRange || got.outOfRange) {
    if (ref.accepted || got.accepted) fail.push(`emissions of scale ${c.scale} accepted (${backend} ${!!got.accepted}, js ${!!ref.accepted})`);
    return fail;
  }
  if (ref.noPath || got.noPath) {
    if (ref.noPath !== got.noPath) fail.push(`noPath: ${backend} ${!!got.noPath}, js ${!!ref.noPath}`);
    return fail;
  }
  fail.push(...invariants(c, ref, 'js'), ...invariants(c, got, backend));
  const allowed = constraintsOf(lib, c);
  let maxParam = 0;
  for (const v of [...c.start, ...c.end, ...c.trans]) maxParam = Math.max(maxParam, Math.abs(v));
  // Float32 accumulation over T steps of scores as large as the emissions and parameters.
  const atol = 2e-3 + 1e-6 * c.T * (c.scale + maxParam);
  /** @type {(a: number, b: number, tol: number) => boolean} */
  const near = (a, b, tol) => a === b || Math.abs(a - b) <= tol * (1 + Math.abs(b));
  c.mask.forEach((_, b) => {
    if (!near(got.llh[b], ref.llh[b], atol)) fail.push(`llh[${b}]: ${backend} ${got.llh[b]}, js ${ref.llh[b]}`);
    const best = pathScore(c, allowed, b, ref.decode[b]);
    const mine = pathScore(c, allowed, b, got.decode[b]);
    if (!(mine >= best - atol * (1 + Math.abs(best)))) fail.push(`decode[${b}]: path score ${mine} < best ${best}`);
    const tk = got.topK[b],
      rk = ref.topK[b];
    if (tk.length !== rk.length) fail.push(`topK[${b}]: ${tk.length} paths, js ${rk.length}`);
    tk.forEach((p, r) => {
      const s = pathScore(c, allowed, b, p.path);
      if (!near(s, p.score, atol)) fail.push(`topK[${b}][${r}]: reported score ${p.score}, path scores ${s}`);
      if (rk[r] && !near(p.score, rk[r].score, atol)) fail.push(`topK[${b}][${r}]: score ${p.score}, js ${rk[r].score}`);
    });
    // The same path's probability as the reference's, where float32 resolves the scores to well
    // under a nat (near-ties may order the two lists apart, so paths are matched, not ranks).
    const resolved = 1e-6 * c.T * (c.scale + maxParam);
    if (resolved < 0.1) {
      const ref = new Map(rk.map((x) => [x.path.join(), Math.exp(x.logProb)]));
      tk.forEach((p, r) => {
        const want = ref.get(p.path.join());
        if (want !== undefined && !(Math.abs(Math.exp(p.logProb) - want) <= resolved + 1e-6))
          fail.push(`topK[${b}][${r}]: probability ${Math.exp(p.logProb)}, js ${want}`);
      });
    }
  });
  const mtol = Math.min(1, atol);
  /** @type {(name: string, a: number[], r: number[], tol: number) => void} */
  const vec = (name, a, r, tol) => {
    for (let i = 0; i < r.length; i++)
      if (!(Math.abs(a[i] - r[i]) <= tol)) {
        fail.push(`${name}[${i}]: ${backend} ${a[i]}, js ${r[i]}`);
        return;
      }
  };
  vec('marginals', got.marginals, ref.marginals, mtol);
  // float32 resolves path scores to ~6e-8 of their size: below that, paths are tied for it and the
  // entropy may be anything the invariants allow (at scale 1e20 they are, at 1 they are not).
  const noise = 6e-8 * c.T * (c.scale + maxParam);
  got.entropy.forEach((h, b) => {
    const room = 1e-3 * ref.entropy[b] + 1e-4 + Math.min(c.T * Math.log(c.K), 10 * noise);
    if (!(Math.abs(h - ref.entropy[b]) <= room)) fail.push(`entropy[${b}]: ${backend} ${h}, js ${ref.entropy[b]}`);
  });
  vec('grad emissions', got.grads.emissions, ref.grads.emissions, mtol);
  for (const k of PARAMS) vec(`grad ${k}`, got.grads[k], ref.grads[k], mtol * c.B * c.T);
  return fail;
}

/**
 * The js backend against enumeration, where the longest sequence has few enough paths.
 * @param {Lib} lib @param {Case} c
 */
export async function compareWithEnumeration(lib, c) {
  if (c.scale > LIMIT) return [];
  const lens = c.mask.map((row) => row.reduce((a, v) => a + v, 0));
  if (c.K ** lens.reduce((a, l) => Math.max(a, l), 0) > 4096) return [];
  const allowed = constraintsOf(lib, c);
  const bits = allowed && { trans: allowed.transitions.flat(), start: allowed.start, end: allowed.end };
  const ref = await run(lib, 'js', {}, c, !!c.pollute);
  /** @type {string[]} */
  const fail = [];
  const w = { K: c.K, start: c.start, end: c.end, trans: c.trans, allowed: bits };
  c.mask.forEach((row, b) => {
    /** @type {number[][]} */
    const rows = [];
    row.forEach((on, t) => on && rows.push(c.em.slice((b * c.T + t) * c.K, (b * c.T + t + 1) * c.K)));
    const bf = bruteForce(rows, w);
    if (ref.noPath) return;
    if (Math.abs(bf.entropy - ref.entropy[b]) > 1e-6 * bf.entropy + 1e-12 * c.T * (c.scale + 1))
      fail.push(`js entropy[${b}]: ${ref.entropy[b]} vs enumeration ${bf.entropy}`);
    /** @type {number[]} */
    const tagsOn = [];
    row.forEach((on, t) => on && tagsOn.push(c.tags[b * c.T + t]));
    const llh = rows.length ? bf.scoreOf(tagsOn) - bf.logZ : 0;
    // float64 itself rounds sums of T scores of size |e| at 2^-52·T·|e|.
    const abs = 1e-15 * c.T * (c.scale + 1e4);
    if (!(llh === ref.llh[b] || Math.abs(llh - ref.llh[b]) <= 1e-4 * (1 + Math.abs(llh)) + abs)) fail.push(`js llh[${b}]: ${ref.llh[b]} vs enumeration ${llh}`);
    const best = bf.sorted[0];
    const mine = pathScore(c, allowed, b, ref.decode[b]);
    if (Math.abs(mine - best.score) > 1e-6 * (1 + Math.abs(best.score)) + abs) fail.push(`js decode[${b}]: ${mine} vs enumeration ${best.score}`);
    // log p(y | x) = score − log Z, where float64 resolves it.
    if (abs < 1e-3)
      ref.topK[b].forEach((x, r) => {
        const want = rows.length ? Math.exp(bf.scoreOf(x.path) - bf.logZ) : 1;
        if (!(Math.abs(Math.exp(x.logProb) - want) <= 1e-9 + 10 * abs))
          fail.push(`js topK[${b}][${r}] probability ${Math.exp(x.logProb)} vs enumeration ${want}`);
      });
  });
  return fail;
}

/**
 * Smaller cases that still fail: one sequence, then fewer steps, then fewer tags are not tried (K fixes the params).
 * @param {Check} check @param {Case} c
 */
export async function shrink(check, c) {
  let cur = c;
  /** @type {(x: Case, keepB: number[], keepT: number[]) => Case} */
  const sub = (x, keepB, keepT) => {
    const B = keepB.length,
      T = keepT.length,
      K = x.K;
    return {
      ...x,
      B,
      T,
      mask: keepB.map((b) => keepT.map((t) => x.mask[b][t])),
      em: keepB.flatMap((b) => keepT.flatMap((t) => x.em.slice((b * x.T + t) * K, (b * x.T + t + 1) * K))),
      tags: keepB.flatMap((b) => keepT.map((t) => x.tags[b * x.T + t])),
    };
  };
  const range = (/** @type {number} */ n) => Array.from({ length: n }, (_, i) => i);
  for (let b = 0; b < cur.B; b++) {
    const cand = sub(cur, [b], range(cur.T));
    if ((await check(cand)).length) {
      cur = cand;
      break;
    }
  }
  for (let progress = true; progress && cur.T > 1;) {
    progress = false;
    for (let t = cur.T - 1; t >= 0; t--) {
      const cand = sub(
        cur,
        range(cur.B),
        range(cur.T).filter((u) => u !== t),
      );
      if ((await check(cand)).length) {
        cur = cand;
        progress = true;
        break;
      }
    }
  }
  return cur;
}

/**
 * Runs random cases until `seconds` pass (or `cases` are done). Returns { cases, failures }.
 * @param {{ lib: Lib, backends: { name: BackendName, options?: CRFOptions }[], seed: number, seconds?: number, cases?: number, log?: (s: string) => void }} o
 */
export async function fuzz(o) {
  const R = rng(o.seed);
  const log = o.log ?? (() => {});
  const deadline = Date.now() + (o.seconds ?? 1e9) * 1000;
  /** @type {{ cases: number, byScale: Record<number, number>, failures: { backend: string, case: number, problems: string[], reproducer: Case }[] }} */
  const stats = { cases: 0, byScale: {}, failures: [] };
  while (Date.now() < deadline && stats.cases < (o.cases ?? Infinity)) {
    const c = randomCase(R);
    stats.cases++;
    stats.byScale[c.scale] = (stats.byScale[c.scale] ?? 0) + 1;
    /** @type {[string, Check][]} */
    const checks = [['js-enumeration', (x) => compareWithEnumeration(o.lib, x)]];
    for (const b of o.backends) if (b.name !== 'js') checks.push([b.name, (x) => compareCase(o.lib, b.name, b.options ?? {}, x)]);
    for (const [name, check] of checks) {
      const f = await check(c);
      if (!f.length) continue;
      const small = await shrink(check, c);
      const detail = await check(small);
      stats.failures.push({ backend: name, case: stats.cases, problems: detail.length ? detail : f, reproducer: detail.length ? small : c });
      log(`FAIL ${name} (case ${stats.cases} of seed ${o.seed}): ${(detail.length ? detail : f).slice(0, 3).join('; ')}`);
      log(`reproducer: ${JSON.stringify(detail.length ? small : c)}`);
    }
  }
  return stats;
}
