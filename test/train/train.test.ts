import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Adam, AutomaticWeightedLoss, CRF, CRFInputError, type CRFOptions, clipGradNorm, crossEntropy } from '../../src/index.js';
import { threadsTuning } from '../../src/backends/wasm/threads/backend.js';
import { availableBackends } from '../backends.js';
import { inputError } from '../helpers.js';
import { rng } from '../suites/oracle.js';

/** Central finite differences of f at x (float64), one coordinate at a time. */
function numericGrad(f: (x: Float64Array) => number, x: Float64Array, h = 1e-6): Float64Array {
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const keep = x[i];
    x[i] = keep + h;
    const up = f(x);
    x[i] = keep - h;
    const down = f(x);
    x[i] = keep;
    g[i] = (up - down) / (2 * h);
  }
  return g;
}

const expectClose = (a: ArrayLike<number>, b: ArrayLike<number>, tol: number) => {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i]), `index ${i}: ${a[i]} vs ${b[i]}`).toBeLessThanOrEqual(tol);
};

describe('Adam', () => {
  it('follows the closed form under a constant gradient: θ_t = θ_0 − t·lr·g/(|g| + eps)', () => {
    // With g constant, m_t = (1−β1^t)g and v_t = (1−β2^t)g², so the bias-corrected step is lr·g/(|g|+eps).
    const theta = new Float64Array([1, -2, 0.5]);
    const g = [0.3, -4, 1e-3];
    const lr = 0.01,
      eps = 1e-8;
    const adam = new Adam({ theta }, { lr, eps });
    for (let t = 1; t <= 5; t++) {
      adam.step({ theta: g });
      expectClose(
        theta,
        [1, -2, 0.5].map((x0, i) => x0 - (t * lr * g[i]) / (Math.abs(g[i]) + eps)),
        1e-12,
      );
    }
    expect(adam.stepCount).toBe(5);
  });

  it('matches torch.optim.Adam worked by hand for two steps with weight decay', () => {
    const theta = new Float32Array([1]);
    const adam = new Adam({ theta }, { lr: 0.1, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.1 });
    adam.step({ theta: [0.5] });
    // g = 0.5 + 0.1·1 = 0.6; m = 0.06; v = 0.00036; m̂ = 0.6, v̂ = 0.36 → θ = 1 − 0.1·0.6/(0.6+1e-8)
    expect(theta[0]).toBeCloseTo(0.9, 6);
    adam.step({ theta: [-1] });
    // g = −1 + 0.1·0.9 = −0.91; m = 0.9·0.06 + 0.1·(−0.91) = −0.037;
    // v = 0.999·0.00036 + 0.001·0.8281 = 0.00118774; bias corrections 0.19 and 0.001999.
    const step2 = ((0.1 / 0.19) * -0.037) / (Math.sqrt(0.00118774) / Math.sqrt(0.001999) + 1e-8);
    expect(theta[0]).toBeCloseTo(0.9 - step2, 6);
    expect(theta[0]).toBeCloseTo(0.925262, 5);
  });

  it('maximize ascends: the same trajectory as minimising with negated gradients', () => {
    const r = rng(3);
    const a = new Float64Array(4).map(() => r.normal());
    const b = Float64Array.from(a);
    const up = new Adam({ a }, { lr: 0.05, maximize: true, weightDecay: 0.01 });
    const down = new Adam({ b }, { lr: 0.05, weightDecay: 0.01 });
    for (let s = 0; s < 4; s++) {
      const g = Array.from({ length: 4 }, () => r.normal());
      up.step({ a: g });
      down.step({ b: g.map((x) => -x) });
    }
    expectClose(a, b, 1e-15);
  });

  it('amsgrad divides by the running maximum of v', () => {
    // Gradients 1 then 0.1: v shrinks, so AMSGrad takes a smaller second step than Adam.
    const lr = 0.1,
      b1 = 0.9,
      b2 = 0.999,
      eps = 1e-8;
    const x = new Float64Array([0]);
    const adam = new Adam({ x }, { lr, amsgrad: true });
    adam.step({ x: [1] });
    const after1 = x[0];
    adam.step({ x: [0.1] });
    const m = b1 * (1 - b1) * 1 + (1 - b1) * 0.1;
    const v1 = (1 - b2) * 1;
    const v2 = b2 * v1 + (1 - b2) * 0.01;
    const vMax = Math.max(v1, v2);
    expect(after1).toBeCloseTo(-lr / (1 + eps), 12);
    expect(x[0]).toBeCloseTo(after1 - ((lr / (1 - b1 ** 2)) * m) / (Math.sqrt(vMax) / Math.sqrt(1 - b2 ** 2) + eps), 12);
  });

  it('minimises a quadratic and trains a CRF (the log-likelihood rises)', async () => {
    const x = new Float32Array([5, -3]);
    const adam = new Adam({ x }, { lr: 0.1 });
    for (let s = 0; s < 500; s++) adam.step({ x: [2 * (x[0] - 1), 2 * (x[1] + 2)] });
    expectClose(x, [1, -2], 1e-2);

    const crf = await CRF.create(3, { seed: 7, backend: 'js' });
    const r = rng(11);
    const em = Array.from({ length: 4 }, () => Array.from({ length: 5 }, () => Array.from({ length: 3 }, () => r.normal())));
    const tags = [
      [0, 1, 1, 2, 0],
      [2, 2, 1, 0, 0],
      [1, 0, 2, 2, 1],
      [0, 0, 0, 1, 2],
    ];
    const opt = new Adam(crf.parameters(), { lr: 0.05, maximize: true });
    const first = (await crf.forward(em, tags)) as number;
    for (let s = 0; s < 30; s++) opt.step((await crf.forwardBackward(em, tags)).grads);
    expect((await crf.forward(em, tags)) as number).toBeGreaterThan(first + 1);
  });

  it('checks every gradient before touching any parameter, and ignores extra keys', () => {
    const a = new Float32Array([1, 2]);
    const b = new Float32Array([3]);
    const adam = new Adam({ a, b }, { lr: 0.1 });
    expect(() => adam.step({ a: [1, 1] } as never)).toThrow(/grads\.b/);
    expect(() => adam.step({ a: [1, 1], b: [1, 2] })).toThrow(/grads\.b: expected length 1, got length 2/);
    expect(() => adam.step({ a: [1, NaN], b: [0] })).toThrow(/grads\.a: expected a finite number at \[1\], got NaN/);
    expect(Array.from(a)).toEqual([1, 2]);
    expect(Array.from(b)).toEqual([3]);
    expect(adam.stepCount).toBe(0);
    const withExtra = { a: [1, 1], b: [1], emissions: new Float32Array(10) };
    adam.step(withExtra);
    expect(adam.stepCount).toBe(1);
    expect(a[0]).toBeCloseTo(0.9, 6);
  });

  it('rejects bad parameters and options with CRFInputError', () => {
    const p = { x: new Float32Array(1) };
    expect(() => new Adam({}, {})).toThrow(CRFInputError);
    expect(() => new Adam({ x: [1, 2] as unknown as Float32Array })).toThrow(/params\.x: expected a Float32Array or Float64Array/);
    expect(() => new Adam(p, { lr: -1 })).toThrow(/lr: expected a finite number ≥ 0, got -1/);
    expect(() => new Adam(p, { betas: [0.9, 1] })).toThrow(/betas\[1\]/);
    expect(() => new Adam(p, { betas: [0.9] as unknown as [number, number] })).toThrow(/betas: expected a pair/);
    expect(() => new Adam(p, { eps: NaN })).toThrow(/eps/);
    expect(() => new Adam(p, { weightDecay: -0.1 })).toThrow(/weightDecay/);
    expect(() => new Adam(p, { maximize: 1 as unknown as boolean })).toThrow(/maximize: expected a boolean/);
  });

  it('checks lr whenever it is set (a schedule), and keeps the old rate when refused', () => {
    const p = { x: new Float32Array([1]) };
    const adam = new Adam(p, { lr: 0.1 });
    for (const bad of [NaN, -1, Infinity, '0.1']) {
      expect(() => {
        adam.lr = bad as number;
      }).toThrow(/lr: expected a finite number ≥ 0/);
      expect(adam.lr).toBe(0.1);
    }
    adam.lr = 0.01;
    adam.step({ x: [1] });
    expect(p.x[0]).toBeCloseTo(1 - 0.01, 6);
  });

  it('leaves −Infinity parameters (forbidden transitions) forbidden, with weight decay too', () => {
    const p = { x: new Float32Array([-Infinity, 0.5]) };
    const adam = new Adam(p, { lr: 0.1, weightDecay: 0.01 });
    adam.step({ x: [0, 1] });
    expect(p.x[0]).toBe(-Infinity);
    expect(Number.isFinite(p.x[1])).toBe(true);
  });
});

