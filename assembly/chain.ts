// The one recursion of a linear-chain CRF, α_s = e_s ⊗ ⊕_i (α_{s−1}[i] ⊗ M[i][·]), parameterised by
// semiring and by lane type (v128 or f32; see lanes.ts). Forward passes use M = trans, backward passes
// use M = transᵀ over the reversed rows, exactly as the js reference backend does.
//
// A semiring is one @final @unmanaged class without fields, passed as a null instance
// (`changetype<S>(0)`) so that every call on it is static and inlined; adding one means writing that
// class (and its instance) in semirings.ts, beside the four there. It supplies:
//  - `stateRows(): i32`: padded rows per state (the entropy semiring carries two values per tag; a
//    chain's work area follows from it: chainWorkRows, chainStateRows);
//  - `propagate<L>(inp, M, pre, rows)`: pre[j] = ⊕_i inp[i] ⊗ M[i][j], the transition half of a step,
//    with `propagateRows()` rows of its own at `rows`. Semirings whose ⊕⊗ is a plain fold use
//    matvec.ts, which asks them for `accStart<L>()`, `accumulate<L>(acc, a, m, shift)` and
//    `accumulateNeedsShift()`;
//  - `applyEmissions<L>(pre, em, out, expect, prevMax): Emitted`: ⊗ the emission row at `em`, normalise
//    into the state at `out`, and say what was taken out (see Emitted). `expect` is the number of tags
//    that can carry mass at this step (linear space checks it), `prevMax` the previous step's `rowMax`.

import { rowBytes } from './tables';

/**
 * What an emission step hands back: `logFactor`, the log of the factor it took out of the row (NaN when a
 * linear-space check failed, −∞ when no tag is reachable), and `rowMax`, the largest value it wrote, which
 * the next step subtracts (0 where the row was already normalised). One slot in static memory, valid
 * until the next step: the kernels are built with `--runtime stub`, whose allocator never frees, so a
 * returned object per step would leak, and a global per field would hide that the two belong together.
 */
@final @unmanaged export class Emitted {
  logFactor!: f64;
  rowMax!: f32;
}

const EMITTED = changetype<Emitted>(memory.data(offsetof<Emitted>(), 8));

/** Fills the one Emitted slot (see Emitted). */
@inline export function emitted(logFactor: f64, rowMax: f32): Emitted {
  const r = EMITTED;
  r.logFactor = logFactor;
  r.rowMax = rowMax;
  return r;
}

/**
 * chain()'s two results: `logScale`, the accumulated log of every factor taken out (so log α_s =
 * log post_s + logScale for the last s; NaN on a failed linear check, −∞ when no tag is reachable), and
 * `last`, the address of the final normalised state. One slot in static memory for the reason Emitted
 * is, valid until the next chain call.
 */
@final @unmanaged export class ChainResult {
  logScale!: f64;
  last!: usize;
}

const CHAIN_RESULT = changetype<ChainResult>(memory.data(offsetof<ChainResult>(), 8));

/** Fills the one ChainResult slot (see ChainResult). */
@inline function chainResult(logScale: f64, last: usize): ChainResult {
  const r = CHAIN_RESULT;
  r.logScale = logScale;
  r.last = last;
  return r;
}

/** Padded rows a chain over S needs at `workRows`: a step's ⊕⊗ result (unless kept at `pre`), then S's own. */
@inline export function chainWorkRows<S>(sr: S): i32 {
  return sr.stateRows() + sr.propagateRows();
}

/** Padded rows a chain of up to T steps over S writes its states to (`post`): one state per step when `keepAll`, else two. */
@inline export function chainStateRows<S>(sr: S, T: i32, keepAll: bool): f64 {
  return (keepAll ? <f64>T : 2) * <f64>sr.stateRows();
}

/**
 * Runs the recursion over `len` emission rows starting at `em`, `step` bytes apart (negative for a
 * backward pass). `init` is the step-0 `pre` state (start or end potentials in the semiring's space), `M`
 * the matrix. Step s's normalised state goes to `post + s·state` when `keepAll`, else alternates between
 * two states at `post` (a state is `sr.stateRows()` padded rows; chainStateRows); when `pre` ≠ 0 the
 * un-normalised ⊕⊗ result of each step is kept at `pre + s·state`. `cnt` (linear only) holds per-step
 * support counts; `workRows` holds chainWorkRows rows.
 */
@inline export function chain<L, S>(
  sr: S, em: usize, step: isize, len: i32, M: usize, init: usize, post: usize, keepAll: bool, pre: usize,
  cnt: usize, workRows: usize,
): ChainResult {
  const state = <usize>sr.stateRows() * rowBytes;
  let prev: usize = 0;
  let acc: f64 = 0;
  let prevMax: f32 = 0;
  let e = em;
  for (let s = 0; s < len; s++) {
    const cur = keepAll ? post + <usize>s * state : post + (<usize>(s & 1)) * state;
    // The ⊕⊗ result of step s goes to `p` (kept when asked, else the first state of workRows); the
    // rows after that state are the semiring's own.
    const p = pre != 0 ? pre + <usize>s * state : workRows;
    if (s == 0) memory.copy(p, init, state);
    else sr.propagate<L>(prev, M, p, workRows + state);
    const r = sr.applyEmissions<L>(p, e, cur, cnt != 0 ? load<i32>(cnt + (<usize>s << 2)) : 0, prevMax);
    const d = r.logFactor;
    if (isNaN(d)) return chainResult(NaN, 0);
    if (d == -Infinity) return chainResult(-Infinity, 0);
    acc += d;
    prevMax = r.rowMax;
    prev = cur;
    e = <usize>(<isize>e + step);
  }
  return chainResult(acc, prev);
}
