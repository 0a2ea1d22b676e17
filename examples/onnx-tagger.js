// A token-classification model run with ONNX Runtime Web, its logits decoded by webcrf as they come.
//
// examples/tiny-tagger.onnx (written by scripts/make-onnx-tagger.js) maps input_ids int64 [batch, seq]
// to logits float32 [batch, seq, 5] over O, B-PER, I-PER, B-LOC, I-LOC; its weights are random, so the
// entities it finds are arbitrary, but the same on every run. A toy tokenizer splits words into
// sub-word pieces, as WordPiece does; the CRF labels each word at its first piece, as token-
// classification pipelines do: the mask is on at first pieces only, a mask with gaps, which the CRF
// skips (a gap is not a sequence end: transitions run from one first piece to the next).
//
// npm run example:onnx
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-web';
import { CRF, allowedTransitions } from 'webcrf';

export const LABELS = ['O', 'B-PER', 'I-PER', 'B-LOC', 'I-LOC'];
export const SENTENCES = [
  'Anna Lindqvist flew from Reykjavik to Montevideo',
  'the committee met in Ouagadougou',
  'Bartholomew and Ximena visited Kyoto last spring',
];
const VOCAB = 100;
const PIECE = 4;

/**
 * A toy WordPiece: each word becomes pieces of up to 4 characters, ids hashed into [1, 100) (0 is
 * padding), batched to the longest sentence.
 * @param {string[]} sentences
 * @returns {{ ids: BigInt64Array, firstPiece: Uint8Array, words: string[][], batch: number, seq: number }}
 */
export function tokenize(sentences) {
  const words = sentences.map((s) => s.split(' '));
  const pieces = words.map((ws) =>
    ws.flatMap((w) =>
      Array.from({ length: Math.ceil(w.length / PIECE) }, (_, i) => ({ piece: (i ? '##' : '') + w.slice(i * PIECE, (i + 1) * PIECE), first: i === 0 })),
    ),
  );
  const batch = sentences.length;
  const seq = Math.max(...pieces.map((p) => p.length));
  const ids = new BigInt64Array(batch * seq);
  const firstPiece = new Uint8Array(batch * seq);
  pieces.forEach((ps, b) =>
    ps.forEach(({ piece, first }, s) => {
      let h = 7;
      for (const c of piece) h = (h * 31 + c.charCodeAt(0)) % (VOCAB - 1);
      ids[b * seq + s] = BigInt(h + 1);
      firstPiece[b * seq + s] = first ? 1 : 0;
    }),
  );
  return { ids, firstPiece, words, batch, seq };
}

/**
 * Entities from one word label per word (BIO).
 * @param {string[]} words @param {string[]} labels
 */
export function entities(words, labels) {
  /** @type {{ type: string, text: string }[]} */
  const out = [];
  labels.forEach((label, i) => {
    if (label.startsWith('B-')) out.push({ type: label.slice(2), text: words[i] });
    else if (label.startsWith('I-') && out.length && labels[i - 1]?.slice(2) === label.slice(2)) out[out.length - 1].text += ` ${words[i]}`;
  });
  return out;
}

async function main() {
  ort.env.wasm.numThreads = 1;
  const session = await ort.InferenceSession.create(readFileSync(new URL('./tiny-tagger.onnx', import.meta.url)), { executionProviders: ['wasm'] });
  const { ids, firstPiece, words, batch, seq } = tokenize(SENTENCES);
  const { logits } = await session.run({ input_ids: new ort.Tensor('int64', ids, [batch, seq]) });

  const crf = await CRF.create(LABELS.length, { constraints: allowedTransitions('BIO', LABELS), seed: 0 });
  // The logits tensor goes in as it comes; so does a mask tensor (bool here; a tokenizer's int64
  // attention_mask works too).
  const paths = await crf.decode(logits, { mask: new ort.Tensor('bool', firstPiece, [batch, seq]) });
  // A path holds one tag per position the mask keeps: here one per word.
  paths.forEach((path, b) => {
    const labels = path.map((y) => LABELS[y]);
    const found = entities(words[b], labels);
    console.log(`${SENTENCES[b]}`);
    console.log(`  labels: ${labels.join(' ')}`);
    console.log(`  entities: ${found.length ? found.map((e) => `${e.type} "${e.text}"`).join(', ') : '(none)'}`);
  });
  logits.dispose();
  await session.release();
  crf.dispose();
}

if (import.meta.url === new URL(process.argv[1] ?? '', 'file://').href) await main();
