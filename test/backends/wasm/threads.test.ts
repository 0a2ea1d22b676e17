// `threads: n`: a call's batch split across worker threads gives the same bits as one thread, for every
// op; bad values are refused; workers end with dispose (and never keep Node alive); where no worker can
// start, one thread runs and says so; a worker that dies rejects its call, and the CRF goes on.
import { spawnSync } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CRF, CRFInputError } from '../../../src/index.js';
import { nodeThreads } from '../../../src/backends/wasm/threads/node-spawn.js';
import { poolTuning } from '../../../src/backends/wasm/threads/pool.js';
import { setThreadRuntime } from '../../../src/backends/wasm/threads/runtime.js';
import { type ThreadHandle, type ThreadRuntime, threadRuntime, webThreads } from '../../../src/backends/wasm/threads/spawn.js';
import { SPLIT_TABLE, threadsTuning, threadsWork } from '../../../src/backends/wasm/threads/backend.js';
import { SplitChoice, choiceTuning } from '../../../src/backends/wasm/threads/choice.js';
import { inputError } from '../../helpers.js';
import { rng } from '../../suites/oracle.js';

const NODE_WORKER = new URL('../../../dist/node-worker.js', import.meta.url);

/** The Node runtime, recording every thread it starts and whether it was ended. */
interface Recorded {
  h: ThreadHandle;
  ended: boolean;
  runs: number;
  /** Set: the next call sent to this thread ends it instead, as a crash in the middle of the call would. */
  crashOnRun?: boolean;
  /** The typed arrays in the last call's args as sent (before the transfer detaches them). */
  lastRun?: Record<string, { length: number; bufferBytes: number; transferred: boolean }>;
  /**
   * How each call's emissions were sent: whether their buffer was transferred, their bytes and their
   * buffer's, whether the thread is to check them (Packed.unchecked) and the range's first sequence.
   */
  slices: { transferred: boolean; bytes: number; bufferBytes: number; unchecked: boolean; first?: number }[];
}

/**
 * @param cores what the runtime reports (threads never outnumber it); default, this machine's.
 * @param spendAll answers as a thread that handed its kernels' memory back after every call.
 * @param slowMs each answer of a call arrives this much later, as from a slow or busy core.
 */
function recording({ cores, spendAll = false, slowMs = 0 }: { cores?: number; spendAll?: boolean; slowMs?: number } = {}): ThreadRuntime & {
  handles: Recorded[];
} {
  const base = nodeThreads(() => NODE_WORKER);
  const handles: Recorded[] = [];
  return {
    handles,
    cores: cores === undefined ? base.cores : () => cores,
    ready: base.ready,
    spawn() {
      const h = base.spawn();
      const rec: Recorded = { h, ended: false, runs: 0, slices: [] };
      handles.push(rec);
      return {
        ...h,
        listen(onMessage, onDeath) {
          h.listen((m) => {
            const answer = spendAll && m.type === 'done' ? { ...m, spent: true } : m;
            if (slowMs > 0 && m.type === 'done') setTimeout(() => onMessage(answer), slowMs);
            else onMessage(answer);
          }, onDeath);
        },
        post(m, transfer) {
          if (m.type === 'run') {
            rec.runs++;
            const { buffer, byteLength } = m.p.emissions;
            rec.slices.push({
              transferred: (transfer ?? []).includes(buffer as ArrayBuffer),
              bytes: byteLength,
              bufferBytes: buffer.byteLength,
              unchecked: m.p.unchecked === true,
              first: m.p.first,
            });
            const views = Object.entries((m.args[0] ?? {}) as Record<string, unknown>).filter(([, v]) => ArrayBuffer.isView(v)) as [string, Int32Array][];
            rec.lastRun = Object.fromEntries(
              views.map(([k, v]) => [k, { length: v.length, bufferBytes: v.buffer.byteLength, transferred: (transfer ?? []).includes(v.buffer) }]),
            );
          }
          if (m.type === 'run' && rec.crashOnRun) h.terminate();
          else h.post(m, transfer);
        },
        terminate() {
          rec.ended = true;
          h.terminate();
        },
      };
    },
  };
}

const runsOf = (rec: { handles: Recorded[] }) => rec.handles.reduce((n, r) => n + r.runs, 0);

/** A batch with masks that have gaps, a masked first step, an empty sequence and mixed lengths. */
function batch(seed: number, B: number, T: number, K: number) {
  const R = rng(seed);
  const data = Float32Array.from({ length: B * T * K }, () => R.normal() * 3);
  const len = Array.from({ length: B }, (_, b) => (b === 2 ? 0 : 1 + R.int(T)));
  const mask = Uint8Array.from({ length: B * T }, (_, i) => {
    const b = Math.floor(i / T),
      t = i % T;
    return t < len[b] && (b % 4 !== 1 || R.next() < 0.7) ? 1 : 0;
  });
  const tags = Int32Array.from({ length: B * T }, () => R.int(K));
  return { em: { data, shape: [B, T, K] }, mask: { data: mask, shape: [B, T] }, tags: { data: tags, shape: [B, T] } };
}