describe('clipGradNorm', () => {
  it('scales in place by maxNorm/(norm + 1e-6) over all arrays together and returns the norm', () => {
    const g = { a: new Float32Array([3]), b: new Float64Array([0, 4]) };
    expect(clipGradNorm(g, 1)).toBe(5);
    const c = 1 / (5 + 1e-6);
    expectClose(g.a, [3 * c], 1e-7);
    expectClose(g.b, [0, 4 * c], 1e-12);
  });

  it('leaves gradients under the limit alone; at the limit scales by max/(max+1e-6) as torch does', () => {
    const g = [[3, 4]];
    expect(clipGradNorm(g, 10)).toBe(5);
    expect(g[0]).toEqual([3, 4]);
    expect(clipGradNorm(g, 5)).toBe(5);
    expectClose(g[0], [(3 * 5) / (5 + 1e-6), (4 * 5) / (5 + 1e-6)], 1e-15);
  });

  it('supports the max norm and p-norms', () => {
    const g = [[1, -7], [2]];
    expect(clipGradNorm(g, 100, { normType: Infinity })).toBe(7);
    expect(clipGradNorm(g, 100, { normType: 1 })).toBe(10);
    expect(clipGradNorm(g, 1, { normType: 3 })).toBeCloseTo((1 + 343 + 8) ** (1 / 3), 12);
    expectClose(
      g.flat(),
      [1, -7, 2].map((x) => x / (352 ** (1 / 3) + 1e-6)),
      1e-12,
    );
    expect(clipGradNorm([], 1)).toBe(0);
  });

  it('computes the norm of huge and tiny finite gradients without overflow or underflow', () => {
    const rel = (a: number, b: number) => Math.abs(a - b) / b;
    const big = [[3e200, 4e200]];
    expect(rel(clipGradNorm(big, 1e300), 5e200)).toBeLessThan(1e-15);
    expect(big[0]).toEqual([3e200, 4e200]);
    expect(rel(clipGradNorm(big, 1), 5e200)).toBeLessThan(1e-15);
    expect(big[0][0]).toBeCloseTo(0.6, 12);
    expect(rel(clipGradNorm([[3e-200, 4e-200]], 1), 5e-200)).toBeLessThan(1e-15);
    expect(rel(clipGradNorm([Float64Array.of(1e300, 1e300, 1e300, 1e300)], 1e301, { normType: 3 }), 4 ** (1 / 3) * 1e300)).toBeLessThan(1e-15);
  });

  it('rejects non-finite gradients and bad arguments', () => {
    expect(() => clipGradNorm({ a: [1, Infinity] }, 1)).toThrow(/grads\.a: expected a finite number at \[1\], got Infinity/);
    expect(() => clipGradNorm([[1]], -1)).toThrow(/maxNorm/);
    expect(() => clipGradNorm([[1]], 1, { normType: 0 })).toThrow(/normType/);
    expect(() => clipGradNorm({ a: 'x' as unknown as number[] }, 1)).toThrow(CRFInputError);
  });
});

