// Assertions that work the same in vitest and in a bare browser page: they throw with a message.

export class Mismatch extends Error {}

/** @param {boolean} cond @param {string} msg */
export function check(cond, msg) {
  if (!cond) throw new Mismatch(msg);
}

/** Float32 outputs against float64 references: |a − b| ≤ tol · (1 + |b|). */
export function close(a, b, tol, what) {
  check(a.length === b.length, `${what}: length ${a.length} vs ${b.length}`);
  for (let i = 0; i < a.length; i++) {
    const x = a[i], y = b[i];
    if (x === y) continue;
    check(Math.abs(x - y) <= tol * (1 + Math.abs(y)), `${what}[${i}]: got ${x}, expected ${y} (tol ${tol})`);
  }
}

export function equal(a, b, what) {
  check(JSON.stringify(a) === JSON.stringify(b), `${what}: got ${JSON.stringify(a)}, expected ${JSON.stringify(b)}`);
}

/** Tolerance for a backend: the float64 js backend returns Float32Arrays; the others compute in float32. */
export function tolerance(backend) {
  return backend === 'js' ? 1e-5 : 2e-3;
}

/** @template T @param {T[][]} x @returns {T[][]} [a][b] → [b][a] */
export function swap(x) {
  return x[0].map((_, t) => x.map((row) => row[t]));
}

export async function create(ctx, K, opts = {}) {
  return ctx.lib.CRF.create(K, { backend: ctx.backend, ...(ctx.backendOptions ?? {}), ...opts });
}
