// Property tests (fast-check) of the training helpers across the whole range of the doubles and of their
// options: each call returns finite numbers and writes only finite values (a parameter's −Infinity,
// "forbidden", stays as it is), equal to a float64 reference, or throws CRFInputError having changed
// nothing; gradients handed over as typed arrays, plain arrays or Proxies that answer NaN on a second
// read. Arrays that claim sizes they do not have are refused at once, in every helper.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Adam, type AdamOptions, AutomaticWeightedLoss, CRFInputError, clipGradNorm, crossEntropy } from '../../src/index.js';
import { MAX_MAGNITUDE } from '../../src/limits.js';

const RUNS = { numRuns: 300, seed: 2027 };

/** Finite doubles from 5e-324 to 1.8e308, with the edges where squares, float32 and sums overflow. */
const value = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.double({ min: -10, max: 10, noNaN: true }),
  fc.constantFrom(0, -0, 5e-324, 1e-170, 1e-40, 1e20, 1e38, 3.4e38, 3.5e38, 1.3e154, 1.4e154, 1e300, 1.7e308, -1.79e308),
);
type Kind = 'f32' | 'f64' | 'array' | 'proxy';
const kind = fc.constantFrom<Kind>('f32', 'f64', 'array', 'proxy');

/** The values as the container stores them (float32 rounds). */
const stored = (k: Kind, v: number[]) => (k === 'f32' ? v.map(Math.fround) : v);

/** A fresh container of `v`: a 'proxy' is an array whose values read as NaN after their first read. */
function container(k: Kind, v: number[]): Float32Array | Float64Array | number[] {
  if (k === 'f32') return Float32Array.from(v);
  if (k === 'f64') return Float64Array.from(v);
  if (k === 'array') return v.slice();
  const seen = new Set<PropertyKey>();
  return new Proxy(v.slice(), {
    get(t, key) {
      if (typeof key === 'string' && /^\d+$/.test(key)) {
        if (seen.has(key)) return NaN;
        seen.add(key);
      }
      return Reflect.get(t, key) as unknown;
    },
  });
}

/** Calls f; a throw must be a CRFInputError, returned. */
function attempt(f: () => unknown): CRFInputError | null {
  try {
    f();
    return null;
  } catch (e) {
    expect(e).toBeInstanceOf(CRFInputError);
    return e as CRFInputError;
  }
}

const finite = (a: ArrayLike<number>) => Array.prototype.every.call(a, (x: number) => Number.isFinite(x));

