// Throughput of the BUILT package (dist/, through its `exports`, as a user imports it): one JSON line per
// (backend, op, B, T, K) with tokens per second. Single-threaded; run `npm run build` first.
//   node bench/run.js [--backends=js,wasm,webgpu] [--ops=forward,decode,forwardBackward]
//                     [--shapes=32x128x9,1x128x9] [--min-ms=400] [--threads=1,2]
// Backends default to every one this Node process can run (scripts/node-backends.js: webgpu where the
// `webgpu` package finds an adapter).
import * as lib from 'webcrf';
import { nodeBackends } from '../scripts/node-backends.js';
import { rng } from '../test/suites/oracle.js';

/** @type {Record<string, string>} */
const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
const SHAPES = (args.shapes ?? '32x128x9,32x128x32,32x128x128,1x128x9,256x64x9,8x1024x9').split(',').map((s) => s.split('x').map(Number));
const OPS = (args.ops ?? 'forward,decode,forwardBackward').split(',');
const MIN_MS = Number(args['min-ms'] ?? 400);
const wanted = args.backends ? args.backends.split(',') : null;

/** @type {Record<string, (crf: lib.CRF, em: lib.EmissionsInput, tags: lib.TagsInput) => Promise<unknown>>} */
const RUN = {
  forward: (crf, em, tags) => crf.forward(em, tags),
  decode: (crf, em) => crf.decode(em),
  forwardBackward: (crf, em, tags) => crf.forwardBackward(em, tags),
};

const backends = (await nodeBackends(lib)).filter((b) => !wanted || wanted.includes(b.name)).flatMap(threadRuns);
for (const [B, T, K] of SHAPES) {
  const r = rng(B * 1_000_003 + T * 1009 + K).next;
  // Emissions of a trained tagger's scale (logits within a few units), f32 as a model hands them over.
  const data = new Float32Array(B * T * K).map(() => (r() * 2 - 1) * 4);
  const em = { data, shape: [B, T, K] };
  const tags = { data: Int32Array.from({ length: B * T }, () => Math.floor(r() * K)), shape: [B, T] };
  for (const { name, options, threads } of backends) {
    const crf = await lib.CRF.create(K, { backend: name, seed: 7, ...options });
    for (const op of OPS) {
      await RUN[op](crf, em, tags); // warm-up: compile, grow memory, JIT
      let calls = 0;
      const t0 = performance.now();
      let dt = 0;
      while (dt < MIN_MS || calls < 3) {
        await RUN[op](crf, em, tags);
        calls++;
        dt = performance.now() - t0;
        if (dt > MIN_MS * 20) break; // the float64 reference at K=128: a few calls are enough
      }
      const msPerCall = dt / calls;
      console.log(
        JSON.stringify({
          backend: crf.backend,
          op,
          B,
          T,
          K,
          tokensPerSec: Math.round((B * T) / (msPerCall / 1000)),
          msPerCall: Number(msPerCall.toFixed(4)),
          calls,
          ...(threads === undefined ? {} : { threads }),
        }),
      );
    }
    crf.dispose();
  }
}

// ---- --threads=1,2,auto: the wasm backend once per `threads` option, each JSON line with a 'threads'
// field (kept apart from the reporting above; docs/performance.md says when threads pay) ----------------
/**
 * @param {{ name: lib.BackendName, options: lib.CRFOptions }} b
 * @returns {{ name: lib.BackendName, options: lib.CRFOptions, threads?: number | 'auto' }[]}
 */
function threadRuns(b) {
  if (!args.threads || b.name !== 'wasm') return [b];
  return args.threads.split(',').map((t) => {
    const threads = t === 'auto' ? t : Number(t);
    return { ...b, options: { ...b.options, threads }, threads };
  });
}
