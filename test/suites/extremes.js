// The edges of the input domain, on every backend: scores from 1e-3 to the largest supported magnitude
// (±1e20) and just beyond it, confident sequences whose entropy is a few ulps of log Z, parameters
// written between calls, and inputs that are getters, Proxies or typed-array subclasses. Every result is
// either the right number (against the float64 js backend on the same float32 values, or against
// enumeration) or a CRFInputError naming the argument.
import { bruteForce, rng } from './oracle.js';
import { check, close, create, tolerance } from './util.js';

/** @typedef {import('./util.js').Ctx} Ctx */

const SCALES = [1e-3, 1, 1e2, 1e4, 1e8, 1e15, 1e20];

/**
 * Float32 emissions [B, T, K] · scale (clamped to the supported range), a random mask with gaps, params.
 * @param {import('./oracle.js').Rng} R @param {{ B: number, T: number, K: number, scale: number }} shape
 */
function scaled(R, { B, T, K, scale }) {
  const data = new Float32Array(B * T * K);
  for (let i = 0; i < data.length; i++) data[i] = Math.max(-1e20, Math.min(1e20, scale * R.normal()));
  const mask = Array.from({ length: B }, (_, b) => Array.from({ length: T }, () => (b === 0 || R.next() < 0.75 ? 1 : 0)));
  const tags = Array.from({ length: B }, () => Array.from({ length: T }, () => R.int(K)));
  const sd = {
    start_transitions: Array.from({ length: K }, () => R.normal()),
    end_transitions: Array.from({ length: K }, () => R.normal()),
    transitions: Array.from({ length: K }, () => Array.from({ length: K }, () => (R.next() < 0.1 ? -1e4 : R.normal()))),
  };
  return { em: { data, shape: [B, T, K] }, mask, tags, sd };
}

/**
 * Σ over on positions of the row's largest |emission|: the magnitude a sequence's scores are made of.
 * @param {ReturnType<typeof scaled>} c
 */
function magnitudes(c) {
  const [B, T, K] = c.em.shape;
  return Array.from({ length: B }, (_, b) => {
    let s = 0;
    for (let t = 0; t < T; t++) {
      if (!c.mask[b][t]) continue;
      let m = 0;
      for (let j = 0; j < K; j++) m = Math.max(m, Math.abs(c.em.data[(b * T + t) * K + j]));
      s += m + 1e4;
    }
    return s;
  });
}

/** @param {Ctx} ctx @param {number} K */
async function pair(ctx, K) {
  const crf = await create(ctx, K);
  const ref = await ctx.lib.CRF.create(K, { backend: 'js' });
  return { crf, ref };
}

/**
 * llh ≤ 0 at every scale; log Z, llh and the best path agree with the float64 reference on the same values.
 * @param {Ctx} ctx
 */
