// Run by test/backends/wasm/memory-held.test.ts in its own `node --expose-gc` process, so that what the process holds
// is the CRF's alone: `node --expose-gc test/child/memory.js <package entry URL> <scenario> [seed]`.
// Prints one JSON line. "held" is what the process holds beyond its state before the scenario, after
// garbage collection: `external` (ArrayBuffers and this thread's WebAssembly memory) and `rss` (worker
// threads' memory is not in this thread's `external`); "counted" is what memoryUsage() reports.
/** @typedef {typeof import('webcrf')} Lib */
/** @typedef {import('webcrf').MemoryUsage} MemoryUsage */
import { readdirSync } from 'node:fs';
import { rng } from '../suites/oracle.js';

const [entry, scenario, seedArg] = process.argv.slice(2);
const lib = /** @type {Lib} */ (await import(entry));
const gc = /** @type {() => void} */ (globalThis.gc);
const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));
const MiB = 2 ** 20;

/**
 * Collects garbage until what it frees is counted as freed: FinalizationRegistry callbacks run in a later
 * turn of the event loop, and V8 releases ArrayBuffer and WebAssembly memory on a background thread.
 */
async function settle() {
  let last = Infinity;
  for (let i = 0; i < 50; i++) {
    gc();
    await sleep(20);
    if (i >= 2 && external() >= last) return;
    last = external();
  }
}
const external = () => process.memoryUsage().external;
const rss = () => process.memoryUsage().rss;
const osThreads = () => readdirSync('/proc/self/task').length;
// cacheBytes: absent before memoryUsage counted the arrays an instance keeps.
const counted = (/** @type {Partial<MemoryUsage>} */ m) => (m.wasmBytes ?? 0) + (m.gpuBytes ?? 0) + (m.cacheBytes ?? 0);

/** Waits up to `ms` for `ok()`, settling in between; returns whether it came. */
async function until(/** @type {() => boolean} */ ok, ms = 5000) {
  const end = Date.now() + ms;
  for (;;) {
    await settle();
    if (ok() || Date.now() > end) return ok();
    await sleep(20);
  }
}

/** Emissions of B × T × K values, random or zero, made and dropped inside the call's scope. */
function emissions(/** @type {number} */ B, /** @type {number} */ T, /** @type {number} */ K, random = false) {
  const data = new Float32Array(B * T * K);
  if (random) for (let i = 0; i < data.length; i++) data[i] = Math.sin(i) * 3;
  return { data, shape: [B, T, K] };
}