describe('Adam: every step writes finite values equal to a float64 reference, or is refused and changes nothing', () => {
  const param = fc.record({
    f32: fc.boolean(),
    values: fc.array(fc.oneof({ weight: 6, arbitrary: value }, { weight: 1, arbitrary: fc.constant(-Infinity) }), { minLength: 1, maxLength: 4 }),
  });
  const options = fc.record({
    lr: fc.constantFrom(1e-3, 0.1, 1, 1e10, 1e39, 1e300, 1.7e308),
    betas: fc.constantFrom<[number, number]>([0.9, 0.999], [0, 0], [0.999999, 0.5]),
    eps: fc.constantFrom(0, 1e-8, 1),
    weightDecay: fc.constantFrom(0, 0.01, 1, 1e300),
    amsgrad: fc.boolean(),
    maximize: fc.boolean(),
  });
  const steps = fc.array(fc.array(fc.record({ kind, values: fc.array(value, { minLength: 4, maxLength: 4 }) }), { minLength: 3, maxLength: 3 }), {
    minLength: 1,
    maxLength: 4,
  });

  /** torch.optim.Adam written out plainly, in float64 (a first moment of 0 moves nothing). */
  function reference(p: number[], st: { m: number[]; v: number[]; vMax: number[] }, g: number[], t: number, o: Required<AdamOptions>) {
    const [b1, b2] = o.betas;
    return p.map((theta, i) => {
      if (theta === -Infinity) return theta;
      const gi = (o.maximize ? -g[i] : g[i]) + o.weightDecay * theta;
      st.m[i] = b1 * st.m[i] + (1 - b1) * gi;
      st.v[i] = b2 * st.v[i] + (1 - b2) * gi * gi;
      st.vMax[i] = Math.max(st.vMax[i], st.v[i]);
      const second = o.amsgrad ? st.vMax[i] : st.v[i];
      if (st.m[i] === 0) return theta;
      return theta - ((o.lr / (1 - b1 ** t)) * st.m[i]) / (Math.sqrt(second) / Math.sqrt(1 - b2 ** t) + o.eps);
    });
  }

  it('at any scale of parameters, gradients, lr, weightDecay and eps', () =>
    fc.assert(
      fc.property(fc.array(param, { minLength: 1, maxLength: 3 }), options, steps, (ps, o, history) => {
        const make = () => Object.fromEntries(ps.map((q, k) => [`p${k}`, q.f32 ? Float32Array.from(q.values) : Float64Array.from(q.values)]));
        const [pa, pb] = [make(), make()];
        const a = new Adam(pa, o);
        const b = new Adam(pb, o); // steps only where a succeeds: the same moments and count, if a refused cleanly
        const refs = ps.map((q) => ({ m: q.values.map(() => 0), v: q.values.map(() => 0), vMax: q.values.map(() => 0) }));
        for (const grads of history) {
          const g = (k: number) => stored(grads[k].kind, grads[k].values).slice(0, ps[k].values.length);
          const record = () => Object.fromEntries(ps.map((_, k) => [`p${k}`, container(grads[k].kind, g(k))]));
          const before = Object.values(pa).map((x) => Array.from(x));
          const count = a.stepCount;
          const err = attempt(() => a.step(record()));
          if (err) {
            expect(err.argument).toMatch(/^(lr|weightDecay|eps|grads\.p\d|params\.p\d)$/);
            expect(Object.values(pa).map((x) => Array.from(x))).toEqual(before);
            expect(a.stepCount).toBe(count);
            continue;
          }
          b.step(record());
          ps.forEach((q, k) => {
            const st = { m: refs[k].m.slice(), v: refs[k].v.slice(), vMax: refs[k].vMax.slice() };
            const want = reference(before[k], st, g(k), a.stepCount, o as Required<AdamOptions>);
            refs[k] = st;
            const got = pa[`p${k}`];
            for (let i = 0; i < got.length; i++) {
              if (before[k][i] === -Infinity) expect(got[i]).toBe(-Infinity);
              else {
                expect(Number.isFinite(got[i])).toBe(true);
                expect(got[i]).toBe(q.f32 ? Math.fround(want[i]) : want[i]);
              }
            }
          });
        }
        expect(Object.values(pa).map((x) => Array.from(x))).toEqual(Object.values(pb).map((x) => Array.from(x)));
        expect(a.stepCount).toBe(b.stepCount);
      }),
      RUNS,
    ));
});

