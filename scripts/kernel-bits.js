// node scripts/kernel-bits.js OLD.wasm NEW.wasm [--time [--rounds N]] [--no-bits] [--quick]: runs every export of two
// builds of the kernels (assembly/) on the same deterministic inputs through the raw exports, laid out as
// src/backends/wasm/backend.ts lays out a call, and compares every output byte. For a change to the
// kernels that must not change what they compute: save dist/webcrf.{simd,scalar}.wasm before it, then
// compare each build against its saved copy after every step. Exits 1 on any difference.
//
// The cases: K 1..40, 64, 128, 129; B 0..9 and 37; lengths from 0 to T, mixed within a batch (the
// lanes-across-sequences groups mask ended lanes); five kinds of inputs: plain, constrained (−∞
// transitions, starts and ends), extreme (±1e4 emissions and −1e4 transitions: the log-space fallback),
// ties (integer values: Viterbi's and k-best's tie breaking) and restricted (−∞ emissions, as a partial
// annotation leaves them); k-best with k 1..5; a few sequences
// longer than the pair sums' flush interval. Every output region and work area is filled with 0xff
// bytes before a call (a kernel must write every output byte), and 256 bytes after the work area must
// come back unchanged (an op writes only within its `<op>WorkBytes`). Where OLD traps, NEW must give
// what OLD gives for the same sequences one per call (the per-sequence kernels, whose bits a group's
// lanes reproduce).
//
// --time [--rounds N]: the kernels alone at (B, T, K) = (32, 128, 9), (1, 32, 9), (32, 128, 32), every
// op (k-best at k = 3), the two modules interleaved in N rounds (21) of about 5 ms each, the order
// alternated; prints the median times and the median and quartiles of the rounds' NEW/OLD ratios.
// --quick: K 1..9, 16, 17, 33 and 129 only.
import { readFileSync } from 'node:fs';
import { generator } from '../examples/random.js';

const argv = process.argv.slice(2);
const files = argv.filter((a, i) => !a.startsWith('--') && argv[i - 1] !== '--rounds');
const flag = (/** @type {string} */ name) => argv.includes(`--${name}`);
if (files.length !== 2) {
  console.error('usage: node scripts/kernel-bits.js OLD.wasm NEW.wasm [--time [--rounds N]] [--no-bits] [--quick]');
  process.exit(2);
}

/**
 * @typedef {(...args: number[]) => number} Fn
 * @typedef {{ memory: WebAssembly.Memory } & Record<string, Fn>} Exports
 * @typedef {{ name: string, file: string, x: Exports }} Kernels
 */

/** @param {string} file @returns {Promise<Kernels>} */
async function load(file) {
  const { instance } = await WebAssembly.instantiate(readFileSync(file), {});
  return { name: file, file, x: /** @type {Exports} */ (/** @type {unknown} */ (instance.exports)) };
}
const [OLD, NEW] = await Promise.all(files.map(load));
if (OLD.x.simd() !== NEW.x.simd()) {
  console.error(`kernel-bits: ${files[0]} and ${files[1]} are not the same build (simd ${OLD.x.simd()} vs ${NEW.x.simd()})`);
  process.exit(2);
}

/** Deterministic numbers (the examples' and tests' generator): every case is its own stream, so a case can be rerun alone. */
function rng(/** @type {number} */ seed) {
  const { next, randn } = generator(seed);
  return { next, normal: randn, int: (/** @type {number} */ n) => Math.floor(next() * n) };
}

/**
 * @typedef {{ K: number, B: number, T: number, kind: string, start: Float32Array, end: Float32Array,
 *   trans: Float32Array, em: Float32Array, lens: Int32Array }} Case
 */