/** @type {Record<string, () => Promise<unknown>>} */
const scenarios = {
  // One-off calls past the memory kept between calls, then dispose while the instance is referenced.
  async 'one-off'() {
    await settle();
    const base = external();
    const crf = await lib.CRF.create(8, { backend: 'wasm' });
    const steps = [];
    for (const op of /** @type {const} */ (['logPartition', 'marginals'])) {
      await (async () => void (await crf[op](emissions(4096, 1024, 8))))(); // 2^25 values
      await settle();
      steps.push({ op, heldMiB: (external() - base) / MiB, countedMiB: counted(crf.memoryUsage()) / MiB });
    }
    crf.dispose();
    await settle();
    steps.push({ op: 'dispose', heldMiB: (external() - base) / MiB, countedMiB: counted(crf.memoryUsage()) / MiB, numTags: crf.numTags });
    return steps;
  },
  // A call refused after its emissions were checked where the kernels read them (bad tags): the 32 MiB
  // copy it made (past the emissions kept between calls) is not kept by the note of what was checked.
  async refused() {
    await settle();
    const base = external();
    const crf = await lib.CRF.create(8, { backend: 'wasm' });
    const [B, T] = [1024, 1024]; // 2^23 values: the memory then holds them, so the next check is in one piece
    await (async () => void (await crf.logPartition(emissions(B, T, 8))))();
    await settle();
    const step = (/** @type {string} */ op) => ({ op, heldMiB: (external() - base) / MiB, countedMiB: counted(crf.memoryUsage()) / MiB });
    const before = step('logPartition');
    const message = await (async () => {
      try {
        await crf.forward(emissions(B, T, 8), { data: new Int32Array(B * T).fill(99), shape: [B, T] });
        return 'not refused';
      } catch (e) {
        return /** @type {Error} */ (e).message;
      }
    })();
    await settle();
    const after = { ...step('refused forward'), message };
    crf.dispose();
    return [before, after];
  },
  // A call within the memory kept between calls (64 MiB of emissions), then dispose.
  async dispose() {
    await settle();
    const base = external();
    const crf = await lib.CRF.create(8, { backend: 'wasm' });
    await (async () => void (await crf.logPartition(emissions(2048, 1024, 8))))(); // 2^24 values
    await settle();
    const kept = { heldMiB: (external() - base) / MiB, countedMiB: counted(crf.memoryUsage()) / MiB };
    crf.dispose();
    await settle();
    return { kept, disposed: { heldMiB: (external() - base) / MiB, countedMiB: counted(crf.memoryUsage()) / MiB, numTags: crf.numTags } };
  },
  // threads: 2, one split call of 2^26 values (each thread's half is past the memory kept), then small calls.
  async worker() {
    const crf = await lib.CRF.create(32, { backend: 'wasm', threads: 2 });
    const small = emissions(4, 16, 32, true);
    await crf.logPartition(small);
    await settle();
    const base = { rss: rss(), counted: counted(crf.memoryUsage()) };
    await (async () => void (await crf.logPartition(emissions(2048, 1024, 32))))();
    for (let i = 0; i < 20; i++) await crf.logPartition(small);
    const freed = await until(() => rss() - base.rss < 64 * MiB);
    const out = { reason: crf.backendReason, freed, heldMiB: (rss() - base.rss) / MiB, countedMiB: (counted(crf.memoryUsage()) - base.counted) / MiB };
    crf.dispose();
    return out;
  },
  // CRFs with threads: 2, each created, given a split call and dropped without dispose().
  async dropped() {
    const cycles = 12;
    const cycle = async () => {
      const crf = await lib.CRF.create(32, { backend: 'wasm', threads: 2 });
      await crf.forwardBackward(emissions(64, 128, 32, true), { data: new Int32Array(64 * 128), shape: [64, 128] });
      return crf.backendReason;
    };
    const first = await cycle();
    await until(() => false, 300);
    const base = { threads: osThreads(), rss: rss() };
    for (let i = 0; i < cycles; i++) await cycle();
    const ended = await until(() => osThreads() <= base.threads + 1, 10_000);
    return { reason: first, cycles, ended, extraThreads: osThreads() - base.threads, heldMiB: (rss() - base.rss) / MiB };
  },
  // Random calls of random sizes (some past the scratch's 1 MiB per array), then dispose: after each,
  // what the process holds beyond its start is what memoryUsage() counts.
  async mixed() {
    const R = rng(Number(seedArg ?? 1));
    const steps = [];
    for (const options of /** @type {import('webcrf').CRFOptions[]} */ ([{ backend: 'js' }, { backend: 'wasm' }])) {
      await settle();
      const base = external();
      const K = [3, 9, 32][R.int(3)];
      const crf = await lib.CRF.create(K, options);
      for (let i = 0; i < 8; i++) {
        const B = 1 + R.int(64),
          T = 1 + R.int(options.backend === 'js' ? 64 : 512);
        const op = /** @type {const} */ (['logPartition', 'marginals', 'decode', 'entropy', 'forward'])[R.int(5)];
        await (async () => {
          const em = emissions(B, T, K, true);
          if (op === 'forward') await crf.forward(em, { data: new Int32Array(B * T), shape: [B, T] });
          else await crf[op](em);
        })();
        await settle();
        steps.push({ backend: options.backend, op, B, T, K, heldMiB: (external() - base) / MiB, countedMiB: counted(crf.memoryUsage()) / MiB });
      }
      crf.dispose();
      await settle();
      steps.push({ backend: options.backend, op: 'dispose', heldMiB: (external() - base) / MiB, countedMiB: counted(crf.memoryUsage()) / MiB });
    }
    return steps;
  },
};

console.log(JSON.stringify(await scenarios[scenario]()));
process.exit(0);
