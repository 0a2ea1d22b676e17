// The classic pytorch-crf warm-up, ported: a CRF over 5 tags fitted to random emissions and random
// tags by Adam with gradient clipping, then scored and decoded on a fresh random batch.
//
//   model = CRF(5, batch_first=True)
//   optimizer = torch.optim.Adam(model.parameters(), lr=0.05)      # created once, outside the loop
//   for epoch in range(50):
//       loss = -model(emissions, tags)                              # reduction='sum'
//       optimizer.zero_grad(); loss.backward()
//       torch.nn.utils.clip_grad_norm_(model.parameters(), 5)
//       optimizer.step()
//
// Deterministic: the emissions, tags and initial weights all come from fixed seeds.
import { Adam, CRF, clipGradNorm } from 'webcrf';
import { generator } from './random.js';

const NUM_TAGS = 5;
const rng = generator(2024);
/**
 * `{data, shape}` emissions [batch, seq, tags] of standard normals and tags drawn from 0..3.
 * @param {number} batch @param {number} seq
 */
function randomBatch(batch, seq) {
  const data = Float32Array.from({ length: batch * seq * NUM_TAGS }, rng.randn);
  const tags = Array.from({ length: batch }, () => Array.from({ length: seq }, () => Math.floor(rng.next() * 4)));
  return { emissions: { data, shape: [batch, seq, NUM_TAGS] }, tags };
}

const crf = await CRF.create(NUM_TAGS, { batchFirst: true, seed: 0 });
const train = randomBatch(50, 3);
// forwardBackward returns gradients of the log-likelihood; `maximize` lets Adam ascend it, which is
// the same as descending the loss -llh that PyTorch would backpropagate.
const optimizer = new Adam(crf.parameters(), { lr: 0.05, maximize: true });

for (let epoch = 1; epoch <= 50; epoch++) {
  const { logLikelihood, grads } = await crf.forwardBackward(train.emissions, train.tags);
  // The emissions' gradient is not a parameter's: clip and step the CRF's own gradients only.
  const { emissions: _, ...paramGrads } = grads;
  clipGradNorm(paramGrads, 5);
  optimizer.step(paramGrads);
  console.log(`epoch ${epoch}: loss ${(-logLikelihood).toFixed(4)}`);
}

const test = randomBatch(5, 3);
const llh = await crf.forward(test.emissions, test.tags);
const decoded = await crf.decode(test.emissions);
console.log(`test log-likelihood: ${llh.toFixed(4)}`);
console.log(`test decode: ${JSON.stringify(decoded)}`);
console.log(`test tags:   ${JSON.stringify(test.tags)}`);
