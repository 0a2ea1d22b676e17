// Which way a call runs, whole on the calling thread or cut across threads: the op's split rule
// (measured once, on another machine) as the first guess, then what this CRF's own calls cost each way.
import type { OpName } from '../../../ops/index.js';

/**
 * `adaptive`: whether measured costs may overrule the split rule (tests of the rule itself turn it
 * off); from `minWork` (B·T·max(K, 16)², threadsWork) on, where a split can pay at all; `retry`: every
 * so many calls of an op and size the other way is tried again, so that a change in the machine's load
 * is seen; `now`: the clock (milliseconds).
 */
export const choiceTuning = { adaptive: true, minWork: 2 ** 21, retry: 64, now: (): number => performance.now() };

/** One way's cost: milliseconds per unit of work, smoothed over the calls that measured it. */
interface Cost {
  perWork: number;
  calls: number;
}

/** An op at one size (work within a factor of √2): each way's cost, and the calls chosen for it. */
interface Bucket {
  local: Cost;
  split: Cost;
  n: number;
  /** The way whose next measurement is not counted: the first call of a retry, which wakes what the other way left idle. */
  warming: 'local' | 'split' | null;
}

/**
 * How much of a new measurement enters a way's cost: more of one below it than above, since a call is
 * slowed by what else the machine does, never sped up (a worker woken from a long sleep, another
 * process): the cost follows the lower edge of the measurements.
 */
const WEIGHT_BELOW = 0.5;
const WEIGHT_ABOVE = 0.2;

/**
 * Each way's cost per op and size, as this CRF's calls measure it. A way is first measured twice (the
 * rule's way first), its first call not counted (a worker that has been idle, and caches, make a first
 * call slow); from then on a call takes the cheaper way, and every `retry` calls the other, twice.
 */
export class SplitChoice {
  readonly #buckets = new Map<string, Bucket>();

  #bucket(op: OpName, work: number): Bucket {
    const key = `${op} ${Math.round(2 * Math.log2(work))}`;
    let b = this.#buckets.get(key);
    if (!b) {
      b = { local: { perWork: 0, calls: 0 }, split: { perWork: 0, calls: 0 }, n: 0, warming: null };
      this.#buckets.set(key, b);
    }
    return b;
  }

  /** Whether a call of `op` over `work` units splits, `rule` being what the op's split rule says. */
  splits(op: OpName, work: number, rule: boolean): boolean {
    if (!choiceTuning.adaptive || work < choiceTuning.minWork) return rule;
    const b = this.#bucket(op, work);
    b.n++;
    const [first, second] = rule ? [b.split, b.local] : [b.local, b.split];
    if (first.calls < 2) return rule;
    if (second.calls < 2) return !rule;
    const cheaper = b.split.perWork < b.local.perWork;
    // A retry is two calls, the first not counted (the worker has slept, or this thread's caches hold
    // the other way's memory).
    const at = b.n % choiceTuning.retry;
    if (at === 0) b.warming = cheaper ? 'local' : 'split';
    return at === 0 || at === 1 ? !cheaper : cheaper;
  }

  /** A call's time, `ms`, the way it ran. */
  record(op: OpName, work: number, split: boolean, ms: number): void {
    if (!choiceTuning.adaptive || work < choiceTuning.minWork) return;
    const b = this.#bucket(op, work);
    if (b.warming === (split ? 'split' : 'local')) {
      b.warming = null;
      return;
    }
    const c = split ? b.split : b.local;
    const x = ms / work;
    const weight = x < c.perWork ? WEIGHT_BELOW : WEIGHT_ABOVE;
    c.perWork = c.calls < 2 ? x : c.perWork * (1 - weight) + x * weight;
    c.calls++;
  }
}
