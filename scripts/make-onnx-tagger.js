// node scripts/make-onnx-tagger.js: writes examples/tiny-tagger.onnx, a tiny token-classification model
// for examples/onnx-tagger.js and the interop tests. The ONNX protobuf is encoded by hand (no onnx
// package, no network): logits[b, s, :] = Gather(embedding, input_ids)[b, s, :] · W + bias, input_ids
// int64 [batch, seq], logits float32 [batch, seq, K] (opset 13, IR version 7). The weights come from a
// fixed seed, so the file is the same on every run; the tests compare ONNX Runtime's output with
// `logits` below.
import { writeFileSync } from 'node:fs';

export const VOCAB = 100;
export const HIDDEN = 16;
export const LABELS = ['O', 'B-PER', 'I-PER', 'B-LOC', 'I-LOC'];
const K = LABELS.length;

// Protobuf wire format: varints, tagged fields, length-delimited messages.
/** @param {number | bigint} n */
const varint = (n) => {
  let v = BigInt(n);
  const out = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return out;
};
/** @param {number} field @param {number} wire */
const key = (field, wire) => varint((field << 3) | wire);
/** @param {...unknown[]} parts */
const cat = (...parts) => Uint8Array.from(/** @type {number[]} */ (parts.flat(Infinity)));
/** @param {number} field @param {Uint8Array} u8 */
const bytes = (field, u8) => [key(field, 2), varint(u8.length), Array.from(u8)];
/** @param {number} field @param {string} s */
const str = (field, s) => bytes(field, new TextEncoder().encode(s));
/** @param {number} field @param {number} v */
const int = (field, v) => [key(field, 0), varint(v)];
/** @param {number} field @param {...unknown[]} parts */
const msg = (field, ...parts) => bytes(field, cat(...parts));

// ONNX messages (field numbers from onnx.proto).
const FLOAT = 1;
const INT64 = 7;
/** TensorShapeProto.Dimension: a fixed size or a named one. @param {number | string} d */
const dim = (d) => msg(1, typeof d === 'string' ? str(2, d) : int(1, d));
/** ValueInfoProto with a tensor type. @param {number} field @param {string} name @param {number} elemType @param {(number | string)[]} shape */
const valueInfo = (field, name, elemType, shape) => msg(field, str(1, name), msg(2, msg(1, int(1, elemType), msg(2, ...shape.map(dim)))));
/** TensorProto as GraphProto.initializer. @param {string} name @param {number[]} dims @param {Float32Array} f32 */
const initializer = (name, dims, f32) => msg(5, ...dims.map((d) => int(1, d)), int(2, FLOAT), str(8, name), bytes(9, new Uint8Array(f32.buffer)));
/** NodeProto with integer attributes. @param {string} op @param {string[]} inputs @param {string[]} outputs @param {[string, number][]} attrs */
const node = (op, inputs, outputs, attrs = []) =>
  msg(
    1,
    ...inputs.map((s) => str(1, s)),
    ...outputs.map((s) => str(2, s)),
    str(3, op.toLowerCase()),
    str(4, op),
    ...attrs.map(([n, i]) => msg(5, str(1, n), int(20, 2), int(3, i))),
  );

let state = 12345;
const draw = () => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
const embedding = Float32Array.from({ length: VOCAB * HIDDEN }, draw);
const W = Float32Array.from({ length: HIDDEN * K }, draw);
const bias = Float32Array.from({ length: K }, draw);

/** The model's bytes. */
export function buildModel() {
  const graph = cat(
    node('Gather', ['embedding', 'input_ids'], ['hidden'], [['axis', 0]]),
    node('MatMul', ['hidden', 'W'], ['projected']),
    node('Add', ['projected', 'bias'], ['logits']),
    str(2, 'tiny_tagger'),
    initializer('embedding', [VOCAB, HIDDEN], embedding),
    initializer('W', [HIDDEN, K], W),
    initializer('bias', [K], bias),
    valueInfo(11, 'input_ids', INT64, ['batch', 'seq']),
    valueInfo(12, 'logits', FLOAT, ['batch', 'seq', K]),
  );
  return cat(int(1, 7), str(2, 'webcrf scripts/make-onnx-tagger.js'), msg(7, Array.from(graph)), msg(8, str(1, ''), int(2, 13)));
}

/**
 * The model's output computed in JavaScript (float32 products summed in float64): what ONNX Runtime
 * must give, to float32 rounding.
 * @param {ArrayLike<number | bigint>} ids @param {number} batch @param {number} seq
 */
export function logits(ids, batch, seq) {
  const out = new Float32Array(batch * seq * K);
  for (let t = 0; t < batch * seq; t++) {
    for (let k = 0; k < K; k++) {
      let s = bias[k];
      for (let h = 0; h < HIDDEN; h++) s += embedding[Number(ids[t]) * HIDDEN + h] * W[h * K + k];
      out[t * K + k] = s;
    }
  }
  return out;
}

if (import.meta.url === new URL(process.argv[1] ?? '', 'file://').href) {
  const model = buildModel();
  writeFileSync(new URL('../examples/tiny-tagger.onnx', import.meta.url), model);
  console.log(`wrote examples/tiny-tagger.onnx (${model.length} bytes)`);
}