/** Every op's outputs, as arrays of numbers (compared with Object.is, so -0 and NaN count). */
async function everything(crf: CRF, x: ReturnType<typeof batch>) {
  const { em, mask, tags } = x;
  const fb = await crf.forwardBackward(em, tags, { mask, reduction: 'mean' });
  const fbNone = await crf.forwardBackward(em, tags, { mask, reduction: 'none' });
  const allowed = { data: Uint8Array.from({ length: em.data.length }, (_, i) => (i % 3 === 0 ? 0 : 1)), shape: em.shape };
  const fbPartial = await crf.forwardBackward(em, { allowed }, { mask });
  const grads = (g: typeof fb.grads) => [g.emissions, g.startTransitions, g.endTransitions, g.transitions].map((a) => Array.from(a));
  return {
    none: Array.from(await crf.forward(em, tags, { mask, reduction: 'none' })),
    sum: await crf.forward(em, tags, { mask }),
    mean: await crf.forward(em, tags, { mask, reduction: 'mean' }),
    tokenMean: await crf.forward(em, tags, { mask, reduction: 'token_mean' }),
    partial: await crf.forward(em, { allowed }, { mask }),
    decode: await crf.decode(em, { mask }),
    topK: await crf.decode(em, { mask, topK: 3 }),
    fbLlh: fb.logLikelihood,
    fbGrads: grads(fb.grads),
    fbNone: [Array.from(fbNone.logLikelihood), ...grads(fbNone.grads)],
    fbPartial: [fbPartial.logLikelihood, ...grads(fbPartial.grads)],
    marginals: Array.from(await crf.marginals(em, { mask })),
    logZ: Array.from(await crf.logPartition(em, { mask })),
    entropy: Array.from(await crf.entropy(em, { mask })),
  };
}

