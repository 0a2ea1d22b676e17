/**
 * Where a call's copies of its inputs live: the emissions in the backend's precision, the mask, the
 * gold tags, and the packed lengths and positions. A CRF keeps one {@link Scratch} and reuses its arrays from call to
 * call, so that a steady stream of calls allocates only its results. Fresh typed-array memory is what
 * a short call pays for most, and most after idle: measured on Node 20, a `new Float32Array(288)` took
 * about 20 µs on the first call after 50 ms of idle, several times a whole (1, 32, 9) decode.
 *
 * Calls overlap across awaits (a GPU call, a second call started before the first settled), so one call
 * holds the scratch at a time; a call that finds it held gets {@link FRESH}, which allocates as before.
 */
export interface Arrays {
  emissions32(n: number): Float32Array;
  emissions64(n: number): Float64Array;
  mask(n: number): Uint8Array;
  lengths(n: number): Int32Array;
  positions(n: number): Int32Array;
  tags(n: number): Int32Array;
}

/** New arrays every time: for a call that finds the scratch held, and for callers without one. */
export const FRESH: Arrays = {
  emissions32: (n) => new Float32Array(n),
  emissions64: (n) => new Float64Array(n),
  mask: (n) => new Uint8Array(n),
  lengths: (n) => new Int32Array(n),
  positions: (n) => new Int32Array(n),
  tags: (n) => new Int32Array(n),
};

/**
 * The largest array kept between calls, in bytes: beyond it a call allocates its own, which it then
 * hands back (a one-off batch must not pin its memory for the instance's life). 1 MiB holds a
 * (32, 128, 64) call's emissions; allocation is a small part of calls that size.
 */
const KEEP_BYTES = 1 << 20;

type Ctor<A> = { new (n: number): A; readonly BYTES_PER_ELEMENT: number };

/** One reusable array: a view of exactly n values over the largest buffer needed so far. */
class Slot<A extends Float32Array | Float64Array | Uint8Array | Int32Array> {
  #all: A | null = null;
  #view: A | null = null;
  readonly #make: Ctor<A>;

  constructor(make: Ctor<A>) {
    this.#make = make;
  }

  take(n: number): A {
    if (this.#view?.length === n) return this.#view;
    if (n * this.#make.BYTES_PER_ELEMENT > KEEP_BYTES) return new this.#make(n);
    if (!this.#all || this.#all.length < n) this.#all = new this.#make(Math.max(n, 2 * (this.#all?.length ?? 0), 16));
    this.#view = this.#all.subarray(0, n) as A;
    return this.#view;
  }
}

/** A CRF's reusable input arrays (see the file's header). */
export class Scratch {
  #held = false;
  readonly #arrays: Arrays;

  constructor() {
    const e32 = new Slot(Float32Array);
    const e64 = new Slot(Float64Array);
    const mask = new Slot(Uint8Array);
    const lengths = new Slot(Int32Array);
    const positions = new Slot(Int32Array);
    const tags = new Slot(Int32Array);
    this.#arrays = {
      emissions32: (n) => e32.take(n),
      emissions64: (n) => e64.take(n),
      mask: (n) => mask.take(n),
      lengths: (n) => lengths.take(n),
      positions: (n) => positions.take(n),
      tags: (n) => tags.take(n),
    };
  }

  /** The arrays for one call: this scratch's if free (until {@link Scratch.release}), else {@link FRESH}. */
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