export async function scoresAtEveryScale(ctx) {
  const R = rng(61);
  const r = tolerance(ctx.backend);
  for (const scale of SCALES) {
    for (const [B, T, K] of [
      [3, 7, 4],
      [2, 30, 9],
    ]) {
      const c = scaled(R, { B, T, K, scale });
      const { crf, ref } = await pair(ctx, K);
      crf.loadStateDict(c.sd);
      ref.loadStateDict(c.sd);
      const label = `scale ${scale} B=${B} T=${T} K=${K}`;
      const best = await crf.decode(c.em, { mask: c.mask });
      const bestTags = best.map((p, b) => {
        let i = 0;
        return c.mask[b].map((on) => (on ? p[i++] : -1));
      });
      const mag = magnitudes(c);
      // float32 kernels round each step at its own magnitude: the error allowed grows with it.
      /** @type {(a: Float32Array | Float64Array, b: Float32Array | Float64Array, what: string) => void} */
      const within = (a, b, what) =>
        a.forEach((v, i) =>
          check(
            Math.abs(v - b[i]) <= r * (1 + Math.abs(b[i])) + (ctx.backend === 'js' ? 1e-12 : 2e-6) * mag[i],
            `${label} ${what}[${i}]: got ${v}, expected ${b[i]} (magnitude ${mag[i]})`,
          ),
        );
      within(await crf.logPartition(c.em, { mask: c.mask }), await ref.logPartition(c.em, { mask: c.mask }), 'logZ');
      for (const tags of [c.tags, bestTags]) {
        const llh = await crf.forward(c.em, tags, { mask: c.mask, reduction: 'none' });
        for (const v of llh) check(v <= 0, `${label}: llh ${v} > 0`);
        within(llh, await ref.forward(c.em, tags, { mask: c.mask, reduction: 'none' }), 'llh');
      }
      const m = await crf.marginals(c.em, { mask: c.mask });
      for (let b = 0; b < B; b++)
        for (let t = 0; t < T; t++) {
          let s = 0;
          for (let j = 0; j < K; j++) s += m[(b * T + t) * K + j];
          check(Math.abs(s - (c.mask[b][t] ? 1 : 0)) <= 1e-4, `${label}: marginals at [${b}][${t}] sum to ${s}`);
        }
      const h = await crf.entropy(c.em, { mask: c.mask });
      h.forEach((v, b) => {
        const L = c.mask[b].filter(Boolean).length;
        check(v >= 0 && v <= L * Math.log(K) * (1 + 1e-6), `${label}: entropy ${v} outside [0, ${L}·ln ${K}]`);
      });
      crf.dispose();
      ref.dispose();
    }
  }
  // Just beyond the range: refused, naming the argument and the range.
  const crf = await create(ctx, 2);
  for (const v of [1.0001e20, -3e38, 1e300]) {
    let err = null;
    try {
      await crf.logPartition({ data: Float64Array.of(0, 1, v, 0), shape: [1, 2, 2] });
    } catch (e) {
      err = e;
    }
    check(
      err instanceof ctx.lib.CRFInputError && err.argument === 'emissions' && /±1e20/.test(err.message),
      `emission ${v}: expected CRFInputError(emissions) stating ±1e20, got ${err}`,
    );
  }
  crf.dispose();
}

/**
 * Entropy from its own recursion: exact on confident sequences (H of 1e-6 beside scores of 100, where
 * log Z − E[score] would be 0 or noise) and at 1e20, against a stable enumeration.
 * @param {Ctx} ctx
 */
export async function entropyEdges(ctx) {
  const f32 = ctx.backend !== 'js';
  const sd = {
    start_transitions: [0.1, -0.2, 0.05],
    end_transitions: [0, 0.1, -0.1],
    transitions: [
      [0.1, -0.05, 0.02],
      [0.3, 0, -0.1],
      [0, 0.2, 0.1],
    ],
  };
  const cases = {
    'confident (H ≈ 6e-6, scores ≈ 600)': Array.from({ length: 6 }, (_, i) => [100, 100 - 16 - (i % 3), 70]),
    'very confident (H ≈ 1e-9)': Array.from({ length: 5 }, (_, i) => [100, 100 - 24 - (i % 2), 60]),
    'mixed (H ≈ 0.5)': Array.from({ length: 7 }, (_, i) => [100, 100 - 3 - (i % 3) * 0.5, 99 - i]),
    uniform: Array.from({ length: 4 }, () => [5, 5, 5]),
    'scale 1e20': Array.from({ length: 6 }, (_, i) => [1e20 * ((i % 3) - 1), 3e19, -1e20]),
  };
  const crf = await create(ctx, 3);
  crf.loadStateDict(sd);
  const w = { K: 3, start: crf.startTransitions, end: crf.endTransitions, trans: crf.transitions };
  for (const [name, rows] of Object.entries(cases)) {
    const em = [rows.map((r) => r.map(Math.fround))];
    const want = bruteForce(em[0], w).entropy;
    const [got] = await crf.entropy(em);
    // js computes in float64 (1e-9 relative, tested on the backend itself); the API hands out float32.
    const ok = f32 ? Math.abs(got - want) <= Math.max(1e-3 * want, 1e-7) : Math.abs(got - want) <= 6e-8 * want + 1e-30;
    check(ok, `${name}: entropy ${got}, expected ${want}`);
    check(got >= 0 && got <= rows.length * Math.log(3), `${name}: entropy ${got} outside [0, L·ln K]`);
  }
  crf.dispose();
}

