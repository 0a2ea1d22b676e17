// webcrf/tfjs on tfjs's cpu and wasm backends: its gradients are the core's forwardBackward's and
// central differences of the float64 reference; it leaks no tensor; tensors in the other ops give the
// core's results; wrong dtypes are refused by name; state dicts round-trip.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AutomaticWeightedLoss as CoreAWL, CRF as CoreCRF, CRFInputError, type Reduction, clipGradNorm } from '../../src/index.js';
import { AutomaticWeightedLoss, CRF, clipByGlobalNorm } from '../../src/tfjs/index.js';

function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 4 - 2;
}

const B = 4,
  T = 5,
  K = 4;
const r = rng(7);
const emData = Float32Array.from({ length: B * T * K }, r);
const lengths = [5, 3, 1, 0];
const maskRows = lengths.map((l) => Array.from({ length: T }, (_, t) => (t < l ? 1 : 0)));
const tagRows = lengths.map((_, b) => Array.from({ length: T }, (_, t) => (b + 3 * t) % K));
const allowedRows = tagRows.map((row) => row.map((y, t) => Array.from({ length: K }, (_, j) => t % 2 === 1 || j === y || j === (y + 2) % K)));
const core = { data: emData, shape: [B, T, K] };

/** Per-sequence weights that differ: the upstream gradient of Σ_b c_b llh_b. */
const weights = [0.5, -1.25, 2, 3];

/** The loss a test differentiates, in tfjs: reduced, or Σ_b c_b llh_b for 'none'. */
function objective(crf: CRF, em: tf.Tensor, labels: unknown, reduction: Reduction, mask: boolean): tf.Scalar {
  const opts = { reduction, ...(mask ? { mask: tf.tensor2d(maskRows, [B, T], 'bool') } : {}) };
  const out = crf.forward(em, labels as tf.Tensor, opts);
  return (reduction === 'none' ? tf.sum(tf.mul(out, tf.tensor1d(weights))) : out) as tf.Scalar;
}

/** The same objective's value by the core: async, on its own instance with the same parameters. */
async function coreObjective(c: CoreCRF, data: Float32Array | Float64Array, labels: unknown, reduction: Reduction, mask: boolean): Promise<number> {
  const v = await c.forward({ data, shape: [B, T, K] }, labels as number[][], { reduction, ...(mask ? { mask: maskRows } : {}) });
  return typeof v === 'number' ? v : Array.from(v).reduce((s, x, b) => s + weights[b] * x, 0);
}

