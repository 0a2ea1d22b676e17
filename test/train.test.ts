import { describe, expect, it } from 'vitest';
import { Adam, AutomaticWeightedLoss, CRF, CRFInputError, clipGradNorm, crossEntropy } from '../src/index.js';
import { rng } from './suites/oracle.js';

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