function sameBits(a: unknown, b: unknown, at = ''): void {
  if (typeof a === 'number') {
    if (!Object.is(a, b)) throw new Error(`differs at ${at}: ${a} vs ${String(b)}`);
    return;
  }
  if (Array.isArray(a)) {
    expect((b as unknown[]).length, at).toBe(a.length);
    a.forEach((v, i) => sameBits(v, (b as unknown[])[i], `${at}[${i}]`));
    return;
  }
  if (a && typeof a === 'object') {
    for (const k of Object.keys(a)) sameBits((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${at}.${k}`);
    return;
  }
  expect(b, at).toBe(a);
}

let saved: ThreadRuntime;
let savedTuning: typeof threadsTuning;
let savedChoice: typeof choiceTuning;
beforeEach(() => {
  saved = threadRuntime();
  savedTuning = { ...threadsTuning };
  savedChoice = { ...choiceTuning };
});
afterEach(() => {
  setThreadRuntime(saved);
  Object.assign(threadsTuning, savedTuning);
  Object.assign(choiceTuning, savedChoice);
  poolTuning.spentIdleMs = 1000;
});

describe('threads give the bits of one thread', () => {
  for (const B of [1, 5, 64, 130]) {
    it(`B=${B}: forward (none, sum, mean), decode (and topK), forwardBackward, marginals, logPartition, entropy`, async () => {
      // Every call on the threads, however small (the default keeps small calls on the calling thread).
      threadsTuning.force = 'split';
      const rec = recording({ cores: 3 });
      setThreadRuntime(rec);
      const K = 7;
      const x = batch(B, B, 23, K);
      const one = await CRF.create(K, { backend: 'wasm', seed: 3 });
      const want = await everything(one, x);
      one.dispose();
      for (const threads of [2, 3, 'auto'] as const) {
        const crf = await CRF.create(K, { backend: 'wasm', seed: 3, threads });
        expect(crf.backendReason).toMatch(/threads \(the calling thread and \d+ workers?\)/);
        sameBits(want, await everything(crf, x), `threads ${threads}`);
        crf.dispose();
      }
      expect(rec.handles.length).toBe(1 + 2 + 2);
    });
  }

  it('decode of ranges on either side of the 4096 steps from which the kernels hand paths back typed: the paths of one thread, and of js', async () => {
    threadsTuning.force = 'split';
    setThreadRuntime(recording({ cores: 3 }));
    const K = 5;
    const js = await CRF.create(K, { backend: 'js', seed: 3 });
    const one = await CRF.create(K, { backend: 'wasm', seed: 3 });
    const split = await CRF.create(K, { backend: 'wasm', seed: 3, threads: 3 });
    for (const [B, T] of [
      [1, 4097],
      [2, 2049],
      [3, 2049],
      [5, 1000],
      [9, 500],
    ]) {
      const R = rng(B * 7 + T);
      // Integer scores: every path score is exact in float32 and float64, so all three agree on the best path.
      const em = { data: Float32Array.from({ length: B * T * K }, () => R.int(5) - 2), shape: [B, T, K] };
      const want = await one.decode(em);
      expect(await split.decode(em), `(${B}, ${T}) split`).toEqual(want);
      expect(await js.decode(em), `(${B}, ${T}) js`).toEqual(want);
    }
    for (const crf of [js, one, split]) crf.dispose();
  });

  it('with batchFirst false, and with the default split table (large calls split, small ones stay)', async () => {
    const rec = recording();
    setThreadRuntime(rec);
    const K = 32;
    const x = batch(9, 80, 128, K); // B·T·K² above 2^23 (packed): top-k decode and entropy split by default
    const seqFirst = <A extends Float32Array<ArrayBuffer> | Int32Array<ArrayBuffer> | Uint8Array<ArrayBuffer>>(
      d: A,
      inner: number,
      B: number,
      T: number,
    ): A => {
      const out = new (d.constructor as new (n: number) => A)(d.length);
      for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) for (let k = 0; k < inner; k++) out[(t * B + b) * inner + k] = d[(b * T + t) * inner + k];
      return out;
    };
    const y = {
      em: { data: seqFirst(x.em.data, K, 80, 128), shape: [128, 80, K] },
      mask: { data: seqFirst(x.mask.data, 1, 80, 128), shape: [128, 80] },
      tags: { data: seqFirst(x.tags.data, 1, 80, 128), shape: [128, 80] },
    };
    for (const batchFirst of [true, false]) {
      const input = batchFirst ? x : y;
      const one = await CRF.create(K, { backend: 'wasm', seed: 5, batchFirst });
      const two = await CRF.create(K, { backend: 'wasm', seed: 5, batchFirst, threads: 2 });
      sameBits(await everything(one, input), await everything(two, input), `batchFirst ${batchFirst}`);
      one.dispose();
      two.dispose();
    }
    expect(runsOf(rec)).toBeGreaterThan(0);
    // A small call stays on the calling thread.
    const small = batch(1, 8, 16, K);
    const crf = await CRF.create(K, { backend: 'wasm', threads: 2 });
    const before = runsOf(rec);
    await crf.forwardBackward(small.em, small.tags, { mask: small.mask });
    expect(runsOf(rec)).toBe(before);
    crf.dispose();
  });

  it('several calls in flight at once each get their own results', async () => {
    threadsTuning.force = 'split';
    setThreadRuntime(recording({ cores: 3 }));
    const K = 5;
    const crf = await CRF.create(K, { backend: 'wasm', seed: 1, threads: 3 });
    // forwardBackward's jobs (i % 3 = 2) are more than one block of 16 sequences, so that they split too.
    const jobs = Array.from({ length: 24 }, (_, i) => batch(100 + i, (i % 3 === 2 ? 17 : 3) + (i % 9), 4 + (i % 13), K));
    const call = (j: (typeof jobs)[number], i: number) =>
      i % 3 === 0
        ? crf.decode(j.em, { mask: j.mask })
        : i % 3 === 1
          ? crf.forward(j.em, j.tags, { mask: j.mask, reduction: 'none' }).then((r) => Array.from(r))
          : crf.forwardBackward(j.em, j.tags, { mask: j.mask }).then((r) => Array.from(r.grads.transitions));
    const sequential = [];
    for (const [i, j] of jobs.entries()) sequential.push(await call(j, i));
    sameBits(sequential, await Promise.all(jobs.map(call)));
    crf.dispose();
  });
});

/** Each op of the API, the thread op it runs (as the split table names them), and a call of it. */
const OPS: [string, keyof typeof SPLIT_TABLE, (crf: CRF, x: ReturnType<typeof batch>) => Promise<unknown>][] = [
  ['forward', 'logLikelihood', (crf, x) => crf.forward(x.em, x.tags)],
  ['logPartition', 'logPartition', (crf, x) => crf.logPartition(x.em)],
  ['decode', 'viterbi', (crf, x) => crf.decode(x.em)],
  ['decode topK', 'kBest', (crf, x) => crf.decode(x.em, { topK: 2 })],
  ['forwardBackward', 'gradients', (crf, x) => crf.forwardBackward(x.em, x.tags)],
  ['marginals', 'posteriors', (crf, x) => crf.marginals(x.em)],
  ['entropy', 'entropy', (crf, x) => crf.entropy(x.em)],
  ['sample', 'sample', (crf, x) => crf.sample(x.em, { numSamples: 2, seed: 1 })],
];

describe('which calls split', () => {
  it('every op splits only where the split table says a split pays: never below its minK, from its minWork at and above it', async () => {
    const rec = recording({ cores: 2 });
    setThreadRuntime(rec);
    // The rule itself, without the costs measured on the calls (below).
    choiceTuning.adaptive = false;
    // One op at a time given a table of small sizes; the others never split.
    const never = { minK: Infinity, minWork: Infinity };
    const crfs = new Map<number, CRF>();
    const crfOf = async (K: number) => crfs.get(K) ?? crfs.set(K, await CRF.create(K, { backend: 'wasm', seed: 1, threads: 2 })).get(K)!;
    for (const [name, op, call] of OPS) {
      threadsTuning.table = {
        ...Object.fromEntries(Object.keys(SPLIT_TABLE).map((o) => [o, never])),
        [op]: { minK: 6, minWork: 20 * 16 * 16 ** 2 },
      } as typeof SPLIT_TABLE;
      const splits = async (B: number, K: number) => {
        const before = runsOf(rec);
        await call(await crfOf(K), batch(B, B, 16, K));
        return runsOf(rec) > before;
      };
      expect(await splits(19, 6), `${name} just below minWork`).toBe(false);
      expect(await splits(20, 6), `${name} at minWork`).toBe(true);
      expect(await splits(40, 9), `${name} above minWork`).toBe(true);
      expect(await splits(200, 5), `${name} below minK, however large`).toBe(false);
    }
    for (const crf of crfs.values()) crf.dispose();
  });

  it('by default, calls whose split was measured not to pay stay on the calling thread: at (256, 128, 9) forward and decode stay, forwardBackward splits', async () => {
    const rec = recording({ cores: 2 });
    setThreadRuntime(rec);
    const crf = await CRF.create(9, { backend: 'wasm', threads: 2 });
    const x = batch(1, 256, 128, 9);
    await crf.forward(x.em, x.tags);
    await crf.decode(x.em);
    expect(runsOf(rec)).toBe(0);
    await crf.forwardBackward(x.em, x.tags);
    expect(runsOf(rec)).toBe(1);
    crf.dispose();
  });

  /** A K = 5 CRF on two recorded threads with every call forced to split (afterEach restores the tuning). */
  async function forcedSplit(): Promise<{ rec: ReturnType<typeof recording>; crf: CRF }> {
    const rec = recording({ cores: 2 });
    setThreadRuntime(rec);
    threadsTuning.force = 'split';
    return { rec, crf: await CRF.create(5, { backend: 'wasm', threads: 2 }) };
  }

  it("a worker is sent its own range's tags only, in an array of their own, transferred (a view is cloned with its whole buffer)", async () => {
    const { rec, crf } = await forcedSplit();
    const x = batch(6, 40, 8, 5);
    for (const call of [() => crf.forward(x.em, x.tags), () => crf.forwardBackward(x.em, x.tags)]) {
      await call();
      const { tags } = rec.handles.find((h) => h.lastRun)!.lastRun!;
      // forward cuts 40 sequences at 20, forwardBackward at its block of 16 nearest the middle.
      expect([20 * 8, 24 * 8]).toContain(tags.length);
      expect(tags.bufferBytes).toBe(4 * tags.length);
      expect(tags.transferred).toBe(true);
      rec.handles.forEach((h) => delete h.lastRun);
    }
    crf.dispose();
  });

  it('a batch of one block has no place to cut: it stays on the calling thread even when every call is forced to split', async () => {
    const { rec, crf } = await forcedSplit();
    // posteriors' blocks are 16 sequences here; Viterbi's are single sequences.
    const runs = async (call: () => Promise<unknown>) => {
      const before = runsOf(rec);
      await call();
      return runsOf(rec) - before;
    };
    const [b16, b17, b1, b2] = [batch(2, 16, 8, 5), batch(3, 17, 8, 5), batch(4, 1, 8, 5), batch(5, 2, 8, 5)];
    expect(await runs(() => crf.marginals(b16.em))).toBe(0);
    expect(await runs(() => crf.marginals(b17.em))).toBe(1);
    expect(await runs(() => crf.decode(b1.em))).toBe(0);
    expect(await runs(() => crf.decode(b2.em))).toBe(1);
    crf.dispose();
  });
});

describe('the costs measured on the calls overrule the split rule', () => {
  it("each way is measured four times, the rule's first; the other way overrules the rule where it measures 10 % cheaper; retries follow a change", () => {
    const choice = new SplitChoice();
    const work = 2 ** 24;
    const run = (rule: boolean, cost: { local: number; split: number }, op: 'viterbi' | 'entropy' | 'logPartition' = 'viterbi') => {
      const split = choice.splits(op, work, rule);
      choice.record(op, work, split, split ? cost.split : cost.local);
      return split;
    };
    choiceTuning.retry = 32;
    // The rule says local; splitting costs half.
    const ways = Array.from({ length: 64 }, () => run(false, { local: 2, split: 1 }));
    expect(ways.slice(0, 8)).toEqual([false, false, false, false, true, true, true, true]);
    // From then on split, but for three calls every `retry` (32 here) of this op and size: from the 32nd and the 64th.
    expect(ways.slice(31, 34)).toEqual([false, false, false]);
    expect(ways.slice(8).filter((w) => !w).length).toBe(4);
    // The machine gets busy: splitting costs three times as much. After the retry begun at the 64th call,
    // split until half its last four calls show it, then local again.
    const later = Array.from({ length: 40 }, () => run(false, { local: 2, split: 6 }));
    expect(later.slice(0, 8)).toEqual([false, false, true, true, false, false, false, false]);
    expect(later.slice(8).filter((w) => w).length).toBeLessThanOrEqual(3);
    // A way first measured cold (the rule's, at 10) is judged again from its retry alone: at 2, it wins
    // back the calls a split of 3 took while it looked dear.
    const cold = Array.from({ length: 40 }, (_, i) => run(false, { local: i < 4 ? 10 : 2, split: 3 }, 'logPartition'));
    expect(cold.slice(8, 31).every((w) => w)).toBe(true);
    expect(cold.slice(31).every((w) => !w)).toBe(true);
    // A way only a little cheaper does not overrule the rule.
    const close = Array.from({ length: 20 }, () => run(false, { local: 2, split: 1.9 }, 'entropy'));
    expect(close.slice(8).every((w) => !w)).toBe(true);
    // Other sizes are measured apart; below minWork the rule decides.
    expect(choice.splits('viterbi', 2 * work, false)).toBe(false);
    expect(choice.splits('viterbi', choiceTuning.minWork / 2, true)).toBe(true);
  });

  it('where splitting measures slower (a slow worker), calls the rule would split stay on the calling thread, with the bits of one thread', async () => {
    const rec = recording({ cores: 2, slowMs: 40 });
    setThreadRuntime(rec);
    const K = 9;
    // Every op splits by the rule from a small size; this size is above the choice's minWork.
    threadsTuning.table = Object.fromEntries(Object.keys(SPLIT_TABLE).map((o) => [o, { minK: 1, minWork: 1 }])) as typeof SPLIT_TABLE;
    const x = batch(50, 128, 64, K);
    expect(threadsWork(128, 64, K)).toBeGreaterThanOrEqual(choiceTuning.minWork);
    const one = await CRF.create(K, { backend: 'wasm', seed: 8 });
    const crf = await CRF.create(K, { backend: 'wasm', seed: 8, threads: 2 });
    const want = await one.decode(x.em);
    const sent: number[] = [];
    for (let i = 0; i < 24; i++) {
      const before = runsOf(rec);
      sameBits(await crf.decode(x.em), want, `call ${i}`);
      sent.push(runsOf(rec) - before);
    }
    // Split four times (the rule's way), local four times, then local: the 40 ms answers make a split the dearer.
    expect(sent.slice(0, 8)).toEqual([1, 1, 1, 1, 0, 0, 0, 0]);
    expect(sent.slice(8).reduce((a, b) => a + b, 0)).toBe(0);
    one.dispose();
    crf.dispose();
  });
});

describe("how a worker gets its range's emissions", () => {
  it('in a copy of its own, transferred, whose buffer comes back and is reused by the next call that fits', async () => {
    const rec = recording({ cores: 2 });
    setThreadRuntime(rec);
    threadsTuning.force = 'split';
    const K = 6;
    const one = await CRF.create(K, { backend: 'wasm', seed: 2 });
    const crf = await CRF.create(K, { backend: 'wasm', seed: 2, threads: 2 });
    const cache: number[] = [];
    for (let i = 0; i < 10; i++) {
      // Batches of 64 and 40 sequences in turn, every other pair with a mask that has gaps.
      const x = batch(30 + i, i % 2 ? 40 : 64, 24, K);
      const mask = i % 4 >= 2 ? x.mask : undefined;
      sameBits(await one.forward(x.em, x.tags, { mask, reduction: 'none' }), await crf.forward(x.em, x.tags, { mask, reduction: 'none' }), `call ${i} forward`);
      sameBits(await one.decode(x.em, { mask }), await crf.decode(x.em, { mask }), `call ${i} decode`);
      cache.push(crf.memoryUsage().cacheBytes);
    }
    one.dispose();
    crf.dispose();
    const slices = rec.handles.flatMap((h) => h.slices);
    expect(slices.length).toBe(20);
    for (const x of slices) expect(x.transferred).toBe(true);
    // A range of the smaller batches goes in the buffer a larger one handed back.
    expect(slices.some((x) => x.bufferBytes > x.bytes)).toBe(true);
    // That buffer counts in cacheBytes, which stops growing once the largest range has come back.
    expect(cache[9]).toBeGreaterThan(0);
    expect(cache[9]).toBe(cache[7]);
  });
});

describe("where a split call's emissions are read", () => {
  // forwardBackward cuts at blocks of 16 sequences: 40 make two ranges for every op.
  const K = 5,
    B = 40,
    T = 7;
  /** Sequence b on for its first 1 + b mod T steps: a mask without gaps. */
  const prefix = { data: Uint8Array.from({ length: B * T }, (_, i) => (i % T < 1 + (Math.floor(i / T) % T) ? 1 : 0)), shape: [B, T] };

  async function pair(seed: number): Promise<{ rec: ReturnType<typeof recording>; one: CRF; crf: CRF }> {
    const rec = recording({ cores: 2 });
    setThreadRuntime(rec);
    threadsTuning.force = 'split';
    return { rec, one: await CRF.create(K, { backend: 'wasm', seed }), crf: await CRF.create(K, { backend: 'wasm', seed, threads: 2 }) };
  }

  it("a plain forward, decode or forwardBackward hands each thread its range of the caller's array unread, to check where it runs; the bits are one thread's", async () => {
    const { rec, one, crf } = await pair(4);
    const x = batch(40, B, T, K);
    const sent = () => rec.handles.flatMap((h) => h.slices.splice(0));
    for (const mask of [undefined, prefix]) {
      sameBits(await one.forward(x.em, x.tags, { mask, reduction: 'none' }), await crf.forward(x.em, x.tags, { mask, reduction: 'none' }), 'forward');
      sameBits(await one.decode(x.em, { mask }), await crf.decode(x.em, { mask }), 'decode');
      const [a, b] = [await one.forwardBackward(x.em, x.tags, { mask }), await crf.forwardBackward(x.em, x.tags, { mask })];
      sameBits(
        [a.logLikelihood, ...Object.values(a.grads).map((g) => Array.from(g))],
        [b.logLikelihood, ...Object.values(b.grads).map((g) => Array.from(g))],
        'fb',
      );
      const s = sent();
      expect(s.length).toBe(3);
      for (const r of s) {
        expect(r.unchecked).toBe(true);
        expect(r.first).toBeGreaterThan(0);
      }
    }
    // A mask with gaps, topK and an annotation read the emissions on the calling thread first, as one thread does.
    const allowed = { data: Uint8Array.from({ length: B * T * K }, (_, i) => (i % 3 === 0 ? 0 : 1)), shape: [B, T, K] };
    await crf.decode(x.em, { mask: x.mask });
    await crf.decode(x.em, { topK: 2 });
    await crf.forward(x.em, { allowed });
    const s = sent();
    expect(s.length).toBeGreaterThanOrEqual(3);
    for (const r of s) expect(r.unchecked).toBe(false);
    one.dispose();
    crf.dispose();
  });

  it("a bad value in any thread's range is refused with the js backend's error, before another argument's, on one thread or two, sync and async", async () => {
    // The js backend computes in float64: it reads and checks every emission before any other argument.
    const { one, crf } = await pair(5);
    const js = await CRF.create(K, { backend: 'js', seed: 5 });
    const x = batch(41, B, T, K);
    const badTags = { data: x.tags.data.map((v, i) => (i === 9 ? 99 : v)), shape: [B, T] };
    const badMask = { data: prefix.data.map((v, i) => (i === 11 ? 7 : v)), shape: [B, T] };
    const n = B * T * K;
    const messageOf = async (f: () => unknown) => {
      try {
        await f();
        return 'no error';
      } catch (e) {
        expect(e).toBeInstanceOf(CRFInputError);
        return (e as Error).message;
      }
    };
    let refused = 0;
    // None, in the calling thread's range, in the worker's (the middle of the batch), the last value.
    for (const at of [-1, 3, n / 2, n - 1]) {
      for (const v of [NaN, -Infinity, 1e30]) {
        const data = x.em.data.slice();
        if (at >= 0) data[at] = v;
        const em = { data, shape: [B, T, K] };
        for (const [tags, mask] of [
          [x.tags, undefined],
          [badTags, prefix],
          [x.tags, badMask],
        ] as const) {
          const calls: [string, (c: CRF) => unknown][] = [
            ['forward', (c) => c.forward(em, tags, { mask })],
            ['forwardBackward', (c) => c.forwardBackward(em, tags, { mask })],
            ['decode', (c) => c.decode(em, { mask })],
            ['sync.forward', (c) => c.sync.forward(em, tags, { mask })],
          ];
          for (const [name, call] of calls) {
            const want = await messageOf(() => call(js));
            expect(await messageOf(() => call(one)), `${name} at ${at} (${v}), one thread`).toBe(want);
            expect(await messageOf(() => call(crf)), `${name} at ${at} (${v}), split`).toBe(want);
            if (want.startsWith('emissions')) refused++;
          }
        }
      }
    }
    expect(refused).toBe(3 * 3 * 3 * 4);
    js.dispose();
    one.dispose();
    crf.dispose();
  });

  it("the caller's array is read before the call returns: changing it while the promise is pending changes nothing", async () => {
    const { one, crf } = await pair(6);
    const x = batch(42, B, T, K);
    const want = [await one.forward(x.em, x.tags, { reduction: 'none' }), await one.decode(x.em), (await one.forwardBackward(x.em, x.tags)).grads.emissions];
    const calls = [
      () => crf.forward(x.em, x.tags, { reduction: 'none' }),
      () => crf.decode(x.em),
      async () => (await crf.forwardBackward(x.em, x.tags)).grads.emissions,
    ];
    for (let i = 0; i < calls.length; i++) {
      const data = x.em.data.slice();
      const pending = calls[i]();
      x.em.data.fill(NaN);
      sameBits(Array.from((await pending) as ArrayLike<unknown>), Array.from(want[i] as ArrayLike<unknown>), `call ${i}`);
      x.em.data.set(data);
    }
    one.dispose();
    crf.dispose();
  });
});

describe('the threads option', () => {
  it.each([0, -1, 1.5, 'many', NaN, {}, 257, Infinity, null, true, '2'])('refuses %s, naming threads, what it expects and what it got', async (v) => {
    const e = await inputError(CRF.create(3, { threads: v as never }));
    expect(e.argument).toBe('threads');
    expect(e.message).toMatch(/^threads: expected an integer in \[1, 256\] or 'auto', got /);
  });

  it("refuses more than one thread with backend 'js', and takes 1 or 'auto' there (one thread)", async () => {
    const e = await inputError(CRF.create(3, { backend: 'js', threads: 2 }));
    expect(e).toBeInstanceOf(CRFInputError);
    expect(e.message).toMatch(/^threads: expected 1 or 'auto' with backend 'js'.*got 2$/);
    for (const threads of [1, 'auto'] as const) {
      const crf = await CRF.create(3, { backend: 'js', threads });
      expect(crf.backend).toBe('js');
      crf.dispose();
    }
  });

  it('never starts more threads than the cores the runtime reports, and backendReason says so', async () => {
    for (const [cores, threads, workers] of [
      [2, 8, 1],
      [2, 256, 1],
      [4, 3, 2],
      [1, 2, 0],
    ] as const) {
      const rec = recording({ cores });
      setThreadRuntime(rec);
      const crf = await CRF.create(3, { backend: 'wasm', threads });
      expect(rec.handles.length, `${threads} threads on ${cores} cores`).toBe(workers);
      if (workers > 0) expect(crf.backendReason).toMatch(new RegExp(`on ${workers + 1} threads \\(the calling thread and ${workers} worker`));
      else expect(crf.backendReason).toMatch(/on the calling thread only/);
      if (threads > cores)
        expect(crf.backendReason).toMatch(
          new RegExp(`${threads} threads were asked for, but threads never outnumber the cores, and this runtime reports ${cores}$`),
        );
      else expect(crf.backendReason).not.toMatch(/were asked for/);
      expect(await crf.decode([[[0, 1, 0]]])).toEqual([[1]]);
      crf.dispose();
    }
  });

  it('is not started for 1 thread', async () => {
    const rec = recording();
    setThreadRuntime(rec);
    const crf = await CRF.create(3, { backend: 'wasm', threads: 1 });
    expect(crf.backendReason).not.toMatch(/thread/);
    crf.dispose();
    expect(rec.handles).toEqual([]);
  });
});

describe('worker lifetime', () => {
  it('dispose ends every worker; the ops then say the instance was disposed', async () => {
    const rec = recording({ cores: 3 });
    setThreadRuntime(rec);
    const crf = await CRF.create(4, { backend: 'wasm', threads: 3 });
    expect(rec.handles.length).toBe(2);
    expect(rec.handles.every((r) => !r.ended)).toBe(true);
    crf.dispose();
    expect(rec.handles.every((r) => r.ended)).toBe(true);
    await expect(crf.decode([[[1, 2, 3, 4]]])).rejects.toThrow(/disposed/);
  });

  it("memoryUsage counts the workers' WebAssembly memory too", async () => {
    threadsTuning.force = 'split';
    const x = batch(3, 64, 400, 32); // 3 MiB of emissions: memory grows far beyond its first pages
    const one = await CRF.create(32, { backend: 'wasm' });
    const two = await CRF.create(32, { backend: 'wasm', threads: 2 });
    await one.forward(x.em, x.tags, { mask: x.mask });
    await two.forward(x.em, x.tags, { mask: x.mask });
    // Each thread holds about half of one thread's memory: without the worker's, well under 3/4 of it.
    expect(two.memoryUsage().wasmBytes).toBeGreaterThan(0.75 * one.memoryUsage().wasmBytes);
    one.dispose();
    two.dispose();
  });

  it('a worker that handed its memory back is replaced by a fresh one once idle, not while busy; calls go on, with the bits of one thread', async () => {
    threadsTuning.force = 'split';
    const rec = recording({ cores: 2, spendAll: true });
    setThreadRuntime(rec);
    const K = 6;
    const x = batch(5, 40, 12, K);
    const one = await CRF.create(K, { backend: 'wasm', seed: 4 });
    const want = await everything(one, x);
    const crf = await CRF.create(K, { backend: 'wasm', seed: 4, threads: 2 });
    // Busy: calls back to back keep the thread, and every call splits.
    poolTuning.spentIdleMs = 60_000;
    for (let round = 0; round < 2; round++) sameBits(want, await everything(crf, x), `busy round ${round}`);
    expect(rec.handles.length).toBe(1);
    expect(rec.handles[0].runs).toBeGreaterThanOrEqual(2 * 14);
    // Idle: each answer says the memory was handed back, so the thread is ended at once, and calls run
    // here until its replacement has started; then they split again.
    poolTuning.spentIdleMs = 0;
    const deadline = Date.now() + 20_000;
    for (let round = 0; rec.handles.filter((r) => r.runs > 0).length < 3 && Date.now() < deadline; round++) {
      sameBits(want, await everything(crf, x), `round ${round}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(rec.handles.filter((r) => r.runs > 0).length).toBe(3);
    expect(rec.handles.slice(0, -1).every((r) => r.ended)).toBe(true);
    crf.dispose();
    one.dispose();
    expect(rec.handles.every((r) => r.ended)).toBe(true);
  });

  it('a script that forgets dispose still exits', () => {
    const script = `
      import { CRF } from ${JSON.stringify(new URL('../../../dist/node.js', import.meta.url).href)};
      const crf = await CRF.create(9, { backend: 'wasm', threads: 2 });
      const B = 64, T = 128, K = 9;
      const em = { data: new Float32Array(B * T * K).map((_, i) => Math.sin(i)), shape: [B, T, K] };
      const paths = await crf.decode(em);
      console.log(JSON.stringify({ reason: crf.backendReason, n: paths.length }));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
    expect(r.error).toBeUndefined();
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.n).toBe(64);
    expect(out.reason).toMatch(/on 2 threads/);
  });

  it('a worker that dies rejects the call waiting on it with a clear message; later calls still run, with the same bits', async () => {
    threadsTuning.force = 'split';
    const rec = recording({ cores: 3 });
    setThreadRuntime(rec);
    const K = 32;
    const x = batch(7, 64, 200, K);
    const one = await CRF.create(K, { backend: 'wasm', seed: 2 });
    const want = await one.forwardBackward(x.em, x.tags, { mask: x.mask });
    const crf = await CRF.create(K, { backend: 'wasm', seed: 2, threads: 3 });
    rec.handles[0].crashOnRun = true;
    await expect(crf.forwardBackward(x.em, x.tags, { mask: x.mask })).rejects.toThrow(
      /worker thread stopped \(it exited with code 1\) before finishing its part of the call/,
    );
    const again = await crf.forwardBackward(x.em, x.tags, { mask: x.mask });
    sameBits([want.logLikelihood, Array.from(want.grads.transitions)], [again.logLikelihood, Array.from(again.grads.transitions)]);
    one.dispose();
    crf.dispose();
  });
});

describe('where no worker can start', () => {
  it('threads run quietly on one thread, and backendReason says why (no Worker constructor, as on Cloudflare Workers)', async () => {
    threadsTuning.force = 'split';
    const g = globalThis as { Worker?: unknown };
    const had = Object.hasOwn(g, 'Worker');
    const worker = g.Worker;
    delete g.Worker;
    setThreadRuntime({ ...webThreads, cores: () => 4 });
    try {
      const K = 5;
      const x = batch(4, 20, 9, K);
      const crf = await CRF.create(K, { backend: 'wasm', seed: 8, threads: 4 });
      expect(crf.backend).toBe('wasm');
      expect(crf.backendReason).toMatch(/on the calling thread only: 4 threads were asked for, but this runtime has no Worker constructor/);
      const one = await CRF.create(K, { backend: 'wasm', seed: 8 });
      sameBits(await everything(one, x), await everything(crf, x));
      crf.dispose();
      one.dispose();
    } finally {
      if (had) g.Worker = worker;
    }
  });

  it('a worker file that cannot be loaded (a bundle that left it behind) falls back the same way', async () => {
    setThreadRuntime(nodeThreads(() => new URL('./no-such-worker.js', NODE_WORKER)));
    const crf = await CRF.create(3, { backend: 'wasm', threads: 2 });
    expect(crf.backendReason).toMatch(/on the calling thread only: 2 threads were asked for, but a worker thread stopped while starting/);
    expect(await crf.decode([[[0, 1, 0]]])).toEqual([[1]]);
    crf.dispose();
  });
});
