/**
 * The sizes and ranges every input is checked against, in one place so that the errors, the README's
 * limits table and the tests quote the same numbers; and the one scan of values against the range
 * (firstOutOfRange), which the input readers and the WASM backend both run. Each bound keeps the work
 * and memory of a call proportional to data the caller really handed over, and every number a call
 * returns exact to the precision of the backend that computed it.
 */

/** Largest K: the K × K parameters (and the kernels' K × K tables) stay within a few hundred MB. */
export const MAX_TAGS = 4096;

/**
 * Largest number of values in one input (emissions B·T·K, tags or mask B·T, `crossEntropy`'s logits): 2^28,
 * 1 GiB of float32. A claimed shape beyond it is refused before any value is read; split larger batches.
 * The training helpers read typed arrays in place at any length, and any other array into a Float64Array
 * allocated for its claimed length: that length is held to this bound first.
 */
export const MAX_VALUES = 2 ** 28;

/**
 * Largest magnitude of an emission or a (finite) parameter: 1e20 as float32 stores it
 * (1.0000000200408773e20, so that 1e20 itself is accepted on every backend). Beyond it float32 kernels
 * cannot keep a path's scores apart from the sentinels and sums they use, and a log Z of T such scores
 * would not even be a float32. −Infinity is allowed in parameters only, where it means "forbidden".
 */
export const MAX_MAGNITUDE = Math.fround(1e20);
/** How the bound reads in messages. */
export const MAX_MAGNITUDE_TEXT = '±1e20';
/** MAX_MAGNITUDE's float32 bits as an int32: a float32 whose |bits| exceed it is beyond the range, ±Infinity or NaN. */
export const MAX_MAGNITUDE_BITS = new Int32Array(Float32Array.of(MAX_MAGNITUDE).buffer)[0];

/**
 * Largest nested `boolean[][][]` `allowedFromTags` builds, in array slots: d0·d1·(K + 8) + 8·d0.
 * A position's array of K booleans costs V8 about K + 8 slots of 8 bytes, so 2^24 slots stay near
 * 130 MB of JavaScript heap at every K (docs/correctness.md). Larger annotations go to the ops as
 * `{ data: Uint8Array, shape }`, one byte a value.
 */
export const MAX_ANNOTATION_SLOTS = 2 ** 24;

/** Largest k-best table, T · K · k cells (12 bytes each in the wasm kernels: 192 MiB). */
export const MAX_KBEST_CELLS = 2 ** 24;

/**
 * Largest result of an op that hands back several paths per sequence (k-best lists, samples): B · n
 * paths, and B · n · T tags in them.
 */
export const MAX_RESULT_PATHS = 2 ** 20;
export const MAX_RESULT_TAGS = 2 ** 24;

/**
 * WebAssembly memory a CRF keeps between calls, per thread. A call that needs more grows the memory for
 * itself and hands it back when it finishes (the kernels are instantiated afresh for the next call).
 */
export const WASM_RETAINED_BYTES = 128 * 2 ** 20;

/** Largest number of losses {@link AutomaticWeightedLoss} combines. */
export const MAX_LOSSES = 2 ** 16;

/**
 * Most threads a CRF's `threads` option may ask for: far beyond most machines' cores, short of a typo's
 * 1e6 workers. Of those asked for, no more are started than the cores the runtime reports.
 */
export const MAX_THREADS = 256;

/** The bits of `a`'s own memory, as int32. */
function wordsOf(a: Float32Array): Int32Array {
  return new Int32Array(a.buffer, a.byteOffset, a.length);
}

/**
 * Index of the first value that is not a number within ±MAX_MAGNITUDE (NaN and ±Infinity included), or
 * -1. Float32 data is checked on its bits (`words(a)`, from its first; by default a view of a's own
 * memory), four at a time with no branch (faster than a compare per value:
 * docs/performance.md#kernel-and-call-notes); only a hit is searched.
 */
export function firstOutOfRange(a: Float32Array | Float64Array, words: (a: Float32Array) => Int32Array = wordsOf): number {
  const n = a.length;
  if (a instanceof Float32Array) {
    const u = words(a);
    let bad = 0;
    const n4 = n & ~3;
    for (let i = 0; i < n4; i += 4) {
      bad |=
        (MAX_MAGNITUDE_BITS - (u[i] & 0x7fffffff)) |
        (MAX_MAGNITUDE_BITS - (u[i + 1] & 0x7fffffff)) |
        (MAX_MAGNITUDE_BITS - (u[i + 2] & 0x7fffffff)) |
        (MAX_MAGNITUDE_BITS - (u[i + 3] & 0x7fffffff));
    }
    for (let i = n4; i < n; i++) bad |= MAX_MAGNITUDE_BITS - (u[i] & 0x7fffffff);
    if (bad >= 0) return -1;
  }
  for (let i = 0; i < n; i++) {
    const v = a[i];
    if (!(v <= MAX_MAGNITUDE && v >= -MAX_MAGNITUDE)) return i;
  }
  return -1;
}
