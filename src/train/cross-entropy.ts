// Token-level cross-entropy with torch's F.cross_entropy semantics, classes last.
import { CRFInputError, describe, reading, shapeStr } from '../errors.js';
import { claimedRank, readEach, readFinite } from '../call/inputs.js';
import { MAX_VALUES } from '../limits.js';
import { readOptions } from '../call/options.js';

/** Class scores: nested `[B][T][C]` (or `[N][C]`) arrays or a flat array with its shape, classes last. */
export type LogitsInput =
  | ArrayLike<ArrayLike<ArrayLike<number>>>
  | ArrayLike<ArrayLike<number>>
  | {
      /** The scores in row-major order. */
      data: Float32Array | Float64Array | ArrayLike<number>;
      /** `[B, T, C]` or `[N, C]`. */
      shape: readonly number[];
    };
/** Class labels: nested `[B][T]` (or `[N]`) integers or a flat array with its shape. */
export type LabelsInput =
  | ArrayLike<ArrayLike<number>>
  | ArrayLike<number>
  | {
      /** The labels in row-major order. */
      data: Int32Array | ArrayLike<number>;
      /** `[B, T]` or `[N]`, the logits' shape without the class dimension. */
      shape: readonly number[];
    };

/** Options of {@link crossEntropy}. */
export interface CrossEntropyOptions {
  /** Labels equal to this contribute neither loss nor gradient. Default -100 (torch's). */
  ignoreIndex?: number | undefined;
  /** `'mean'` (default: over the tokens not ignored), `'sum'` or `'none'` (per token). */
  reduction?: 'mean' | 'sum' | 'none' | undefined;
}

/** What {@link crossEntropy} returns. */
export interface CrossEntropyResult<L> {
  /** The reduced loss; for `'none'` a Float32Array with one loss per token (0 where ignored). */
  loss: L;
  /**
   * ∂loss/∂logits, flat in the logits' row-major layout (`[B, T, C]` or `[N, C]`); 0 at ignored tokens.
   * For `'none'` it is the gradient of the sum of the per-token losses.
   */
  grad: Float32Array;
}

/**
 * Token-level cross-entropy with torch's `F.cross_entropy` semantics (log-softmax over the classes,
 * negative log-probability of the label, `ignore_index`, mean over the tokens not ignored), for logits
 * laid out like a CRF's emissions: classes LAST (`[B, T, C]`, or `[N, C]`), where torch wants
 * `[B, C, T]`, i.e. this equals `F.cross_entropy(logits.view(-1, C), labels.view(-1))`.
 *
 * One deviation: with every label ignored, torch's `'mean'` gives NaN; this gives loss 0 and a zero
 * gradient (as a CRF's empty sequence has log-likelihood 0), so a batch of padding cannot poison training.
 *
 * @param logits `[B, T, C]` or `[N, C]` finite scores, nested arrays or `{ data, shape }`.
 * @param labels `[B, T]` or `[N]` integers in [0, C) or equal to `ignoreIndex`.
 * @returns the loss and its gradient with respect to the logits.
 * @throws CRFInputError for a bad shape, a non-finite logit, a label out of range, or a bad option.
 */
export function crossEntropy(
  logits: LogitsInput,
  labels: LabelsInput,
  options?: CrossEntropyOptions & { reduction?: 'mean' | 'sum' | undefined },
): CrossEntropyResult<number>;
export function crossEntropy(logits: LogitsInput, labels: LabelsInput, options: CrossEntropyOptions & { reduction: 'none' }): CrossEntropyResult<Float32Array>;
export function crossEntropy(logits: LogitsInput, labels: LabelsInput, options: CrossEntropyOptions = {}): CrossEntropyResult<number | Float32Array> {
  const { ignoreIndex = -100, reduction = 'mean' } = readOptions(options, 'options', ['ignoreIndex', 'reduction']);
  if (typeof ignoreIndex !== 'number' || !Number.isInteger(ignoreIndex)) throw new CRFInputError('ignoreIndex', 'an integer', describe(ignoreIndex));
  if (reduction !== 'mean' && reduction !== 'sum' && reduction !== 'none') {
    throw new CRFInputError('reduction', "one of 'mean', 'sum', 'none'", describe(reduction));
  }
  const rank = reading('logits', () => claimedRank(logits, 3));
  if (rank !== 2 && rank !== 3) throw new CRFInputError('logits', 'shape [B, T, C] or [N, C] (classes last)', `rank ${rank}`);
  let C = 0,
    N = 0,
    count = 0;
  let y = new Int32Array(0);
  // The labels are read as soon as the logits' shape is known, before the logits' values are checked:
  // no code of the caller's (a getter among the labels) runs between that check and the reads of
  // logits that are read in place. Within ±MAX_MAGNITUDE, every loss (at most 2e20 + log C a token,
  // even as a float32) and every sum is finite.
  const lg = readFinite(
    logits,
    rank,
    'logits',
    (shape) => {
      if (shape.reduce((a, b) => a * b, 1) > MAX_VALUES) return; // refused by readFinite before any value is read
      C = shape[rank - 1];
      const lead = shape.slice(0, -1);
      N = lead.reduce((a, b) => a * b, 1);
      if (N > 0 && C === 0) throw new CRFInputError('logits', 'at least one class', `shape ${shapeStr(shape)}`);
      const want = `shape ${shapeStr(lead)} to match logits ${shapeStr(shape)}`;
      y = new Int32Array(N);
      readEach(
        labels,
        rank - 1,
        'labels',
        (got) => {
          if (got.some((d, i) => d !== lead[i]) && !(N === 0 && got[0] === 0)) throw new CRFInputError('labels', want, `shape ${shapeStr(got)}`);
        },
        (v, n) => {
          if (v === ignoreIndex) {
            y[n] = -1;
            return;
          }
          if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= C) {
            throw new CRFInputError('labels', `an integer in [0, ${C - 1}] or ignoreIndex ${ignoreIndex} at flat index ${n}`, describe(v));
          }
          y[n] = v;
          count++;
        },
      );
    },
    true,
  );
  const x = lg.data;
  const perToken = new Float64Array(N);
  const grad = new Float32Array(N * C);
  const scale = reduction === 'mean' ? (count === 0 ? 0 : 1 / count) : 1;
  let sum = 0;
  for (let n = 0; n < N; n++) {
    if (y[n] < 0) continue;
    const o = n * C;
    let max = -Infinity;
    for (let c = 0; c < C; c++) max = Math.max(max, x[o + c]);
    let z = 0;
    for (let c = 0; c < C; c++) z += Math.exp(x[o + c] - max);
    const logZ = max + Math.log(z);
    perToken[n] = logZ - x[o + y[n]];
    sum += perToken[n];
    for (let c = 0; c < C; c++) grad[o + c] = scale * (Math.exp(x[o + c] - logZ) - (c === y[n] ? 1 : 0));
  }
  if (reduction === 'none') return { loss: Float32Array.from(perToken), grad };
  return { loss: reduction === 'sum' ? sum : sum * scale, grad };
}