/** @returns {Case} */
function makeCase(/** @type {number} */ K, /** @type {number} */ B, /** @type {number} */ T, /** @type {string} */ kind, /** @type {number} */ seed) {
  const R = rng(seed);
  const value = (/** @type {number} */ scale) => (kind === 'ties' ? R.int(5) - 2 : scale * R.normal());
  const start = Float32Array.from({ length: K }, () => value(1));
  const end = Float32Array.from({ length: K }, () => value(1));
  const trans = Float32Array.from({ length: K * K }, () => value(1));
  if (kind === 'constrained') {
    // Forbidden transitions at a rate that leaves some sequences with no path, some tags unreachable
    // for a few steps, and (now and then) every start or every end forbidden.
    const rate = [0.1, 0.3, 0.6][R.int(3)];
    for (let i = 0; i < K * K; i++) if (R.next() < rate) trans[i] = -Infinity;
    for (let j = 0; j < K; j++) if (R.next() < rate) start[j] = -Infinity;
    for (let j = 0; j < K; j++) if (R.next() < rate) end[j] = -Infinity;
    if (R.next() < 0.05) start.fill(-Infinity);
    if (R.next() < 0.05) end.fill(-Infinity);
  }
  if (kind === 'extreme') for (let i = 0; i < K * K; i++) if (R.next() < 0.2) trans[i] = -1e4;
  const em = new Float32Array(B * T * K);
  for (let b = 0; b < B; b++) {
    // Half the extreme batch's sequences are ordinary, so a group mixes lanes that fall back with lanes that do not.
    const big = kind === 'extreme' && R.next() < 0.5;
    for (let i = b * T * K; i < (b + 1) * T * K; i++) em[i] = big ? (R.next() < 0.5 ? -1e4 : 1e4) * R.next() : value(3);
  }
  const lens = Int32Array.from({ length: B }, () => (R.next() < 0.3 ? T : R.int(T + 1)));
  if (B >= 2) lens[R.int(B)] = 0;
  if (B >= 3) lens[R.int(B)] = T;
  if (kind === 'restricted') {
    // A partial annotation's −∞ emissions (call/pack.ts restrict), within the lengths; now and then a whole row.
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < lens[b]; t++) {
        const row = (b * T + t) * K;
        if (R.next() < 0.05) em.fill(-Infinity, row, row + K);
        else for (let j = 0; j < K; j++) if (R.next() < 0.3) em[row + j] = -Infinity;
      }
    }
  }
  return { K, B, T, kind, start, end, trans, em, lens };
}

const align = (/** @type {number} */ n) => Math.ceil(n / 16) * 16;
/** As backend.ts: regions an odd number of cache lines apart. */
const STAGGER = 64 * 3;
const CANARY = 256;

/**
 * Lays a call out as backend.ts does (potentials, tables, emissions + 16 bytes, lengths, outputs, work
 * area) and returns the offsets; grows the memory to fit, with CANARY bytes after the work area.
 * @param {Kernels} k @param {Case} c @param {number[]} outputs @param {number} work
 */
function layout(k, c, outputs, work) {
  const { K, B, T } = c;
  const sizes = [K * 4, K * 4, K * K * 4, k.x.tableBytes(K), B * T * K * 4 + 16, B * 4, ...outputs, work + CANARY];
  /** @type {number[]} */
  const at = [];
  let p = align(k.x.heapBase());
  for (const s of sizes) {
    at.push(p);
    p = align(p + s) + STAGGER;
  }
  const have = k.x.memory.buffer.byteLength;
  if (p > have) k.x.memory.grow(Math.ceil((p - have) / 65536));
  const [start, end, trans, tables, em, lens, ...rest] = at;
  return { start, end, trans, tables, em, lens, out: rest.slice(0, outputs.length), work: rest[outputs.length] };
}

/**
 * The ops as the JS side calls them: kernel, its work-area n, its output regions' sizes, and its call.
 * `summed`: the output that is a sum over the batch (f64), not one part per sequence.
 * @typedef {{ name: string, n: number, outputs: (c: Case) => number[],
 *   call: (x: Exports, c: Case, L: ReturnType<typeof layout>) => void, summed?: number }} Op
 */