describe('crossEntropy', () => {
  it('is log-sum-exp minus the label score, averaged over tokens not ignored', () => {
    const logits = [
      [
        [1, 2, 3],
        [0, 0, 0],
        [2, -1, 0.5],
      ],
    ];
    const { loss, grad } = crossEntropy(logits, [[2, -100, 0]]);
    const l0 = Math.log(Math.E + Math.E ** 2 + Math.E ** 3) - 3;
    const l2 = Math.log(Math.exp(2) + Math.exp(-1) + Math.exp(0.5)) - 2;
    expect(loss).toBeCloseTo((l0 + l2) / 2, 12);
    expect(l0).toBeCloseTo(0.40760596, 7);
    expect(Array.from(grad.subarray(3, 6))).toEqual([0, 0, 0]);
    // Softmax minus one-hot, over the 2 tokens counted.
    const z = Math.E + Math.E ** 2 + Math.E ** 3;
    expectClose(grad.subarray(0, 3), [Math.E / z / 2, Math.E ** 2 / z / 2, (Math.E ** 3 / z - 1) / 2], 1e-7);
  });

  it('has the finite-difference gradient for every reduction', () => {
    const r = rng(5);
    const B = 2,
      T = 3,
      C = 4;
    const x = new Float64Array(B * T * C).map(() => 2 * r.normal());
    const labels = { data: [0, 3, -100, 1, 2, 2], shape: [B, T] };
    for (const reduction of ['mean', 'sum'] as const) {
      const f = (v: Float64Array) => crossEntropy({ data: v, shape: [B, T, C] }, labels, { reduction }).loss;
      const { grad } = crossEntropy({ data: x, shape: [B, T, C] }, labels, { reduction });
      expectClose(grad, numericGrad(f, x), 1e-6);
    }
    // 'none' returns float32 losses (too coarse for differences); its gradient is that of their sum.
    const perToken = crossEntropy({ data: x, shape: [B, T, C] }, labels, { reduction: 'none' });
    const summed = crossEntropy({ data: x, shape: [B, T, C] }, labels, { reduction: 'sum' });
    expectClose(perToken.grad, summed.grad, 0);
    expect(Array.from(perToken.loss).reduce((a, b) => a + b, 0)).toBeCloseTo(summed.loss, 5);
    const none = crossEntropy({ data: x, shape: [B, T, C] }, labels, { reduction: 'none' });
    expect(none.loss).toBeInstanceOf(Float32Array);
    expect(none.loss[2]).toBe(0);
    const sum = crossEntropy({ data: x, shape: [B, T, C] }, labels, { reduction: 'sum' }).loss;
    const mean = crossEntropy({ data: x, shape: [B, T, C] }, labels).loss;
    expect(mean).toBeCloseTo(sum / 5, 12);
  });

  it('takes nested or flat input, rank 3 or rank 2, and a custom ignoreIndex', () => {
    const nested = [
      [
        [0.5, -1],
        [2, 0],
      ],
      [
        [1, 1],
        [0, 3],
      ],
    ];
    const a = crossEntropy(
      nested,
      [
        [1, -1],
        [0, 1],
      ],
      { ignoreIndex: -1 },
    );
    const b = crossEntropy(
      { data: Float32Array.from(nested.flat(2)), shape: [2, 2, 2] },
      { data: Int32Array.of(1, -1, 0, 1), shape: [2, 2] },
      { ignoreIndex: -1 },
    );
    const c = crossEntropy(nested.flat(1), [1, -1, 0, 1], { ignoreIndex: -1 });
    expect(a.loss).toBeCloseTo(b.loss, 6);
    expect(a.loss).toBeCloseTo(c.loss, 12);
    expectClose(a.grad, c.grad, 0);
  });

  it('gives 0 and a zero gradient when every label is ignored (torch gives NaN)', () => {
    const { loss, grad } = crossEntropy([[[1, 2]]], [[-100]]);
    expect(loss).toBe(0);
    expect(Array.from(grad)).toEqual([0, 0]);
  });

  it('rejects bad input with CRFInputError naming it', () => {
    expect(() => crossEntropy([[[1, 2]]], [[2]])).toThrow(/labels: expected an integer in \[0, 1\] or ignoreIndex -100 at flat index 0, got 2/);
    expect(() => crossEntropy([[[1, NaN]]], [[0]])).toThrow(/logits: expected a finite number at \[0\]\[0\]\[1\], got NaN/);
    expect(() => crossEntropy([[[1, 2]]], [[0, 1]])).toThrow(/labels: expected shape \[1, 1\]/);
    expect(() => crossEntropy([[[1, 2], [3]]], [[0, 1]])).toThrow(/ragged/);
    expect(() => crossEntropy([1, 2] as unknown as number[][], [0])).toThrow(/logits: expected shape \[B, T, C\] or \[N, C\]/);
    expect(() => crossEntropy([[[1, 2]]], [[0]], { reduction: 'avg' as 'mean' })).toThrow(/reduction/);
    expect(() => crossEntropy({ data: [1, 2, 3], shape: [1, 1, 2] }, [[0]])).toThrow(/data of length 2/);
  });
});

