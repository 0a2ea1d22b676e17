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

/** Whether calls of `work` units are measured and judged by their costs (choiceTuning: adaptive, from minWork). */
export function measures(work: number): boolean {
  return choiceTuning.adaptive && work >= choiceTuning.minWork;
}

/** One way's cost: the last few measurements, in milliseconds per unit of work, and how many calls measured it. */
interface Cost {
  recent: number[];
  calls: number;
  /** How many of `recent`, from the first, were measured before the way's last retry began. */
  stale: number;
}

/** An op at one size (work within a factor of √2): each way's cost, and the calls chosen for it. */
interface Bucket {
  local: Cost;
  split: Cost;
  n: number;
  /** The way whose next measurement is not counted: the first call of a retry, which wakes what the other way left idle. */
  warming: 'local' | 'split' | null;
  /** Whether the retry under way splits (null: none under way). */
  retrying: boolean | null;
}

/** Calls each way is first measured on (the first not counted), and the measurements a cost is taken over. */
const FIRST = 4;
const RECENT = 4;
/**
 * How much cheaper the other way must measure to overrule the rule, which was measured with free cores
 * over many calls where this CRF has only its own few.
 */
const MARGIN = 0.9;

/**
 * A way's cost: the median of its recent measurements (those since its last retry began, where it has
 * any). A split's own time varies far more than a call on one thread (the worker's wake-up, the two
 * messages), and its fastest calls say little of its usual one: the least of them let a split that is
 * dearer on most calls overrule the rule. The median also discounts a call slowed by other load, and
 * shows a way that has become dearer once half its recent calls are.
 */
function costOf(c: Cost): number {
  const r = (c.stale < c.recent.length ? c.recent.slice(c.stale) : c.recent.slice()).sort((a, b) => a - b);
  const m = r.length >> 1;
  return r.length % 2 ? r[m] : (r[m - 1] + r[m]) / 2;
}

/**
 * Each way's cost per op and size, as this CRF's calls measure it. Each way is first measured on FIRST
 * calls (the rule's way first; the first call of each not counted: a worker that has been idle, and cold
 * caches, make a first call slow); from then on a call takes the rule's way unless the other measures
 * cheaper by MARGIN, and every `retry` calls the other way runs three times (its first not counted),
 * its cost then taken from those calls alone.
 */
export class SplitChoice {
  readonly #buckets = new Map<string, Bucket>();

  #bucket(op: OpName, work: number): Bucket {
    const key = `${op} ${Math.round(2 * Math.log2(work))}`;
    let b = this.#buckets.get(key);
    if (!b) {
      b = { local: { recent: [], calls: 0, stale: 0 }, split: { recent: [], calls: 0, stale: 0 }, n: 0, warming: null, retrying: null };
      this.#buckets.set(key, b);
    }
    return b;
  }

  /** Whether a call of `op` over `work` units splits, `rule` being what the op's split rule says. */
  splits(op: OpName, work: number, rule: boolean): boolean {
    if (!measures(work)) return rule;
    const b = this.#bucket(op, work);
    b.n++;
    const [ruled, other] = rule ? [b.split, b.local] : [b.local, b.split];
    if (ruled.calls < FIRST) return rule;
    if (other.calls < FIRST) return !rule;
    const overruled = costOf(other) < MARGIN * costOf(ruled);
    const way = overruled ? !rule : rule;
    const at = b.n % choiceTuning.retry;
    if (at === 0) {
      // A retry measures the other way afresh: what it measured before may be from a cold start. It runs
      // that way on all its calls, whatever its first measurements say.
      const retried = way ? b.local : b.split;
      retried.stale = retried.recent.length;
      b.warming = way ? 'local' : 'split';
      b.retrying = !way;
    }
    if (at < 3 && b.retrying !== null) return b.retrying;
    b.retrying = null;
    return way;
  }

  /** A call's time, `ms`, the way it ran. */
  record(op: OpName, work: number, split: boolean, ms: number): void {
    if (!measures(work)) return;
    const b = this.#bucket(op, work);
    const c = split ? b.split : b.local;
    c.calls++;
    if (b.warming === (split ? 'split' : 'local')) {
      b.warming = null;
      return;
    }
    if (c.calls === 1) return;
    c.recent.push(ms / work);
    if (c.recent.length > RECENT) {
      c.recent.shift();
      if (c.stale > 0) c.stale--;
    }
  }
}