/** The parameters of each kernel as called below. @type {Record<string, number>} */
const OPS_ARITY = { logPartition: 6, logLikelihood: 8, viterbi: 7, posteriors: 8, gradients: 12, entropy: 7, kBest: 8 };
/** @type {Op[]} */
const OPS = [
  { name: 'logPartition', n: 0, outputs: (c) => [c.B * 8], call: (x, c, L) => x.logPartition(c.B, c.T, L.em, L.lens, L.out[0], L.work) },
  {
    // forward's kernel: log Z and the scores of gold tags (5t + 1) mod K, written into its third region first.
    name: 'logLikelihood',
    n: 0,
    outputs: (c) => [c.B * 8, c.B * 8, c.B * c.T * 4],
    call: (x, c, L) => {
      const tags = new Int32Array(x.memory.buffer, L.out[2], c.B * c.T);
      for (let b = 0; b < c.B; b++) for (let t = 0; t < c.T; t++) tags[b * c.T + t] = (5 * t + 1) % c.K;
      x.logLikelihood(c.B, c.T, L.em, L.lens, L.out[2], L.out[0], L.out[1], L.work);
    },
  },
  { name: 'viterbi', n: 0, outputs: (c) => [c.B * c.T * 4, c.B * 8], call: (x, c, L) => x.viterbi(c.B, c.T, L.em, L.lens, L.out[0], L.out[1], L.work) },
  {
    name: 'posteriors',
    n: 0,
    outputs: (c) => [c.B * 8, c.B * c.T * c.K * 4, ((c.K + 3) & ~3) ** 2 * 8],
    summed: 2,
    call: (x, c, L) => x.posteriors(c.B, c.T, L.em, L.lens, L.out[0], L.out[1], L.out[2], L.work),
  },
  {
    // forwardBackward's kernel: posteriors' sweep with the emission gradient (weight 0.5) for gold tags
    // (5t + 1) mod K, which the call writes into the tags region (its fourth) first.
    name: 'gradients',
    n: 0,
    outputs: (c) => [c.B * 8, c.B * c.T * c.K * 4, ((c.K + 3) & ~3) ** 2 * 8, c.B * c.T * 4, c.B * 2 * c.K * 4, c.B * 8],
    summed: 2,
    call: (x, c, L) => {
      const tags = new Int32Array(x.memory.buffer, L.out[3], c.B * c.T);
      for (let b = 0; b < c.B; b++) for (let t = 0; t < c.T; t++) tags[b * c.T + t] = (5 * t + 1) % c.K;
      x.gradients(c.B, c.T, L.em, L.lens, L.out[3], 0.5, L.out[0], L.out[5], L.out[1], L.out[4], L.out[2], L.work);
    },
  },
  { name: 'entropy', n: 0, outputs: (c) => [c.B * 8, c.B * 8], call: (x, c, L) => x.entropy(c.B, c.T, L.em, L.lens, L.out[0], L.out[1], L.work) },
  ...[1, 2, 3, 4, 5].map(
    (kk) =>
      /** @type {Op} */ ({
        name: `kBest k=${kk}`,
        n: kk,
        outputs: (c) => [c.B * kk * c.T * 4, c.B * kk * 8],
        call: (x, c, L) => x.kBest(c.B, c.T, kk, L.em, L.lens, L.out[0], L.out[1], L.work),
      }),
  ),
];
/** @param {Op} op */
const kernelOf = (op) => op.name.split(' ')[0];
/**
 * Whether both builds export the op's kernel with the signature called here (one added or changed since
 * has nothing to compare with: gradients took no score region before 2026-12-03). @param {Op} op
 */
const both = (op) => [OLD, NEW].every(({ x }) => typeof x[kernelOf(op)] === 'function' && x[kernelOf(op)].length === OPS_ARITY[kernelOf(op)]);

/**
 * @typedef {{ outs: Uint8Array[], tables: Uint8Array, fallbacks: number, overrun: boolean, work: number }} Result
 */