describe('AutomaticWeightedLoss', () => {
  it('starts at p = 1: loss = Σ 0.5·L_i + log 2', () => {
    const awl = new AutomaticWeightedLoss(2);
    expect(Array.from(awl.params)).toEqual([1, 1]);
    const { loss, lossGrads } = awl.forward([2, 6]);
    expect(loss).toBeCloseTo(1 + 3 + 2 * Math.LN2, 12);
    expect(lossGrads).toEqual([0.5, 0.5]);
  });

  it('has the finite-difference gradients with respect to the losses and to p', () => {
    const awl = new AutomaticWeightedLoss(3);
    awl.params.set([0.7, 1.3, -0.9]);
    const L = new Float64Array([1.5, 0.2, 3]);
    const { lossGrads, grads } = awl.forward(L);
    const p = Float64Array.from(awl.params);
    const f = (pp: Float64Array, ll: Float64Array) => {
      let s = 0;
      for (let i = 0; i < 3; i++) s += (0.5 / pp[i] ** 2) * ll[i] + Math.log(1 + pp[i] ** 2);
      return s;
    };
    expectClose(
      lossGrads,
      numericGrad((ll) => f(p, ll), L),
      1e-7,
    );
    expectClose(
      grads.params,
      numericGrad(
        (pp) => {
          const other = new AutomaticWeightedLoss(3);
          other.params.set(pp);
          return other.forward(L).loss;
        },
        Float64Array.from(p),
        1e-3,
      ),
      1e-4,
    );
  });

  it('trained by Adam, p reaches the stationary point L(1 + p²) = 2p⁴', () => {
    const awl = new AutomaticWeightedLoss(2);
    const adam = new Adam(awl.parameters(), { lr: 0.02 });
    const L = [4, 0.25];
    for (let s = 0; s < 2000; s++) adam.step(awl.forward(L).grads);
    for (let i = 0; i < 2; i++) {
      const p2 = awl.params[i] ** 2;
      const want = (L[i] + Math.sqrt(L[i] ** 2 + 8 * L[i])) / 4;
      expect(p2).toBeCloseTo(want, 3);
    }
  });

  it('rejects a bad count or non-finite losses', () => {
    expect(() => new AutomaticWeightedLoss(0)).toThrow(/n: expected an integer in \[1, 65536\], got 0/);
    const awl = new AutomaticWeightedLoss(2);
    expect(() => awl.forward([1])).toThrow(/losses: expected 2 numbers/);
    expect(() => awl.forward([1, NaN])).toThrow(/losses: expected a finite number at \[1\], got NaN/);
  });
});

