// examples/onnx-tagger.js runs as a user runs it (ONNX Runtime Web's wasm EP, the built package by its
// name) and prints what decoding the model's JavaScript oracle (scripts/make-onnx-tagger.js's logits)
// gives on the float64 js backend from plain { data, shape } arrays.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as ort from 'onnxruntime-web';
import { expect, it } from 'vitest';
import { CRF, allowedTransitions } from '../../src/index.js';
import { LABELS as MODEL_LABELS, logits } from '../../scripts/make-onnx-tagger.js';
import { LABELS, SENTENCES, entities, tokenize } from '../../examples/onnx-tagger.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const run = promisify(execFile);

it('prints, per sentence, the word labels and entities that decoding the oracle logits at first pieces gives', async () => {
  const { stdout } = await run(process.execPath, [join(root, 'examples/onnx-tagger.js')], { cwd: root, timeout: 120_000 });
  expect(LABELS).toEqual(MODEL_LABELS);
  const { ids, firstPiece, words, batch, seq } = tokenize(SENTENCES);
  // Some words span several pieces, so the mask has gaps inside sentences, not only padding at the end.
  const gapped = Array.from({ length: batch }, (_, b) => firstPiece.subarray(b * seq, (b + 1) * seq).join('')).filter((row) => /10+1/.test(row));
  expect(gapped.length).toBeGreaterThan(0);
  const crf = await CRF.create(LABELS.length, { backend: 'js', constraints: allowedTransitions('BIO', LABELS), seed: 0 });
  const paths = await crf.decode({ data: logits(ids, batch, seq), shape: [batch, seq, LABELS.length] }, { mask: { data: firstPiece, shape: [batch, seq] } });
  const want = paths.flatMap((path, b) => {
    const labels = path.map((y) => LABELS[y]);
    expect(labels.length).toBe(words[b].length);
    const found = entities(words[b], labels);
    return [SENTENCES[b], `  labels: ${labels.join(' ')}`, `  entities: ${found.length ? found.map((e) => `${e.type} "${e.text}"`).join(', ') : '(none)'}`];
  });
  expect(stdout.trim().split('\n')).toEqual(want);
  expect(stdout).toMatch(/entities: (PER|LOC) "/);
});

it("ONNX Runtime's logits for the example's batch are the oracle's, to float32 rounding", async () => {
  ort.env.wasm.numThreads = 1;
  const session = await ort.InferenceSession.create(readFileSync(join(root, 'examples/tiny-tagger.onnx')));
  const { ids, batch, seq } = tokenize(SENTENCES);
  const { logits: out } = await session.run({ input_ids: new ort.Tensor('int64', ids, [batch, seq]) });
  expect(out.dims).toEqual([batch, seq, LABELS.length]);
  const want = logits(ids, batch, seq);
  const got = out.data as Float32Array;
  for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-5);
  await session.release();
});