/**
 * Writes the case into k's memory, runs `setup` and the op, and returns its outputs' bytes, the
 * tables' bytes, the log-space fallbacks it counted, and whether the bytes after its work area
 * survived; null when the kernel trapped.
 * @param {Kernels} k @param {Op} op @param {Case} c @returns {Result | null}
 */
function run(k, op, c) {
  const outputs = op.outputs(c);
  const work = k.x[`${kernelOf(op)}WorkBytes`](c.T, c.K, op.n);
  const L = layout(k, c, outputs, work);
  const buf = k.x.memory.buffer;
  const f32 = new Float32Array(buf);
  f32.set(c.start, L.start >>> 2);
  f32.set(c.end, L.end >>> 2);
  f32.set(c.trans, L.trans >>> 2);
  k.x.setup(c.K, L.start, L.end, L.trans, L.tables);
  f32.set(c.em, L.em >>> 2);
  f32.fill(0, (L.em >>> 2) + c.em.length, (L.em >>> 2) + c.em.length + 4);
  new Int32Array(buf).set(c.lens, L.lens >>> 2);
  const u8 = new Uint8Array(buf);
  outputs.forEach((n, i) => u8.fill(0xff, L.out[i], L.out[i] + n));
  u8.fill(0xff, L.work, L.work + work);
  u8.fill(0xa5, L.work + work, L.work + work + CANARY);
  const f0 = k.x.logSpaceFallbacks();
  try {
    op.call(k.x, c, L);
  } catch (e) {
    if (e instanceof WebAssembly.RuntimeError) return null;
    throw e;
  }
  const fallbacks = k.x.logSpaceFallbacks() - f0;
  const overrun = u8.subarray(L.work + work, L.work + work + CANARY).some((b) => b !== 0xa5);
  return {
    outs: outputs.map((n, i) => u8.slice(L.out[i], L.out[i] + n)),
    tables: u8.slice(L.tables, L.tables + k.x.tableBytes(c.K)),
    fallbacks,
    overrun,
    work,
  };
}

/**
 * The op run on each sequence of the case alone (a batch of one takes the per-sequence kernels, which
 * compute the same bits as a group's lanes), the results put together as one call's: what a call that
 * trapped should have returned.
 * @param {Kernels} k @param {Op} op @param {Case} c @returns {Result | null}
 */
function runAlone(k, op, c) {
  const n = c.T * c.K;
  /** @type {Result[]} */
  const parts = [];
  for (let b = 0; b < c.B; b++) {
    const r = run(k, op, { ...c, B: 1, em: c.em.slice(b * n, (b + 1) * n), lens: Int32Array.of(c.lens[b]) });
    if (!r) return null;
    parts.push(r);
  }
  const outs = op.outputs(c).map((bytes, i) => {
    const out = new Uint8Array(bytes);
    if (i === op.summed) {
      const sum = new Float64Array(out.buffer);
      for (const p of parts) new Float64Array(p.outs[i].buffer).forEach((v, j) => (sum[j] += v));
    } else parts.forEach((p, b) => out.set(p.outs[i], b * p.outs[i].length));
    return out;
  });
  return { outs, tables: parts[0].tables, fallbacks: parts.reduce((s, p) => s + p.fallbacks, 0), overrun: parts.some((p) => p.overrun), work: parts[0].work };
}

/** First differing byte of two arrays, or -1. */
function firstDiff(/** @type {Uint8Array} */ a, /** @type {Uint8Array} */ b) {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

const KS = flag('quick') ? [1, 2, 3, 4, 5, 6, 7, 8, 9, 16, 17, 33, 129] : [...Array.from({ length: 40 }, (_, i) => i + 1), 64, 128, 129];
const BS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 37];
const KINDS = ['plain', 'constrained', 'extreme', 'ties', 'restricted'];
const TS = [1, 2, 3, 5, 8, 13];

