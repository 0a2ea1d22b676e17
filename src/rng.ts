/**
 * mulberry32: a small deterministic generator, so `seed` gives the same weights on every runtime. The
 * examples and tests draw their data from their own copy (examples/random.js, seeded without the mix
 * below): examples import the package by name and this is no part of its API, and the weights a seed
 * gives must not move when test data does.
 */
export function seededRandom(seed: number): () => number {
  let a = (seed ^ 0x9e3779b9) >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
