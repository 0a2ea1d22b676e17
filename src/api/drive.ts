// Each op of the CRF is written once, as a generator that yields the backend calls it needs and gets
// their results back; a driver runs it: `settle` awaits the backend (the CRF's async methods), `now`
// runs the backend's synchronous path (`crf.sync`). The checks, packing and results are then the same
// code on both routes, so their errors and numbers cannot drift apart.
import type { Backend } from '../backends/backend.js';
import { CRFInputError } from '../errors.js';
import type { Packed } from '../call/pack.js';
import type { Potentials } from '../model/parameters.js';
import type { OpArgs, OpName, ResultOf } from '../ops/index.js';

/** One backend call an op's body asks for; or, with `host`, a call's GPU emissions read back (Backend.hostPacked). */
export type Step = { op: OpName; p: Packed; w: Potentials; args: unknown[] } | { host: Packed };

/** An op's body: it yields the calls it needs (those yielded together may run concurrently) and receives their results, in order. */
export type Body<R> = Generator<Step[], R, unknown[]>;

/** One backend call, as a body: `const r = yield* step('viterbi', p, w)`. */
export function* step<N extends OpName>(op: N, p: Packed, w: Potentials, ...args: OpArgs<N>): Body<ResultOf<N>> {
  const [r] = yield [{ op, p, w, args }];
  return r as ResultOf<N>;
}

/** The packed call with its GPU emissions read back, as a body: `p = yield* host(p)`. */
export function* host(p: Packed): Body<Packed> {
  const [r] = yield [{ host: p }];
  return r as Packed;
}

function runOn(impl: Backend, s: Step): Promise<unknown> {
  if ('host' in s) return impl.hostPacked!(s.host);
  return impl.run(s.op, s.p, s.w, ...(s.args as OpArgs<OpName>));
}

function runNow(impl: Backend, s: Step): unknown {
  // The CPU kernels read emissions from memory: GPU ones would first need an asynchronous readback.
  if ('host' in s || s.p.gpu) {
    throw new CRFInputError(
      'emissions',
      'emissions on the CPU for crf.sync (GPU emissions are read back asynchronously: use the async methods)',
      'emissions on the GPU',
    );
  }
  return impl.runSync(s.op, s.p, s.w, ...(s.args as OpArgs<OpName>));
}

/**
 * Runs `body` on the backend's asynchronous path. The body runs up to its first call at once, and a
 * single call reaches the backend with no await before it (a short call's time is mostly the
 * JavaScript around the kernel). A call the backend runs at once (Backend.runReady) hands its result
 * straight back to the body: a body whose every call is one of those settles with no await at all.
 * Never throws: whatever the body or the backend throws rejects the promise.
 */
export function settle<R>(impl: Backend, body: Body<R>): Promise<R> {
  try {
    let next = body.next();
    while (!next.done) {
      const steps = next.value;
      let result: unknown;
      try {
        result = steps.length === 1 ? readyOn(impl, steps[0]) : undefined;
      } catch (e) {
        next = body.throw(e);
        continue;
      }
      if (result === undefined) return settleLater(impl, body, steps);
      next = body.next([result]);
    }
    return Promise.resolve(next.value);
  } catch (e) {
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- whatever the body threw, as an async function would reject
    return Promise.reject(e);
  }
}

/** The step's result if the backend runs it now, else undefined. */
function readyOn(impl: Backend, s: Step): unknown {
  if ('host' in s || !impl.runReady) return undefined;
  return impl.runReady(s.op, s.p, s.w, ...(s.args as OpArgs<OpName>));
}

/** {@link settle} from the first steps the backend could not run at once. */
async function settleLater<R>(impl: Backend, body: Body<R>, pending: Step[]): Promise<R> {
  let steps = pending;
  for (;;) {
    let results: unknown[];
    try {
      results = steps.length === 1 ? [await runOn(impl, steps[0])] : await Promise.all(steps.map((s) => runOn(impl, s)));
    } catch (e) {
      const next = body.throw(e);
      if (next.done) return next.value;
      steps = next.value;
      continue;
    }
    const next = body.next(results);
    if (next.done) return next.value;
    steps = next.value;
  }
}

/** Runs `body` now, on the backend's synchronous path (Backend.runSync). */
export function now<R>(impl: Backend, body: Body<R>): R {
  let next = body.next();
  while (!next.done) {
    let results: unknown[];
    try {
      results = next.value.map((s) => runNow(impl, s));
    } catch (e) {
      next = body.throw(e);
      continue;
    }
    next = body.next(results);
  }
  return next.value;
}