/** Two optimizers over equal copies of `init`, so that one can be compared with the other after a refusal. */
function twins(init: Record<string, Float32Array | Float64Array>, options: ConstructorParameters<typeof Adam>[1]) {
  const copy = () => Object.fromEntries(Object.entries(init).map(([k, a]) => [k, a.slice()]));
  const pa = copy(),
    pb = copy();
  return { pa, pb, a: new Adam(pa, options), b: new Adam(pb, options) };
}

/** After `a` refused a step that `b` never saw, both must take the next step alike: the same parameters, moments and count. */
function expectUnchangedTwin(t: ReturnType<typeof twins>, next: Record<string, number[]>) {
  for (const k of Object.keys(t.pa)) expect(Array.from(t.pa[k])).toEqual(Array.from(t.pb[k]));
  expect(t.a.stepCount).toBe(t.b.stepCount);
  t.a.step(next);
  t.b.step(next);
  for (const k of Object.keys(t.pa)) expect(Array.from(t.pa[k])).toEqual(Array.from(t.pb[k]));
}

describe('Adam never writes a non-finite value: a step that would is refused before anything changes', () => {
  it('lr 1e39 would write ±Infinity into float32 parameters (−Infinity would forbid a transition): refused, naming lr', async () => {
    const t = twins({ x: Float32Array.of(1, -1, 0.5) }, { lr: 0.1 });
    t.a.step({ x: [0.3, -0.2, 0.1] });
    t.b.step({ x: [0.3, -0.2, 0.1] });
    t.a.lr = 1e39;
    const err = await inputError(() => t.a.step({ x: [1, -1, 0] }));
    expect(err.argument).toBe('lr');
    expect(err.message).toMatch(/params\.x\[0\]/);
    t.a.lr = 0.1;
    expectUnchangedTwin(t, { x: [0.5, 0.5, 0.5] });
  });

  it('the step is checked as the parameter stores it: 1e39 is finite in a Float64Array, so there it is taken', () => {
    const p = { x: Float64Array.of(1) };
    new Adam(p, { lr: 1e39 }).step({ x: [1] });
    expect(p.x[0] / -1e39).toBeCloseTo(1, 6);
  });

  it('weightDecay 1e300 on a parameter of 1e30 would write NaN: refused, naming weightDecay; later parameters untouched too', async () => {
    const t = twins({ a: Float32Array.of(0, 0), x: Float32Array.of(1e30, 1) }, { weightDecay: 1e300 });
    const err = await inputError(() => t.a.step({ a: [0.1, 0.2], x: [0, 0] }));
    expect(err.argument).toBe('weightDecay');
    expect(err.message).toMatch(/params\.x\[0\]/);
    expect(err.message).toMatch(/e\+30/);
    expect(Array.from(t.pa.a)).toEqual([0, 0]);
    expect(t.a.stepCount).toBe(0);
  });

  it('a gradient whose square overflows the second moment is refused, naming the gradient', async () => {
    const t = twins({ x: Float64Array.of(1, 2) }, {});
    const err = await inputError(() => t.a.step({ x: [1, 1e200] }));
    expect(err.argument).toBe('grads.x');
    expect(err.message).toMatch(/\[1\]/);
    expectUnchangedTwin(t, { x: [1, 1] });
  });

  it('a NaN or +Infinity already in a parameter is refused (only −Infinity, a forbidden transition, is kept as it is)', async () => {
    for (const bad of [NaN, Infinity]) {
      const t = twins({ x: Float32Array.of(-Infinity, 1, bad) }, { lr: 0.1 });
      const err = await inputError(() => t.a.step({ x: [0, 1, 1] }));
      expect(err.argument).toBe('params.x');
      expect(err.message).toMatch(/at \[2\]/);
      expect(Array.from(t.pa.x)).toEqual([-Infinity, 1, bad]);
      expect(t.a.stepCount).toBe(0);
    }
  });

  it('eps 0: a zero gradient moves nothing (torch writes 0/0 = NaN); a second moment that underflows to 0 is refused, naming eps', async () => {
    const p = { x: Float32Array.of(1, 2) };
    const adam = new Adam(p, { lr: 0.1, eps: 0 });
    adam.step({ x: [0, 1] });
    expect(p.x[0]).toBe(1);
    expect(p.x[1]).toBeCloseTo(2 - 0.1, 6);
    const t = twins({ x: Float64Array.of(1) }, { eps: 0 });
    const err = await inputError(() => t.a.step({ x: [1e-170] }));
    expect(err.argument).toBe('eps');
    expectUnchangedTwin(t, { x: [1] });
  });
});