/** @type {Case[]} */
const cases = [];
if (!flag('no-bits')) {
  let seed = 1;
  for (const K of KS) for (const B of BS) for (const kind of KINDS) cases.push(makeCase(K, B, TS[(K + B + kind.length) % TS.length], kind, seed++));
  // Past the pair sums' flush interval (256 steps), and long enough for the support counts to settle.
  for (const K of [1, 3, 9, 16, 33]) for (const kind of KINDS) cases.push(makeCase(K, 5, 300, kind, seed++));
}

const problems = /** @type {string[]} */ ([]);
const counts = { cases: cases.length, calls: 0, bytes: 0, fallbacks: 0, overruns: 0, oldTrapped: 0 };
/** @type {string[]} */
const trapped = [];
/** @type {Map<string, { old: number, new: number }>} */
const workSizes = new Map();
for (const c of cases) {
  for (const op of OPS) {
    if (!both(op)) continue;
    const where = `${op.name} K=${c.K} B=${c.B} T=${c.T} ${c.kind}`;
    let a = run(OLD, op, c);
    if (!a) {
      // OLD trapped: NEW must give what OLD gives for the sequences one at a time.
      counts.oldTrapped++;
      trapped.push(`${where} lengths ${c.lens.join(',')}`);
      a = runAlone(OLD, op, c);
      if (!a) throw new Error(`${where}: OLD traps even one sequence at a time`);
    }
    const b = run(NEW, op, c);
    counts.calls++;
    if (!b) {
      problems.push(`${where}: NEW trapped`);
      continue;
    }
    counts.fallbacks += b.fallbacks;
    a.outs.forEach((o, i) => {
      counts.bytes += o.length;
      const d = firstDiff(o, b.outs[i]);
      if (d >= 0) problems.push(`${where}: output ${i} differs at byte ${d}`);
    });
    if (firstDiff(a.tables, b.tables) >= 0) problems.push(`${where}: the tables differ`);
    if (a.fallbacks !== b.fallbacks) problems.push(`${where}: log-space fallbacks ${a.fallbacks} vs ${b.fallbacks}`);
    if (b.overrun) {
      counts.overruns++;
      problems.push(`${where}: NEW wrote past ${kernelOf(op)}WorkBytes (${b.work})`);
    }
    if (a.overrun) problems.push(`${where}: OLD wrote past ${kernelOf(op)}WorkBytes (${a.work})`);
    const key = `${kernelOf(op)} K=${c.K} T=${c.T}${op.n ? ` n=${op.n}` : ''}`;
    if (!workSizes.has(key)) workSizes.set(key, { old: a.work, new: b.work });
  }
}

// The lane exp and log, over special values and a sweep.
if (!flag('no-bits')) {
  const xs = new Float32Array(4096);
  const R = rng(12345);
  const special = [0, -0, 1, -1, Infinity, -Infinity, NaN, 88.7, 88.72283, 89, -87, -87.5, -104, 1e-38, 1.17549435e-38, 3.4028234e38, 1e-45];
  xs.set(special);
  for (let i = special.length; i < xs.length; i++) xs[i] = (R.next() < 0.5 ? 200 : 1e6) * (R.next() - 0.5) * (R.next() < 0.5 ? 1 : R.next());
  for (const fn of ['mathExp', 'mathLog']) {
    /** @type {Uint8Array[]} */
    const res = [OLD, NEW].map((k) => {
      const p = align(k.x.heapBase());
      const have = k.x.memory.buffer.byteLength;
      if (p + 2 * xs.byteLength > have) k.x.memory.grow(Math.ceil((p + 2 * xs.byteLength - have) / 65536));
      new Float32Array(k.x.memory.buffer).set(xs, p >>> 2);
      k.x[fn](p, p + xs.byteLength, xs.length);
      return new Uint8Array(k.x.memory.buffer).slice(p + xs.byteLength, p + 2 * xs.byteLength);
    });
    counts.calls++;
    counts.bytes += res[0].length;
    const d = firstDiff(res[0], res[1]);
    if (d >= 0) problems.push(`${fn}: differs at byte ${d}`);
  }
  for (const K of KS) if (OLD.x.tableBytes(K) !== NEW.x.tableBytes(K)) problems.push(`tableBytes(${K}): ${OLD.x.tableBytes(K)} vs ${NEW.x.tableBytes(K)}`);
}

