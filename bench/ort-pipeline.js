// The ORT → decode pipeline of the BUILT package: examples/tiny-tagger.onnx on ONNX Runtime Web's wasm
// execution provider (one thread), its logits decoded by webcrf's wasm backend (BIO constraints, a mask
// from int64 attention_mask), the tensors passed as they come, against the glue a user wrote before
// webcrf took them (`{ data: t.data, shape: t.dims }` by hand, the int64 mask copied into numbers).
// Run `npm run build` first (npm run bench does).
//   node bench/ort-pipeline.js [--shapes=1x32,32x128,256x64] [--min-ms=400]
// Prints one JSON line per measurement, then a Markdown table: ms per call of the whole pipeline (run +
// decode) and of the decode alone, for each way of passing the tensors. Each is warmed for 300 ms first.
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import * as ort from 'onnxruntime-web';
import { CRF, allowedTransitions } from 'webcrf';

/** @type {Record<string, string>} */
const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
const SHAPES = (args.shapes ?? '1x32,32x128,256x64').split(',').map((s) => s.split('x').map(Number));
const MIN_MS = Number(args['min-ms'] ?? 400);
const WARM_MS = 300;
const LABELS = ['O', 'B-PER', 'I-PER', 'B-LOC', 'I-LOC'];

/**
 * Mean ms per call of `fn`, over at least MIN_MS after WARM_MS of warm-up.
 * @param {() => Promise<unknown>} fn
 */
async function time(fn) {
  for (const start = performance.now(); performance.now() - start < WARM_MS;) await fn();
  let calls = 0;
  const start = performance.now();
  while (performance.now() - start < MIN_MS) {
    await fn();
    calls++;
  }
  return { ms: (performance.now() - start) / calls, calls };
}

ort.env.wasm.numThreads = 1;
const session = await ort.InferenceSession.create(readFileSync(new URL('../examples/tiny-tagger.onnx', import.meta.url)), { executionProviders: ['wasm'] });
const crf = await CRF.create(LABELS.length, { backend: 'wasm', constraints: allowedTransitions('BIO', LABELS), seed: 0 });

/** @type {{ B: number, T: number, way: string, pipelineMs: number, decodeMs: number }[]} */
const rows = [];
for (const [B, T] of SHAPES) {
  let state = B * 7919 + T;
  const ids = BigInt64Array.from({ length: B * T }, () => BigInt(1 + ((state = (state * 48271) % 2147483647) % 99)));
  // Every sequence a different length, right-padded: the attention_mask a tokenizer gives.
  const mask = BigInt64Array.from({ length: B * T }, (_, i) => (i % T < T - ((Math.floor(i / T) * 5) % T) ? 1n : 0n));
  const input = new ort.Tensor('int64', ids, [B, T]);
  const attention = new ort.Tensor('int64', mask, [B, T]);
  /** @type {Record<string, (logits: ort.Tensor) => Promise<number[][]>>} */
  const ways = {
    'tensors as they come': (logits) => crf.decode(logits, { mask: attention }),
    'glue: { data: t.data, shape: t.dims }': (logits) =>
      crf.decode(
        { data: /** @type {Float32Array} */ (logits.data), shape: logits.dims },
        { mask: { data: Uint8Array.from(/** @type {BigInt64Array} */ (attention.data), Number), shape: attention.dims } },
      ),
  };
  const { logits: held } = await session.run({ input_ids: input });
  for (const [way, decode] of Object.entries(ways)) {
    const pipeline = await time(async () => {
      const { logits } = await session.run({ input_ids: input });
      await decode(logits);
      logits.dispose();
    });
    const alone = await time(() => decode(held));
    const row = { B, T, K: LABELS.length, way, pipelineMs: pipeline.ms, decodeMs: alone.ms, calls: pipeline.calls };
    console.log(JSON.stringify({ kind: 'ortPipeline', ...row }));
    rows.push(row);
  }
  held.dispose();
}
await session.release();
crf.dispose();

const fmt = (/** @type {number} */ ms) => (ms < 1 ? ms.toFixed(3) : ms.toPrecision(3));
console.log(
  `\nORT → decode, ${cpus()[0]?.model.trim() ?? 'CPU'} (${cpus().length} cores), Node ${process.versions.node}, onnxruntime-web ${ort.env.versions.web} (wasm EP, 1 thread), webcrf wasm backend; ms per call\n`,
);
console.log('| B, T, K | way | ORT run + decode | decode alone |');
console.log('| --- | --- | --- | --- |');
for (const r of rows) console.log(`| ${r.B}, ${r.T}, 5 | ${r.way} | ${fmt(r.pipelineMs)} | ${fmt(r.decodeMs)} |`);