describe('AutomaticWeightedLoss refuses a p at which its results are not finite', () => {
  it('p = 1e-30 gives ∂loss/∂p = −L/p³ beyond float32: refused, naming params[0], its value and why', async () => {
    const awl = new AutomaticWeightedLoss(2);
    awl.params[0] = 1e-30;
    const err = await inputError(() => awl.forward([2, 1]));
    expect(err.argument).toBe('params[0]');
    expect(err.message).toMatch(/1\.0\d*e-30/);
    expect(err.message).toMatch(/float32/);
  });

  it('p = 0 and NaN are CRFInputError too, and a p far from 0 with the same losses is fine', async () => {
    for (const p of [0, NaN, Infinity]) {
      const awl = new AutomaticWeightedLoss(2);
      awl.params[1] = p;
      expect((await inputError(() => awl.forward([2, 1]))).argument).toBe('params[1]');
    }
    const awl = new AutomaticWeightedLoss(2);
    awl.params[0] = 1e-10;
    const r = awl.forward([2, 1]);
    expect(Number.isFinite(r.loss) && r.lossGrads.every(Number.isFinite) && r.grads.params.every(Number.isFinite)).toBe(true);
  });

  it('a finite loss whose results overflow is refused, naming losses where |p| ≥ 1 (the weighting only shrinks it), else p', async () => {
    const awl = new AutomaticWeightedLoss(3);
    const err = await inputError(() => awl.forward([1, 1e39, 1]));
    expect(err.argument).toBe('losses');
    expect(err.message).toMatch(/at \[1\].*1e\+39/);
    const one = new AutomaticWeightedLoss(1);
    one.params[0] = 0.5;
    expect((await inputError(() => one.forward([1e308]))).argument).toBe('params[0]');
  });
});