describe('clipGradNorm: a finite norm equal to a float64 reference and finite scaled values, or refused with nothing scaled', () => {
  it('at any scale, for every normType', () =>
    fc.assert(
      fc.property(
        fc.array(fc.record({ kind, values: fc.array(value, { maxLength: 4 }) }), { maxLength: 3 }),
        fc.constantFrom(0.5, 1, 2, 3, 64, 65, 100, Infinity),
        fc.constantFrom(0, 1, 1e300),
        (arrays, normType, maxNorm) => {
          const values = arrays.map((x) => stored(x.kind, x.values));
          const grads = arrays.map((x, n) => container(x.kind, values[n]));
          const all = values.flat().map(Math.abs);
          const top = Math.max(0, ...all);
          // log of the norm, in the log domain where nothing overflows
          const logNorm =
            top === 0
              ? -Infinity
              : normType === Infinity
                ? Math.log(top)
                : Math.log(top) + Math.log(all.reduce((s, x) => s + (x / top) ** normType, 0)) / normType;
          let norm = NaN;
          const err = attempt(() => (norm = clipGradNorm(grads as number[][], maxNorm, { normType })));
          const plain = (n: number) => (arrays[n].kind === 'proxy' ? values[n] : Array.from(grads[n]));
          const nonFinite = values.findIndex((v) => !finite(v));
          if (err) {
            if (nonFinite >= 0) expect(err.argument).toBe(`grads[${nonFinite}]`);
            else {
              expect(err.argument).toBe('grads');
              expect(logNorm).toBeGreaterThan(Math.log(Number.MAX_VALUE) - 1e-12);
            }
            arrays.forEach((_, n) => expect(plain(n)).toEqual(values[n]));
            return;
          }
          expect(nonFinite).toBe(-1);
          expect(Number.isFinite(norm)).toBe(true);
          if (top > 0) expect(Math.abs(Math.log(norm) - logNorm)).toBeLessThan(1e-12);
          const coef = maxNorm / (norm + 1e-6);
          arrays.forEach((x, n) => {
            if (x.kind === 'proxy') return; // its reads answer NaN now; what was written went to the target
            const got = Array.from(grads[n]);
            expect(finite(got)).toBe(true);
            const want = coef < 1 ? values[n].map((v) => v * coef) : values[n];
            expect(got).toEqual(stored(x.kind, want));
          });
        },
      ),
      RUNS,
    ));
});

describe('crossEntropy: logits beyond ±1e20 refused; within, a finite loss and gradient equal to a float64 reference', () => {
  it('at any scale and reduction', () =>
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }).chain((N) =>
          fc.integer({ min: 1, max: 4 }).chain((C) =>
            fc.record({
              N: fc.constant(N),
              C: fc.constant(C),
              logits: fc.array(fc.oneof(value, fc.double({ min: -1e20, max: 1e20, noNaN: true })), { minLength: N * C, maxLength: N * C }),
              labels: fc.array(fc.oneof(fc.integer({ min: 0, max: C - 1 }), fc.constant(-100)), { minLength: N, maxLength: N }),
              kind: fc.constantFrom<Kind>('f32', 'f64', 'array'),
              reduction: fc.constantFrom('mean' as const, 'sum' as const, 'none' as const),
            }),
          ),
        ),
        ({ N, C, logits, labels, kind: k, reduction }) => {
          const x = stored(k, logits);
          const input = k === 'array' ? Array.from({ length: N }, (_, n) => x.slice(n * C, (n + 1) * C)) : { data: container(k, x), shape: [N, C] };
          let out: { loss: number | Float32Array; grad: Float32Array } | null = null;
          const err = attempt(() => (out = crossEntropy(input as number[][], labels, { reduction: reduction as 'mean' })));
          const beyond = x.findIndex((v) => !(Math.abs(v) <= MAX_MAGNITUDE));
          if (err || beyond >= 0) {
            expect(err?.argument).toBe('logits');
            expect(beyond).toBeGreaterThanOrEqual(0);
            return;
          }
          const { loss, grad } = out!;
          const perToken = labels.map((y, n) => {
            if (y < 0) return 0;
            const row = x.slice(n * C, (n + 1) * C);
            const max = Math.max(...row);
            return max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0)) - row[y];
          });
          const counted = labels.filter((y) => y >= 0).length;
          const sum = perToken.reduce((s, v) => s + v, 0);
          expect(finite(grad)).toBe(true);
          if (reduction === 'none') {
            expect(Array.from(loss as Float32Array)).toEqual(perToken.map(Math.fround));
          } else {
            const want = reduction === 'sum' ? sum : counted === 0 ? 0 : sum / counted;
            expect(Number.isFinite(loss)).toBe(true);
            expect(Math.abs((loss as number) - want)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(want)));
          }
        },
      ),
      RUNS,
    ));
});

