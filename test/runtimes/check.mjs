// Run by Bun, Deno and a Node without process.getBuiltinModule (test/backends/runtimes.test.ts): the package imported by its name, as in a user's
// project, scores, decodes and marginalises a batch on the backend `auto` picks and on js, and prints
// both as JSON for the test to compare.
import { CRF } from 'webcrf';

const K = 5,
  B = 3,
  T = 7;
let s = 9;
const rand = () => ((s = (s * 1103515245 + 12345) >>> 0) / 4294967296) * 4 - 2;
const data = Float32Array.from({ length: B * T * K }, rand);
const em = { data, shape: [B, T, K] };
const mask = { data: Uint8Array.from({ length: B * T }, (_, i) => (i % T === 0 || i % 3 !== 1 ? 1 : 0)), shape: [B, T] };
const tags = { data: Int32Array.from({ length: B * T }, (_, i) => i % K), shape: [B, T] };
/** @type {Record<string, unknown>} */
const out = {};
for (const backend of /** @type {const} */ (['auto', 'js'])) {
  const crf = await CRF.create(K, { backend, seed: 4 });
  out[backend] = {
    backend: crf.backend,
    reason: crf.backendReason,
    llh: Array.from(await crf.forward(em, tags, { mask, reduction: 'none' })),
    decode: await crf.decode(em, { mask }),
    top3: (await crf.decode(em, { mask, topK: 3 })).map((l) => l.map((p) => p.path)),
    marginals: Array.from(await crf.marginals(em, { mask })),
  };
  crf.dispose();
}

// threads: 2 on a batch large enough for decode to split by default (K ≥ 32, B·T·K² = 2^25) gives the
// bits of one thread; the threaded CRF is not disposed, and the process must still exit.
{
  const [B2, T2, K2] = [16, 128, 128];
  const em2 = { data: Float32Array.from({ length: B2 * T2 * K2 }, rand), shape: [B2, T2, K2] };
  const tags2 = { data: Int32Array.from({ length: B2 * T2 }, (_, i) => (i * 7) % K2), shape: [B2, T2] };
  /** @param {CRF} crf */
  const all = async (crf) => {
    const fb = await crf.forwardBackward(em2, tags2);
    return JSON.stringify(
      [await crf.forward(em2, tags2, { reduction: 'none' }), await crf.decode(em2), fb.logLikelihood, fb.grads.transitions, fb.grads.emissions].map((x) =>
        ArrayBuffer.isView(x) ? Array.from(x) : x,
      ),
    );
  };
  const one = await CRF.create(K2, { backend: 'wasm', seed: 2 });
  const two = await CRF.create(K2, { backend: 'wasm', seed: 2, threads: 2 });
  out.threads = { same: (await all(one)) === (await all(two)), reason: two.backendReason };
  one.dispose();
}
console.log(JSON.stringify(out));
