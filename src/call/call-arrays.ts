/**
 * Where a call's copies of its inputs live: the emissions in the backend's precision, the mask, the
 * gold tags, and the packed lengths and positions. A CRF keeps one {@link CallArrays} and reuses its
 * arrays from call to call, so that a steady stream of calls allocates only its results: fresh
 * typed-array memory is what a short call pays for most (docs/performance.md#kernel-and-call-notes).
 *
 * Calls overlap across awaits (a GPU call, a second call started before the first settled), so one call
 * holds the arrays at a time; a call that finds them held gets {@link FRESH}, which allocates as before.
 */

/** Each kind of input copy and its array type: the one list {@link FRESH} and {@link CallArrays} are made from. */
const KINDS = {
  emissions32: Float32Array,
  emissions64: Float64Array,
  mask: Uint8Array,
  lengths: Int32Array,
  positions: Int32Array,
  tags: Int32Array,
} as const;
type Kind = keyof typeof KINDS;

/**
 * An array of n values for each kind of input copy; and `words`, the bits of a float32 copy as int32
 * (its range check reads them), over the same memory.
 */
export type Arrays = { readonly [K in Kind]: (n: number) => InstanceType<(typeof KINDS)[K]> } & { readonly words: (a: Float32Array) => Int32Array };

/** Makes one maker per kind. */
function arraysOf(make: (kind: Kind) => (n: number) => Float32Array | Float64Array | Uint8Array | Int32Array, words: (a: Float32Array) => Int32Array): Arrays {
  const makers: Record<string, unknown> = Object.fromEntries(Object.keys(KINDS).map((k) => [k, make(k as Kind)]));
  return { ...makers, words } as unknown as Arrays;
}

function wordsOf(a: Float32Array): Int32Array {
  return new Int32Array(a.buffer, a.byteOffset, a.length);
}

/** New arrays every time: for a call that finds the CRF's arrays held, and for callers without one. */
export const FRESH: Arrays = arraysOf((kind) => (n) => new KINDS[kind](n), wordsOf);

/**
 * The largest array kept between calls, in bytes: beyond it a call allocates its own, which it then
 * hands back (a one-off batch must not pin its memory for the instance's life). 2 MiB for the arrays
 * per token (mask, tags, positions: half a million tokens). The emissions, K values per token, get
 * 8 MiB: the emissions of a (32, 128, 512) call, or of (512, 128, 32), which then reuse theirs instead
 * of paying for a fresh, zeroed array each call (at (256, 128, 32), a quarter of the time before the
 * kernels; docs/performance.md). The WebAssembly memory of such a call, kept up to 128 MiB, is larger.
 */
const KEEP_BYTES = 2 << 20;
export const KEEP_EMISSIONS_BYTES = 8 << 20;

type Ctor<A> = { new (n: number): A; readonly BYTES_PER_ELEMENT: number };

/** One reusable array: a view of exactly n values over the largest buffer needed so far. */
class ReusedArray<A extends Float32Array | Float64Array | Uint8Array | Int32Array> {
  #all: A | null = null;
  #view: A | null = null;
  /** `#all`'s bits as int32, made at the first ask (a view costs a short call as much as a small copy). */
  #words: Int32Array | null = null;
  readonly #make: Ctor<A>;
  /** The most values kept. */
  readonly #most: number;

  constructor(make: Ctor<A>, keepBytes: number) {
    this.#make = make;
    this.#most = keepBytes / make.BYTES_PER_ELEMENT;
  }

  take(n: number): A {
    if (this.#view?.length === n) return this.#view;
    const most = this.#most;
    if (n > most) return new this.#make(n);
    if (!this.#all || this.#all.length < n) {
      this.#all = new this.#make(Math.min(most, Math.max(n, 2 * (this.#all?.length ?? 0), 16)));
      this.#words = null;
    }
    this.#view = this.#all.subarray(0, n) as A;
    return this.#view;
  }

  /** The int32 bits of `a`, the view this array handed out last, or null for any other array. */
  wordsOf(a: A): Int32Array | null {
    // The array handed out last, by identity (a typed array's buffer getter costs a short call more).
    if (!this.#all || a !== this.#view) return null;
    this.#words ??= new Int32Array(this.#all.buffer, this.#all.byteOffset, this.#all.length);
    return this.#words;
  }

  /** Bytes kept. */
  get bytes(): number {
    return this.#all ? this.#all.byteLength : 0;
  }

  /** Lets go of the array kept. */
  clear(): void {
    this.#all = this.#view = this.#words = null;
  }
}

/** A CRF's reusable input arrays (see the file's header). */
export class CallArrays {
  #held = false;
  readonly #arrays: Arrays;
  readonly #kept: ReusedArray<Float32Array | Float64Array | Uint8Array | Int32Array>[] = [];

  constructor() {
    let emissions32: ReusedArray<Float32Array | Float64Array | Uint8Array | Int32Array> | null = null;
    this.#arrays = arraysOf(
      (kind) => {
        const emissions = kind === 'emissions32' || kind === 'emissions64';
        const kept = new ReusedArray<Float32Array | Float64Array | Uint8Array | Int32Array>(KINDS[kind], emissions ? KEEP_EMISSIONS_BYTES : KEEP_BYTES);
        this.#kept.push(kept);
        if (kind === 'emissions32') emissions32 = kept;
        return (n) => kept.take(n);
      },
      // The whole kept array's bits: a reader stops at its own copy's length.
      (a) => emissions32?.wordsOf(a) ?? wordsOf(a),
    );
  }

  /** Bytes kept between calls: at most {@link KEEP_BYTES} per kind of array ({@link KEEP_EMISSIONS_BYTES} for the emissions). */
  get bytes(): number {
    return this.#kept.reduce((n, s) => n + s.bytes, 0);
  }

  /** Lets go of every array kept (a call holding them keeps its own until it ends). */
  clear(): void {
    for (const s of this.#kept) s.clear();
  }

  /** The arrays for one call: these if free (until {@link CallArrays.release}), else {@link FRESH}. */
  acquire(): Arrays {
    if (this.#held) return FRESH;
    this.#held = true;
    return this.#arrays;
  }

  /** Ends the call that acquired `a`; its arrays may then be overwritten by the next call. */
  release(a: Arrays): void {
    if (a === this.#arrays) this.#held = false;
  }
}