describe.each(['cpu', 'wasm'])('webcrf/tfjs on tfjs %s', (backend) => {
  beforeAll(async () => {
    await tf.setBackend(backend);
    await tf.ready();
  });

  const cases: [string, unknown, unknown][] = [
    ['tags as an int32 tensor', () => tf.tensor2d(tagRows, [B, T], 'int32'), tagRows],
    ['tags as nested arrays', () => tagRows, tagRows],
    ['a partial annotation as a bool tensor', () => ({ allowed: tf.tensor3d(allowedRows, [B, T, K], 'bool') }), { allowed: allowedRows }],
  ];

  for (const reduction of ['sum', 'mean', 'token_mean', 'none'] as const) {
    for (const [what, labels, coreLabels] of cases) {
      for (const mask of [true, false]) {
        it(`gradients (${reduction}, ${what}, ${mask ? 'masked' : 'no mask'}) equal the core's and central differences of the float64 reference`, async () => {
          const crf = await CRF.create(K, { seed: 3 });
          const js = await CoreCRF.create(K, { backend: 'js' });
          js.loadStateDict(crf.stateDict());
          const before = tf.memory().numTensors;
          const em = tf.tensor3d(emData, [B, T, K]);
          const v = crf.variables;
          let value = 0;
          const grads: Record<'em' | 'startTransitions' | 'endTransitions' | 'transitions', ArrayLike<number>> = {
            em: [],
            startTransitions: [],
            endTransitions: [],
            transitions: [],
          };
          tf.tidy(() => {
            const f = (e: tf.Tensor) => objective(crf, e, (labels as () => unknown)(), reduction, mask);
            const vg = tf.variableGrads(() => f(em), [v.startTransitions, v.endTransitions, v.transitions]);
            value = vg.value.dataSync()[0];
            grads.em = tf.grad(f)(em).dataSync();
            for (const k of ['startTransitions', 'endTransitions', 'transitions'] as const) grads[k] = vg.grads[v[k].name].dataSync();
          });
          em.dispose();
          expect(tf.memory().numTensors).toBe(before);

          // The core's forwardBackward: summed gradients for reduced losses; per sequence (one at a
          // time) and weighted for 'none'.
          const wasm = await CoreCRF.create(K, { backend: 'wasm' });
          wasm.loadStateDict(crf.stateDict());
          const want = {
            em: new Float64Array(B * T * K),
            startTransitions: new Float64Array(K),
            endTransitions: new Float64Array(K),
            transitions: new Float64Array(K * K),
          };
          const seqs = reduction === 'none' ? [0, 1, 2, 3] : [-1];
          for (const b of seqs) {
            const only = maskRows.map((row, i) => row.map((m) => (b < 0 || i === b ? (mask ? m : 1) : 0)));
            const w = b < 0 ? 1 : weights[b];
            const fb = await wasm.forwardBackward(core, coreLabels as number[][], { reduction: reduction === 'none' ? 'sum' : reduction, mask: only });
            fb.grads.emissions.forEach((g, i) => (want.em[i] += w * g));
            for (const k of ['startTransitions', 'endTransitions', 'transitions'] as const) fb.grads[k].forEach((g, i) => (want[k][i] += w * g));
          }
          expect(value).toBeCloseTo(await coreObjective(wasm, emData, coreLabels, reduction, mask), 4);
          const close = (got: ArrayLike<number>, exp: ArrayLike<number>, tol: number, name: string) => {
            for (let i = 0; i < exp.length; i++)
              expect(Math.abs(got[i] - exp[i]), `${name}[${i}]: ${got[i]} vs ${exp[i]}`).toBeLessThanOrEqual(tol * (1 + Math.abs(exp[i])));
          };
          close(grads.em, want.em, 1e-5, 'emissions');
          for (const k of ['startTransitions', 'endTransitions', 'transitions'] as const) close(grads[k], want[k], 1e-5, k);

          // Central differences of the float64 reference at a few coordinates of each.
          const h = 1e-3;
          const em64 = Float64Array.from(emData);
          for (const i of [0, 7, 21, 45]) {
            const at = async (d: number) => {
              const x = em64.slice();
              x[i] += d;
              return coreObjective(js, x, coreLabels, reduction, mask);
            };
            close([grads.em[i]], [((await at(h)) - (await at(-h))) / (2 * h)], 1e-3, `fd emissions[${i}]`);
          }
          for (const k of ['startTransitions', 'endTransitions', 'transitions'] as const) {
            const p = js[k];
            for (const i of [0, K - 1]) {
              const saved = p[i];
              const at = async (d: number) => {
                p[i] = saved + d;
                return coreObjective(js, em64, coreLabels, reduction, mask);
              };
              const fd = ((await at(h)) - (await at(-h))) / (2 * h);
              p[i] = saved;
              close([grads[k][i]], [fd], 2e-3, `fd ${k}[${i}]`);
            }
          }
          crf.dispose();
        });
      }
    }
  }

  it('with batchFirst false, takes [T, B, …] inputs and gives the transposed gradients of the batch-first CRF', async () => {
    const first = await CRF.create(K, { seed: 4 });
    const second = await CRF.create(K, { seed: 4, batchFirst: false });
    const w = tf.tensor1d(weights);
    const gradsOf = (crf: CRF, em: tf.Tensor, tags: tf.Tensor, mask: tf.Tensor) =>
      tf.tidy(() => {
        const f = (e: tf.Tensor) => tf.sum<tf.Scalar>(tf.mul(crf.forward(e, tags, { mask, reduction: 'none' }), w));
        const { grads } = tf.variableGrads(() => f(em), [crf.variables.transitions]);
        return [tf.grad(f)(em), grads[crf.variables.transitions.name]];
      });
    const em = tf.tensor3d(emData, [B, T, K]);
    const tags = tf.tensor2d(tagRows, [B, T], 'int32');
    const mask = tf.tensor2d(maskRows, [B, T], 'bool');
    const [gEm, gTr] = gradsOf(first, em, tags, mask);
    const [gEm2, gTr2] = gradsOf(second, tf.transpose(em, [1, 0, 2]), tf.transpose(tags), tf.transpose(mask));
    expect(Array.from(tf.transpose(gEm2, [1, 0, 2]).dataSync())).toEqual(Array.from(gEm.dataSync()));
    expect(Array.from(gTr2.dataSync())).toEqual(Array.from(gTr.dataSync()));
    tf.dispose([w, em, tags, mask, gEm, gTr, gEm2, gTr2]);
    first.dispose();
    second.dispose();
  });

  it('trains with one optimizer.minimize over a tagger and the CRF, leaking no tensor over 100 steps, also inside tf.tidy', async () => {
    const crf = await CRF.create(K, { seed: 1 });
    const x = tf.tensor3d(emData, [B, T, K]);
    const W = tf.variable(tf.eye(K).add(tf.randomNormal([K, K], 0, 0.1, 'float32', 1)), true, `tagger-${backend}`);
    const tags = tf.tensor2d(tagRows, [B, T], 'int32');
    const mask = tf.tensor2d(maskRows, [B, T], 'int32');
    const opt = tf.train.adam(0.05);
    const step = () =>
      opt.minimize(() => tf.neg(crf.forward(tf.reshape(tf.matMul(tf.reshape(x, [B * T, K]), W), [B, T, K]), tags, { mask })) as tf.Scalar, true);
    const start = crf.stateDict();
    const first = step()!;
    const loss0 = first.dataSync()[0];
    first.dispose();
    const n0 = tf.memory().numTensors;
    let last = 0;
    for (let i = 0; i < 99; i++) {
      if (i % 2) {
        const l = step()!;
        last = l.dataSync()[0];
        l.dispose();
      } else {
        tf.tidy(() => {
          last = step()!.dataSync()[0];
        });
      }
      expect(tf.memory().numTensors).toBe(n0);
    }
    expect(last).toBeLessThan(loss0);
    expect(crf.stateDict()).not.toEqual(start);
    opt.dispose();
    tf.dispose([x, W, tags, mask]);
    crf.dispose();
  });

  it('says which backend runs its ops, and why, as the core CRF does', async () => {
    const crf = await CRF.create(3, { seed: 1, backend: 'wasm' });
    const core = await CoreCRF.create(3, { seed: 1, backend: 'wasm' });
    expect(crf.backend).toBe('wasm');
    expect(crf.backendReason).toBe(core.backendReason);
    const js = await CRF.create(3, { seed: 1, backend: 'js' });
    expect(js.backend).toBe('js');
    crf.dispose();
    js.dispose();
    core.dispose();
  });

  it('decode, logPartition, marginals, entropy and sample take tensors and give the core’s results', async () => {
    const crf = await CRF.create(K, { seed: 2 });
    const c = await CoreCRF.create(K, { seed: 2 });
    const em = tf.tensor3d(emData, [B, T, K]);
    const maskT = tf.tensor2d(maskRows, [B, T], 'bool');
    const allowedT = tf.tensor3d(allowedRows, [B, T, K], 'bool');
    const n = tf.memory().numTensors;
    expect(await crf.decode(em, { mask: maskT })).toEqual(await c.decode(core, { mask: maskRows }));
    expect(await crf.decode(em, { mask: maskT, topK: 3 })).toEqual(await c.decode(core, { mask: maskRows, topK: 3 }));
    expect(await crf.decode(core, { mask: maskRows })).toEqual(await c.decode(core, { mask: maskRows }));
    expect(await crf.logPartition(em, { mask: maskT })).toEqual(await c.logPartition(core, { mask: maskRows }));
    expect(await crf.marginals(em, { mask: maskT, allowed: allowedT })).toEqual(await c.marginals(core, { mask: maskRows, allowed: allowedRows }));
    expect(await crf.entropy(em, { mask: maskT })).toEqual(await c.entropy(core, { mask: maskRows }));
    expect(await crf.sample(em, { mask: maskT, numSamples: 2, seed: 4 })).toEqual(await c.sample(core, { mask: maskRows, numSamples: 2, seed: 4 }));
    // The variables are what the ops use: a change to them shows in the next decode.
    tf.tidy(() => {
      crf.variables.transitions.assign(tf.fill([K, K], 0));
      crf.variables.startTransitions.assign(tf.tensor1d([9, 0, 0, 0]));
    });
    c.transitions.fill(0);
    c.startTransitions.set([9, 0, 0, 0]);
    expect(await crf.decode(em)).toEqual(await c.decode(core));
    expect(tf.memory().numTensors).toBe(n);
    tf.dispose([em, maskT, allowedT]);
    crf.dispose();
  });

  it('refuses tensors of the wrong dtype with a CRFInputError naming the argument, recording nothing', async () => {
    const crf = await CRF.create(K);
    const em = tf.tensor3d(emData, [B, T, K]);
    const n = tf.memory().numTensors;
    const refused = async (f: () => unknown, arg: string, what: RegExp) => {
      let err: unknown = null;
      try {
        await f();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(CRFInputError);
      expect((err as CRFInputError).message).toMatch(new RegExp(`^${arg}: expected`));
      expect((err as CRFInputError).message).toMatch(what);
    };
    await refused(() => crf.forward(tf.cast(em, 'int32'), tagRows), 'emissions', /float32 tf.Tensor.*got an int32 tf.Tensor/);
    await refused(() => crf.forward(emData as never, tagRows), 'emissions', /float32 tf.Tensor/);
    await refused(() => crf.forward(em, tf.tensor2d(tagRows, [B, T], 'float32')), 'tags', /int32 tf.Tensor.*got a float32/);
    await refused(() => crf.forward(em, tagRows, { mask: tf.tensor2d(maskRows, [B, T], 'float32') }), 'mask', /bool or int32/);
    await refused(() => crf.forward(em, { allowed: tf.tensor3d(allowedRows, [B, T, K], 'float32') }), 'allowed', /bool or int32/);
    await refused(() => crf.decode(tf.cast(em, 'int32')), 'emissions', /float32/);
    await refused(() => crf.forward(em, tf.fill([B, T], K, 'int32')), 'tags', /\[0, 4\)|in \[0/);
    await refused(() => crf.forward(em, tagRows, { reduction: 'avg' as never }), 'reduction', /one of/);
    expect(tf.memory().numTensors).toBeLessThanOrEqual(n + 6); // only the test's own bad inputs
    // Still usable, and a forward after the errors still differentiates.
    const g = tf.grad((e: tf.Tensor) => crf.forward(e, tagRows))(em);
    expect(g.shape).toEqual([B, T, K]);
    tf.dispose([g, em]);
    crf.dispose();
  });

  it('round-trips state dicts and safetensors through the variables; a refused state dict changes nothing', async () => {
    const a = await CRF.create(K, { seed: 11 });
    const b = await CRF.create(K, { seed: 12 });
    b.loadStateDict(a.stateDict());
    expect(b.stateDict()).toEqual(a.stateDict());
    expect(Array.from(b.variables.transitions.dataSync())).toEqual(a.stateDict().transitions.flat());
    const c = await CRF.fromSafetensors(a.toSafetensors());
    expect(c.stateDict()).toEqual(a.stateDict());
    const before = b.stateDict();
    expect(() => b.loadStateDict({ ...before, transitions: [[1]] })).toThrow(CRFInputError);
    expect(b.stateDict()).toEqual(before);
    tf.tidy(() => a.variables.endTransitions.assign(tf.tensor1d([1, 2, 3, 4])));
    expect(a.stateDict().end_transitions).toEqual([1, 2, 3, 4]);
    for (const x of [a, b, c]) x.dispose();
    expect(() => a.forward(tf.zeros([1, 1, K]), [[0]])).toThrow(/disposed/);
  });
});

describe('the training helpers over tf tensors', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('AutomaticWeightedLoss: its value and tfjs gradients equal the core’s analytic ones', () => {
    const awl = new AutomaticWeightedLoss(3);
    const core = new CoreAWL(3);
    tf.tidy(() => awl.params.assign(tf.tensor1d([0.7, 1.3, -2])));
    core.params.set([0.7, 1.3, -2]);
    const L = [0.25, 3.5, 1.75];
    const n = tf.memory().numTensors;
    const { value, gL, gp } = tf.tidy(() => {
      const losses = L.map((l) => tf.scalar(l));
      const f = (...ls: tf.Tensor[]) => awl.forward(ls);
      const gL = tf
        .grads(f)(losses)
        .map((g) => g.dataSync()[0]);
      const { value, grads } = tf.variableGrads(() => awl.forward(losses), [awl.params]);
      return { value: value.dataSync()[0], gL, gp: Array.from(grads[awl.params.name].dataSync()) };
    });
    expect(tf.memory().numTensors).toBe(n);
    const want = core.forward(L);
    expect(value).toBeCloseTo(want.loss, 5);
    gL.forEach((g, i) => expect(g).toBeCloseTo(want.lossGrads[i], 5));
    gp.forEach((g, i) => expect(g).toBeCloseTo(want.grads.params[i], 4));
    expect(() => awl.forward([tf.scalar(1)])).toThrow(CRFInputError);
    awl.dispose();
  });

  it('clipByGlobalNorm scales as the core’s clipGradNorm, and lets a smaller norm through', () => {
    const a = Float32Array.from([3, -4, 1]),
      b = Float32Array.from([2, 2, -1, 0.5]);
    for (const maxNorm of [1.5, 100]) {
      const want = { a: a.slice(), b: b.slice() };
      const norm = clipGradNorm(want, maxNorm);
      const n = tf.memory().numTensors;
      const out = tf.tidy(() => {
        const r = clipByGlobalNorm({ a: tf.tensor1d(a), b: tf.tensor2d(b, [2, 2]) }, maxNorm);
        return { a: r.grads.a.dataSync(), b: r.grads.b.dataSync(), norm: r.norm.dataSync()[0] };
      });
      expect(tf.memory().numTensors).toBe(n);
      expect(out.norm).toBeCloseTo(norm, 5);
      out.a.forEach((v, i) => expect(v).toBeCloseTo(want.a[i], 5));
      out.b.forEach((v, i) => expect(v).toBeCloseTo(want.b[i], 5));
    }
    expect(() => clipByGlobalNorm({}, 0)).toThrow(CRFInputError);
  });
});

afterAll(() => tf.disposeVariables());
