// Deterministic random data for the examples (mulberry32), so every run and runtime sees the same data;
// the tests draw theirs from the same generator (test/suites/oracle.js).
// The library's own weights come from CRF.create's `seed` option instead.

/**
 * A seeded generator: `next()` uniform in [0, 1), `randn()` a standard normal (Box–Muller, torch.randn's distribution).
 * @param {number} seed
 */
export function generator(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const randn = () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
  return { next, randn };
}
