// The demo's tfjs model in Node, piece by piece (test/project/demo.test.ts runs it whole in the page):
// its embedding layer's gradient against tfjs's own gradient of a gather, each word's emissions seeing
// only its window, and a training step's loss against the core CRF's negative log-likelihood of the
// same emissions.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { CRF as CoreCRF } from '../../src/index.js';
import { WindowEmbedding, createModel } from '../../demo/model.js';
import { LABELS, makeSentences } from '../../demo/task.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('WindowEmbedding', () => {
  it("looks words up as a gather does, and its gradient is tfjs's own gradient of that gather", () => {
    const V = 6,
      D = 3;
    // Repeated ids (their rows' gradients must add up) and an id that never occurs (row 5: zero).
    const idRows = [
      [
        [0, 2, 2],
        [4, 1, 2],
      ],
      [
        [3, 3, 0],
        [2, 4, 1],
      ],
    ];
    const ids = tf.tensor3d(idRows, [2, 2, 3], 'int32');
    const layer = new WindowEmbedding({ inputDim: V, outputDim: D, seed: 5 });
    const out = layer.apply(ids) as tf.Tensor;
    const table = layer.getWeights()[0];
    expect(table.shape).toEqual([V, D]);
    const upstream = tf.randomNormal([2, 2, 3 * D], 0, 1, 'float32', 9);

    const gathered = tf.reshape(tf.gather(table, tf.reshape(ids, [-1])), [2, 2, 3 * D]);
    expect(out.shape).toEqual([2, 2, 3 * D]);
    expect(Array.from(out.dataSync())).toEqual(Array.from(gathered.dataSync()));

    const weights = layer.trainableWeights.map((w) => w.read() as tf.Variable);
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(layer.apply(ids) as tf.Tensor, upstream)) as tf.Scalar, weights);
    const ours = grads[weights[0].name].arraySync() as number[][];
    const oracle = tf
      .grad((t: tf.Tensor) => tf.sum(tf.mul(tf.reshape(tf.gather(t, tf.reshape(ids, [-1])), [2, 2, 3 * D]), upstream)))(table)
      .arraySync() as number[][];
    for (let v = 0; v < V; v++) for (let d = 0; d < D; d++) expect(ours[v][d]).toBeCloseTo(oracle[v][d], 5);
    expect(ours[5]).toEqual([0, 0, 0]);
    tf.dispose([ids, out, table, upstream, gathered, ...Object.values(grads)]);
  });
});

describe('the demo model', () => {
  const trainSet = makeSentences(30, 1);
  const K = LABELS.length;

  it("lays each word's window out as the two words before it (or start marks) and the word", async () => {
    const model = await createModel(trainSet);
    const s = trainSet[0];
    const batch = model.encode([s]);
    const id = (w: string) => model.vocab.get(w);
    const start = model.vocab.size;
    expect(Array.from(batch.ids.subarray(0, 9))).toEqual([
      start,
      start,
      id(s.words[0]),
      start,
      id(s.words[0]),
      id(s.words[1]),
      id(s.words[0]),
      id(s.words[1]),
      id(s.words[2]),
    ]);
    model.crf.dispose();
  });

  it("gives a sentence the same emissions alone as beside a longer one: padding enters no word's window", async () => {
    const model = await createModel(trainSet);
    const [short, long] = [...trainSet].sort((a, b) => a.words.length - b.words.length).filter((_, i, xs) => i === 0 || i === xs.length - 1);
    expect(long.words.length).toBeGreaterThan(short.words.length);
    const alone = model.emissions(model.encode([short]));
    const batch = model.encode([short, long]);
    const beside = model.emissions(batch);
    const n = short.words.length * K;
    const got = Array.from(beside.data.subarray(0, n));
    Array.from(alone.data).forEach((x, i) => expect(got[i]).toBeCloseTo(x, 5));
    model.crf.dispose();
  });

  it("trains on the CRF's negative log-likelihood per token, leaking no tensor from step to step", async () => {
    const model = await createModel(trainSet);
    const batch = model.encode(trainSet);
    const oracle = await CoreCRF.create(K);
    oracle.loadStateDict(model.crf.stateDict());
    const nll = -(await oracle.forward(model.emissions(batch), batch.tags, { mask: batch.mask, reduction: 'token_mean' }));
    const losses = [await model.step(batch)];
    expect(losses[0]).toBeCloseTo(nll, 4);
    const held = model.liveTensors();
    for (let i = 0; i < 3; i++) {
      losses.push(await model.step(batch));
      expect(model.liveTensors()).toBe(held);
    }
    expect(losses[3]).toBeLessThan(losses[0]);
    oracle.dispose();
    model.crf.dispose();
  });
});