describe('clipGradNorm near the largest double', () => {
  it('the norm of one gradient of 1.7e308 is 1.7e308 (it was NaN), and it is clipped', () => {
    const g = [Float64Array.of(1.7e308)];
    expect(clipGradNorm(g, 1)).toBe(1.7e308);
    expect(g[0][0]).toBeCloseTo(1, 12);
    expect(clipGradNorm([[1.7e308, 0]], 1, { normType: 1 })).toBe(1.7e308);
    expect(clipGradNorm([[-1.7e308]], 1, { normType: 100 })).toBe(1.7e308);
  });

  it('a total norm beyond the largest double is refused and nothing is scaled', async () => {
    for (const normType of [1, 2, 3, 100]) {
      const g = [Float64Array.of(1.79e308, -1.79e308)];
      const err = await inputError(() => clipGradNorm(g, 1, { normType }));
      expect(err.argument).toBe('grads');
      expect(Array.from(g[0])).toEqual([1.79e308, -1.79e308]);
    }
    expect(clipGradNorm([Float64Array.of(1.79e308, -1.79e308)], 1, { normType: Infinity })).toBe(1.79e308);
  });
});

describe('crossEntropy takes logits within ±1e20, where every result is finite', () => {
  it('logits of ±1e308 (a loss of +Infinity) and 3e38 (per-token losses beyond float32) are refused, naming the value', async () => {
    let err = await inputError(() => crossEntropy([[1e308, -1e308]], [1]));
    expect(err.argument).toBe('logits');
    expect(err.message).toMatch(/within ±1e20.* at \[0\]\[0\], got 1e\+308/);
    err = await inputError(() => crossEntropy({ data: Float32Array.of(3e38, -3e38), shape: [1, 2] }, [1], { reduction: 'none' }));
    expect(err.message).toMatch(/at \[0\]\[0\]/);
  });

  it('at ±1e20 the loss and the per-token losses are finite and equal float64 arithmetic', () => {
    const { loss } = crossEntropy([[1e20, -1e20]], [1]);
    expect(loss).toBe(2e20);
    const none = crossEntropy({ data: Float64Array.of(1e20, -1e20, -1e20, 1e20), shape: [2, 2] }, [1, 0], { reduction: 'none' });
    expect(Array.from(none.loss)).toEqual([Math.fround(2e20), Math.fround(2e20)]);
  });
});

// clip_grad_norm_(crf.parameters(), 5) clips the CRF's three parameters: forwardBackward's grads, handed
// over whole, must give the same, and leave the emissions' gradient (no parameter) alone.
const fbBackends = [
  ...(await availableBackends()).map((b) => ({ label: b.name, options: { backend: b.name, ...b.options } as CRFOptions })),
  { label: 'wasm, threads: 2', options: { backend: 'wasm', threads: 2 } as CRFOptions },
];

describe.each(fbBackends.map((b) => [b.label, b.options] as const))("forwardBackward's grads in the training helpers on %s", (_label, options) => {
  const K = 4,
    B = 6,
    T = 5;
  const r = rng(21);
  const em = { data: Float32Array.from({ length: B * T * K }, () => 3 * r.normal()), shape: [B, T, K] };
  const tags = { data: Int32Array.from({ length: B * T }, () => r.int(K)), shape: [B, T] };
  const keep = threadsTuning.force;
  beforeAll(() => {
    threadsTuning.force = 'split'; // every call split across the threads, however small
  });
  afterAll(() => {
    threadsTuning.force = keep;
  });

  async function gradsOf() {
    const crf = await CRF.create(K, { seed: 4, ...options });
    const { grads } = await crf.forwardBackward(em, tags);
    crf.dispose();
    return grads;
  }

  it('clipGradNorm(grads, maxNorm) clips startTransitions, endTransitions and transitions only, as torch clips crf.parameters()', async () => {
    const grads = await gradsOf();
    const params = { startTransitions: grads.startTransitions.slice(), endTransitions: grads.endTransitions.slice(), transitions: grads.transitions.slice() };
    const emissions = grads.emissions.slice();
    let sq = 0;
    for (const a of Object.values(params)) for (const v of a) sq += v * v;
    expect(sq).toBeGreaterThan(1); // so that maxNorm 0.5 clips
    const norm = clipGradNorm(grads, 0.5);
    expect(norm).toBe(clipGradNorm(params, 0.5));
    expect(Math.abs(norm - Math.sqrt(sq))).toBeLessThan(1e-12 * norm);
    for (const k of Object.keys(params) as (keyof typeof params)[]) expect(Array.from(grads[k])).toEqual(Array.from(params[k]));
    expect(Array.from(grads.emissions)).toEqual(Array.from(emissions));
  });

  it("the emissions' gradient handed over in another record or list is refused with what to pass instead", async () => {
    const grads = await gradsOf();
    const before = grads.transitions.slice();
    for (const call of [() => clipGradNorm({ ...grads, W: new Float32Array(3) }, 1), () => clipGradNorm(Object.values(grads), 1)]) {
      const err = await inputError(call);
      expect(err.argument).toMatch(/^grads(\.emissions|\[0\])$/);
      expect(err.message).toMatch(/const \{ emissions, \.\.\.params \} = grads/);
    }
    expect(Array.from(grads.transitions)).toEqual(Array.from(before));
  });

  it('Adam.step(grads) ignores grads.emissions: the same step as with the parameter gradients alone', async () => {
    const grads = await gradsOf();
    const mk = () => ({
      startTransitions: new Float32Array(K).fill(0.1),
      endTransitions: new Float32Array(K).fill(-0.1),
      transitions: new Float32Array(K * K).fill(0.2),
    });
    const [p1, p2] = [mk(), mk()];
    new Adam(p1, { lr: 0.1, maximize: true }).step(grads);
    const { emissions: _e, ...paramGrads } = grads;
    new Adam(p2, { lr: 0.1, maximize: true }).step(paramGrads);
    expect(p1).toEqual(p2);
    expect(Array.from(p1.transitions)).not.toEqual(Array.from(mk().transitions));
  });
});

