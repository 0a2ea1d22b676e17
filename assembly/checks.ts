// Checks of a call's inputs that run on the kernels' memory, where its emissions are copied anyway: a
// value's range on its float32 bits, sixteen values a step in the SIMD build (in JavaScript the same
// check costs about as much as a K = 9 Viterbi pass over them).

/**
 * Index of the first of the n float32 values at `p` whose magnitude's bits exceed `maxBits` (a value
 * beyond the supported range, ±Infinity or NaN), or −1.
 */
export function firstOutOfRange(p: usize, n: i32, maxBits: i32): i32 {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const abs = i32x4.splat(0x7fffffff), top = i32x4.splat(maxBits);
    const n16 = n & ~15;
    // Clean blocks of sixteen are passed over; the first with a hit is searched one value at a time below.
    for (; i < n16; i += 16) {
      const o = p + (<usize>i << 2);
      const a = v128.or(i32x4.gt_s(v128.and(v128.load(o), abs), top), i32x4.gt_s(v128.and(v128.load(o, 16), abs), top));
      const b = v128.or(i32x4.gt_s(v128.and(v128.load(o, 32), abs), top), i32x4.gt_s(v128.and(v128.load(o, 48), abs), top));
      if (v128.any_true(v128.or(a, b))) break;
    }
  }
  for (; i < n; i++) if ((load<i32>(p + (<usize>i << 2)) & 0x7fffffff) > maxBits) return i;
  return -1;
}