const build = OLD.x.simd() ? 'simd' : 'scalar';
if (!flag('no-bits')) {
  let grew = 0,
    shrank = 0;
  for (const { old, new: nw } of workSizes.values()) {
    if (nw > old) grew++;
    if (nw < old) shrank++;
  }
  console.log(
    `kernel-bits (${build}): ${counts.cases} cases, ${counts.calls} calls, ${counts.bytes} output bytes compared, ` +
      `${counts.fallbacks} log-space fallbacks (NEW), work areas: ${workSizes.size} sizes, ${grew} larger and ${shrank} smaller in NEW; ` +
      `${problems.length ? `${problems.length} DIFFERENCES` : 'bit-identical'}`,
  );
  if (trapped.length) {
    console.log(`  OLD trapped in ${trapped.length} calls (compared with OLD one sequence at a time there), e.g.:`);
    for (const t of trapped.slice(0, 5)) console.log(`    ${t}`);
  }
  for (const p of problems.slice(0, 40)) console.log(`  ${p}`);
  if (problems.length > 40) console.log(`  … and ${problems.length - 40} more`);
}

if (flag('time')) {
  const at = argv.indexOf('--rounds');
  const ROUNDS = at >= 0 ? Number(argv[at + 1]) : 21;
  /** The q-quantile of a list. */
  const quantile = (/** @type {number[]} */ v, /** @type {number} */ q) => [...v].sort((a, b) => a - b)[Math.round(q * (v.length - 1))];
  for (const [B, T, K] of [
    [32, 128, 9],
    [1, 32, 9],
    [32, 128, 32],
  ]) {
    const c = makeCase(K, B, T, 'plain', 999);
    c.lens.fill(T);
    for (const op of OPS.filter((o) => (o.n === 0 || o.n === 3) && both(o))) {
      // Lays both modules out once; each measurement then calls the kernel alone.
      const prepared = [OLD, NEW].map((k) => {
        run(k, op, c);
        const L = layout(k, c, op.outputs(c), k.x[`${kernelOf(op)}WorkBytes`](c.T, c.K, op.n));
        return () => op.call(k.x, c, L);
      });
      // Past V8's tier-up from its baseline compiler, which takes a few calls of each function.
      for (const f of prepared) for (let t0 = performance.now(), i = 0; i < 5 || performance.now() - t0 < 100; i++) f();
      let reps = 1;
      for (;;) {
        const t0 = performance.now();
        for (let i = 0; i < reps; i++) prepared[0]();
        if (performance.now() - t0 > 5 || reps > 1 << 20) break;
        reps *= 2;
      }
      // Short measurements, the two modules back to back in alternating order: each round's ratio
      // sees the same load on the machine, and the median ratio drops the rounds another process disturbed.
      /** @type {number[][]} */
      const times = [[], []];
      const ratios = [];
      for (let r = 0; r < ROUNDS; r++) {
        for (const m of r % 2 ? [1, 0] : [0, 1]) {
          const t0 = performance.now();
          for (let i = 0; i < reps; i++) prepared[m]();
          times[m].push(((performance.now() - t0) / reps) * 1000);
        }
        ratios.push(times[1][r] / times[0][r]);
      }
      const [mo, mn] = times.map((t) => quantile(t, 0.5));
      console.log(
        `time (${build}) ${op.name.padEnd(12)} B=${B} T=${T} K=${K}: OLD ${mo.toFixed(1)} µs, NEW ${mn.toFixed(1)} µs, ` +
          `NEW/OLD ${quantile(ratios, 0.5).toFixed(3)} (quartiles ${quantile(ratios, 0.25).toFixed(3)}–${quantile(ratios, 0.75).toFixed(3)})`,
      );
    }
  }
}
process.exit(problems.length ? 1 : 0);