describe('arrays read in place: no value changes between its check and its use, and no memory is counted twice', () => {
  it('Adam refuses two parameters that share memory, a Proxy for a parameter, and a parameter whose buffer was transferred', async () => {
    const buf = new Float32Array(6);
    expect((await inputError(() => new Adam({ a: buf.subarray(0, 4), b: buf.subarray(3) }))).message).toMatch(/params\.b: expected an array of its own/);
    new Adam({ a: buf.subarray(0, 3), b: buf.subarray(3) }); // side by side is fine
    const proxy = new Proxy(new Float32Array(2), {});
    expect((await inputError(() => new Adam({ x: proxy }))).argument).toBe('params.x');
    const x = new Float32Array(3);
    const adam = new Adam({ x });
    structuredClone(x.buffer, { transfer: [x.buffer] });
    const err = await inputError(() => adam.step({ x: [1, 1, 1] }));
    expect(err.argument).toBe('params.x');
    expect(adam.stepCount).toBe(0);
  });

  it('a gradient that shares memory with a parameter is read before the step writes it: the step equals that of a copy', () => {
    const buf = Float64Array.of(1, 2, 3, 4, 5);
    const twin = Float64Array.of(2, 3, 4, 5);
    const x = buf.subarray(1);
    const g = buf.subarray(0, 4); // g[i + 1] is x[i]: a write to x[i] would change the next gradient read in place
    const want = Float64Array.from(g);
    new Adam({ x }, { lr: 0.5 }).step({ x: g });
    new Adam({ x: twin }, { lr: 0.5 }).step({ x: want });
    expect(Array.from(x)).toEqual(Array.from(twin));
  });

  it('clipGradNorm refuses arrays that share memory (or one array twice), which would be counted and scaled twice', async () => {
    const buf = new Float32Array(4).fill(1);
    for (const grads of [[buf.subarray(0, 3), buf.subarray(2)], { a: buf, b: buf }, [[1, 2], [3]].map((a, _, all) => all[0])]) {
      const err = await inputError(() => clipGradNorm(grads as number[][], 0.1));
      expect(err.message).toMatch(/expected an array of its own/);
    }
    expect(Array.from(buf)).toEqual([1, 1, 1, 1]);
  });

  it('crossEntropy reads the labels before it checks logits read in place: a label getter cannot slip a NaN past the check', () => {
    const logits = Float32Array.of(1, 2, 3, 4);
    const labels = new Proxy([0, 1], {
      get(t, k) {
        if (k === '1') logits[2] = NaN;
        return Reflect.get(t, k) as unknown;
      },
    });
    let loss: number;
    try {
      loss = crossEntropy({ data: logits, shape: [2, 2] }, labels).loss;
    } catch (e) {
      expect(e).toBeInstanceOf(CRFInputError);
      expect((e as CRFInputError).argument).toBe('logits');
      return;
    }
    expect(Number.isFinite(loss)).toBe(true);
  });
});