describe('AutomaticWeightedLoss: finite results equal to a float64 reference, or refused naming the p or the loss', () => {
  it('at any p (0, NaN and ±Infinity included) and any finite losses', () =>
    fc.assert(
      fc.property(
        fc.array(fc.record({ p: fc.oneof(value, fc.constantFrom(NaN, Infinity, -Infinity, 1e-30, 1e-13)), L: value }), { minLength: 1, maxLength: 3 }),
        (items) => {
          const awl = new AutomaticWeightedLoss(items.length);
          items.forEach(({ p }, i) => (awl.params[i] = p));
          const ps = Array.from(awl.params);
          const L = items.map((x) => x.L);
          let r: ReturnType<AutomaticWeightedLoss['forward']> | null = null;
          const err = attempt(() => (r = awl.forward(L)));
          const dp = ps.map((p, i) => -L[i] / (p * p * p) + (2 * p) / (1 + p * p));
          const terms = ps.map((p, i) => (0.5 / (p * p)) * L[i] + Math.log1p(p * p));
          const ok = ps.every((p, i) => p !== 0 && Number.isFinite(terms[i]) && Number.isFinite(0.5 / (p * p)) && Number.isFinite(Math.fround(dp[i])));
          expect(err === null).toBe(ok);
          if (err) {
            expect(err.argument).toMatch(/^(params\[\d\]|losses)$/);
            return;
          }
          const { loss, lossGrads, grads } = r!;
          expect(loss).toBe(terms.reduce((s, v) => s + v, 0));
          expect(lossGrads).toEqual(ps.map((p) => 0.5 / (p * p)));
          expect(Array.from(grads.params)).toEqual(dp.map(Math.fround));
        },
      ),
      RUNS,
    ));
});

describe('arrays claiming sizes they do not have are refused at once by every helper', () => {
  const claim = (length: number, first?: number) => ({ length, ...(first === undefined ? {} : { 0: first }) }) as unknown as number[];
  const helpers: [string, (c: number[], n: number) => unknown][] = [
    ['clipGradNorm record', (c) => clipGradNorm({ w: c }, 1)],
    ['clipGradNorm list', (c) => clipGradNorm([c] as number[][], 1)],
    ['clipGradNorm sparse array', (_c, n) => clipGradNorm({ w: new Array(Math.min(n, 2 ** 32 - 1)) as number[] }, 1)],
    ['Adam.step', (c) => new Adam({ x: new Float32Array(8) }).step({ x: c })],
    ['Adam.step sparse array', (_c, n) => new Adam({ x: new Float32Array(8) }).step({ x: new Array(Math.min(n, 2 ** 32 - 1)) as number[] })],
    ['crossEntropy logits data', (c, n) => crossEntropy({ data: c, shape: [n / 4, 4] }, { data: new Int32Array(0), shape: [n / 4] })],
    ['crossEntropy nested logits', (c) => crossEntropy([c, c] as unknown as number[][], [0, 0])],
    ['crossEntropy labels data', (c, n) => crossEntropy({ data: Float32Array.of(1, 2), shape: [1, 2] }, { data: c, shape: [n] })],
    ['AutomaticWeightedLoss.forward', (c) => new AutomaticWeightedLoss(2).forward(c)],
  ];
  it.each(helpers)('%s', (_name, call) =>
    fc.assert(
      fc.property(fc.constantFrom(2 ** 28 + 4, 2 ** 31, 2 ** 32 - 4, 2 ** 52), fc.option(value, { nil: undefined }), (n, first) => {
        const t0 = performance.now();
        const err = attempt(() => call(claim(n, first), n));
        expect(err).not.toBeNull();
        expect(performance.now() - t0).toBeLessThan(500);
      }),
      { numRuns: 20, seed: 2027 },
    ),
  );
});