/**
 * The live parameter arrays are checked at every call (optimizers and users write them): NaN or
 * +Infinity throws naming the parameter and leaves nothing changed; −Infinity forbids exactly as a
 * constraint does.
 * @param {Ctx} ctx
 */
export async function parametersBetweenCalls(ctx) {
  const R = rng(67);
  const K = 4;
  const em = [Array.from({ length: 5 }, () => Array.from({ length: K }, () => R.normal()))];
  const crf = await create(ctx, K, { seed: 5 });
  /** @type {['transitions' | 'startTransitions' | 'endTransitions', number, number][]} */
  const writes = [
    ['transitions', 5, NaN],
    ['startTransitions', 1, Infinity],
    ['endTransitions', 3, NaN],
    ['transitions', 0, 2e20],
  ];
  for (const [name, i, v] of writes) {
    const before = JSON.stringify(crf.stateDict());
    const old = crf[name][i];
    crf[name][i] = v;
    for (const call of [
      () => crf.logPartition(em),
      () => crf.decode(em),
      () => crf.marginals(em),
      () => crf.entropy(em),
      () => crf.forward(em, [[0, 1, 2, 3, 0]]),
    ]) {
      let err = null;
      try {
        await call();
      } catch (e) {
        err = e;
      }
      check(err instanceof ctx.lib.CRFInputError && err.argument === name, `${name}[${i}] = ${v}: expected CRFInputError(${name}), got ${err}`);
    }
    crf[name][i] = old;
    check(JSON.stringify(crf.stateDict()) === before, `${name}: a rejected call changed the parameters`);
  }
  // −Infinity in a parameter is a forbidden step: the same numbers as the constraint that forbids it.
  const forbid = {
    transitions: Array.from({ length: K }, (_, i) => Array.from({ length: K }, (_, j) => !(i === 1 && j === 2))),
    start: [true, true, false, true],
  };
  const constrained = await create(ctx, K, { constraints: forbid });
  constrained.loadStateDict(crf.stateDict());
  crf.transitions[1 * K + 2] = -Infinity;
  crf.startTransitions[2] = -Infinity;
  const r = tolerance(ctx.backend);
  close(await crf.logPartition(em), await constrained.logPartition(em), r, '-Infinity vs constraints: logZ');
  close(await crf.marginals(em), await constrained.marginals(em), r, '-Infinity vs constraints: marginals');
  close(await crf.entropy(em), await constrained.entropy(em), r, '-Infinity vs constraints: entropy');
  check(JSON.stringify(await crf.decode(em)) === JSON.stringify(await constrained.decode(em)), '-Infinity vs constraints: decode');
  const g = await crf.forwardBackward(em, [[0, 1, 1, 3, 0]]);
  check(g.grads.transitions[1 * K + 2] === 0 && g.grads.startTransitions[2] === 0, 'a forbidden parameter has gradient 0');
  check((await crf.forward(em, [[0, 1, 2, 3, 0]])) === -Infinity, 'a gold path through a forbidden step has llh -Infinity');
  // What loadStateDict accepts round-trips through safetensors, -Infinity and the range's edge included.
  crf.transitions[0] = 1e20;
  crf.transitions[1] = -1e20;
  const back = await ctx.lib.CRF.fromSafetensors(crf.toSafetensors(), { backend: ctx.backend, ...(ctx.backendOptions ?? {}) });
  check(JSON.stringify(back.stateDict()) === JSON.stringify(crf.stateDict()), 'toSafetensors → fromSafetensors changed the parameters');
  back.loadStateDict(crf.stateDict());
  back.dispose();
  crf.dispose();
  constrained.dispose();
}

/**
 * Inputs whose values a getter or a Proxy could change between a check and their use, and typed-array
 * subclasses whose `constructor`, species or `length` lie: each value is read once, into an array the
 * package owns, and computed on as read.
 * @param {Ctx} ctx
 */
export async function hostileContainers(ctx) {
  const R = rng(71);
  const K = 3,
    B = 2,
    T = 4;
  const plain = Float32Array.from({ length: B * T * K }, () => R.normal());
  const crf = await create(ctx, K, { seed: 9 });
  const want = await crf.logPartition({ data: plain, shape: [B, T, K] });
  const wantM = await crf.marginals({ data: plain, shape: [B, T, K] });
  // A Proxy that answers each index correctly the first time and NaN after.
  const seen = new Set();
  const once = new Proxy(Array.from(plain), {
    get(t, k) {
      if (typeof k === 'string' && /^\d+$/.test(k)) {
        if (seen.has(k)) return NaN;
        seen.add(k);
      }
      return Reflect.get(t, k);
    },
  });
  close(await crf.logPartition({ data: once, shape: [B, T, K] }), want, 1e-6, 'read-once Proxy');
  // Getters on a plain object standing for an array.
  const reads = new Array(B * T * K).fill(0);
  const getters = { length: B * T * K };
  for (let i = 0; i < B * T * K; i++) Object.defineProperty(getters, i, { get: () => (reads[i]++ ? NaN : plain[i]) });
  close(await crf.marginals({ data: getters, shape: [B, T, K] }), wantM, 1e-6, 'getter data');
  check(
    reads.every((n) => n === 1),
    `each value read once (reads ${reads.join(',')})`,
  );
  // Nested rows that are Proxies, and a shape that is one.
  const nested = Array.from(
    { length: B },
    (_, b) =>
      new Proxy(
        Array.from({ length: T }, (_, t) => Array.from(plain.subarray((b * T + t) * K, (b * T + t + 1) * K))),
        {},
      ),
  );
  close(await crf.logPartition(nested), want, 1e-6, 'nested Proxy rows');
  // Typed-array subclasses: a species of Int8Array (would truncate), a lying length, a fake constructor.
  class Int8Species extends Float32Array {
    static get [Symbol.species]() {
      return Int8Array;
    }
  }
  class Liar extends Float32Array {
    get length() {
      return 1;
    }
  }
  class Ctor extends Float32Array {}
  Object.defineProperty(Ctor.prototype, 'constructor', { get: () => Int8Array });
  for (const C of [Int8Species, Liar, Ctor]) {
    const d = new C(plain.length);
    Float32Array.prototype.set.call(d, plain);
    close(await crf.logPartition({ data: d, shape: [B, T, K] }), want, 1e-6, `typed-array subclass ${C.name}`);
  }
  // Tags and masks through Proxies: read once as well.
  const tags = {
    data: new Proxy(
      Array.from({ length: B * T }, (_, i) => i % K),
      {},
    ),
    shape: [B, T],
  };
  const mask = {
    data: new Proxy(
      Array.from({ length: B * T }, (_, i) => (i % 3 ? 1 : 0)),
      {},
    ),
    shape: [B, T],
  };
  const a = await crf.forward({ data: plain, shape: [B, T, K] }, tags, { mask, reduction: 'none' });
  const b = await crf.forward(
    { data: plain, shape: [B, T, K] },
    { data: Int32Array.from(tags.data), shape: [B, T] },
    { mask: { data: Uint8Array.from(mask.data), shape: [B, T] }, reduction: 'none' },
  );
  close(a, b, 1e-6, 'Proxy tags and mask');
  // The caller refilling its buffer while a call is in flight changes nothing about that call.
  const buf = Float32Array.from(plain);
  const pending = crf.forward({ data: buf, shape: [B, T, K] }, { data: Int32Array.from(tags.data), shape: [B, T] }, { reduction: 'none' });
  buf.fill(NaN);
  close(
    await pending,
    await crf.forward({ data: plain, shape: [B, T, K] }, { data: Int32Array.from(tags.data), shape: [B, T] }, { reduction: 'none' }),
    1e-6,
    'buffer refilled in flight',
  );
  crf.dispose();
}
