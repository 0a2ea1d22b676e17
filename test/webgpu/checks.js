// WebGPU kernel checks against the float64 js backend, shared by headless Chromium
// (test/webgpu/page.html via test/backends/webgpu/browser.test.ts) and Node on a hardware adapter
// (test/backends/webgpu/node.test.ts). Every GPU call sits in a validation error scope; any error fails.
// ctx = { WebGpuBackend, JsBackend, lib, device, newDevice: () => Promise<GPUDevice>, log }.

// A relative import, so it resolves both from the file in Node and from /test/webgpu/checks.js on the page.
import { rng } from '../suites/oracle.js';

// Interfaces from src/ (structural, so the built dist/ classes the page hands in satisfy them too).
/** @typedef {import('../../src/backends/backend.js').Backend} Backend */
/** @typedef {Backend} GpuBackend */
/** @typedef {{ p: import('../../src/call/pack.js').Packed, w: import('../../src/model/parameters.js').Potentials }} Batch */
/**
 * @typedef {object} Ctx
 * @property {typeof import('webcrf')} lib the package (src/ in Node, dist/ on the page)
 * @property {new (opts: import('../../src/backends/webgpu/index.js').WebGpuBackendOptions) => GpuBackend} WebGpuBackend
 * @property {{ create(): Promise<Backend> }} JsBackend
 * @property {GPUDevice} device
 * @property {() => Promise<GPUDevice>} newDevice a device of its own (the device-loss check destroys it)
 * @property {(s: string) => void} log
 */

/** @param {string} msg */
function fail(msg) {
  throw new Error(msg);
}

/**
 * |a − b| ≤ tol · (1 + |b|), with -Infinity only matching -Infinity.
 * @param {ArrayLike<number>} a @param {ArrayLike<number>} b @param {number} tol @param {string} what
 */
function close(a, b, tol, what) {
  if (a.length !== b.length) fail(`${what}: length ${a.length} vs ${b.length}`);
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[i]) continue;
    if (!(Math.abs(a[i] - b[i]) <= tol * (1 + Math.abs(b[i])))) fail(`${what}[${i}]: webgpu ${a[i]}, js ${b[i]} (tol ${tol})`);
  }
}

/**
 * A packed batch: random lengths (some 0, one full), emissions · scale, forbidden transitions.
 * @param {import('../suites/oracle.js').Rng} R
 * @param {{ B: number, T: number, K: number, scale?: number, forbid?: number, f64?: boolean }} shape
 * @returns {Batch}
 */
function batch(R, { B, T, K, scale = 2, forbid = 0.15, f64 = false }) {
  const emissions = new (f64 ? Float64Array : Float32Array)(B * T * K);
  for (let i = 0; i < emissions.length; i++) emissions[i] = scale * R.normal();
  const lengths = Int32Array.from({ length: B }, (_, b) => (b === 0 ? T : R.int(T + 1)));
  const positions = new Int32Array(B * T).fill(-1);
  for (let b = 0; b < B; b++) for (let t = 0; t < lengths[b]; t++) positions[b * T + t] = t;
  const pot = (/** @type {number} */ n, /** @type {number} */ p) => Float64Array.from({ length: n }, () => (R.next() < p ? -Infinity : R.normal()));
  // A forbidden row/column never makes every path impossible: tag 0 stays allowed everywhere.
  const start = pot(K, forbid),
    end = pot(K, forbid),
    trans = pot(K * K, forbid);
  start[0] = end[0] = trans[0] = 0;
  return { p: { B, T, K, emissions, lengths, positions }, w: { K, start, end, trans } };
}

/**
 * @template R
 * @param {GPUDevice} device @param {string} what @param {() => Promise<R>} fn
 * @returns {Promise<R>}
 */
async function scoped(device, what, fn) {
  device.pushErrorScope('validation');
  /** @type {R | undefined} */
  let r;
  /** @type {unknown} */
  let thrown = null;
  try {
    r = await fn();
  } catch (e) {
    thrown = e;
  }
  const err = await device.popErrorScope();
  if (err) fail(`${what}: GPU validation error: ${err.message}`);
  if (thrown) throw thrown;
  return /** @type {R} */ (r);
}

/**
 * The queue submits `f` makes on `device` (each GPU chunk is one or more).
 * @param {GPUDevice} device
 * @param {() => Promise<unknown>} f
 */
async function countSubmits(device, f) {
  const queue = device.queue;
  const submit = queue.submit;
  let n = 0;
  queue.submit = (/** @type {GPUCommandBuffer[]} */ b) => {
    n++;
    return submit.call(queue, b);
  };
  try {
    await f();
  } finally {
    // The method lives on GPUQueue's prototype: deleting the own one restores it.
    delete (/** @type {{ submit?: unknown }} */ (queue).submit);
  }
  return n;
}

/**
 * Every op of `gpu` against `js` on one batch.
 * @param {Ctx} ctx @param {Backend} gpu @param {Backend} js @param {Batch} c @param {string} what
 * @param {{ lz?: number, unary?: number, counts?: number, entropy?: number }} [tol]
 */
async function compareOps(ctx, gpu, js, c, what, tol = {}) {
  const { lz = 2e-5, unary = 2e-4, counts = 5e-4, entropy = 5e-4 } = tol;
  const { p, w } = c;
  const [zg, zj] = [await scoped(ctx.device, `${what} logPartition`, () => gpu.run('logPartition', p, w)), await js.run('logPartition', p, w)];
  close(zg, zj, lz, `${what} logZ`);
  const [vg, vj] = [await scoped(ctx.device, `${what} viterbi`, () => gpu.run('viterbi', p, w)), await js.run('viterbi', p, w)];
  for (let b = 0; b < p.B; b++) {
    const a = Array.from(vg.paths)
      .slice(b * p.T, b * p.T + p.lengths[b])
      .join();
    const e = Array.from(vj.paths)
      .slice(b * p.T, b * p.T + p.lengths[b])
      .join();
    if (a !== e) fail(`${what} viterbi path ${b}: webgpu ${a}, js ${e}`);
  }
  close(vg.scores, vj.scores, lz, `${what} viterbi scores`);
  const [pg, pj] = [await scoped(ctx.device, `${what} posteriors`, () => gpu.run('posteriors', p, w)), await js.run('posteriors', p, w)];
  close(pg.logZ, pj.logZ, lz, `${what} posteriors logZ`);
  for (let i = 0; i < pj.unary.length; i++) {
    if (!(Math.abs(pg.unary[i] - pj.unary[i]) <= unary)) fail(`${what} unary[${i}]: webgpu ${pg.unary[i]}, js ${pj.unary[i]}`);
  }
  close(pg.transCounts, pj.transCounts, counts, `${what} transition counts`);
  const [hg, hj] = [await scoped(ctx.device, `${what} entropy`, () => gpu.run('entropy', p, w)), await js.run('entropy', p, w)];
  close(hg.logZ, hj.logZ, lz, `${what} entropy logZ`);
  close(hg.entropy, hj.entropy, entropy, `${what} entropy`);
}

/** @type {Record<string, (ctx: Ctx) => Promise<string>>} */
export const checks = {
  async randomShapes(ctx) {
    const js = await ctx.JsBackend.create();
    const gpu = new ctx.WebGpuBackend({ device: ctx.device, cpu: js });
    const R = rng(7);
    // K = 1 (one lane), 5 and 33 (several sequences per workgroup), 300 (two tags per lane), T = 1.
    const shapes = [
      [3, 5, 1],
      [4, 6, 5],
      [7, 9, 33],
      [2, 4, 300],
      [5, 1, 3],
      [1, 12, 2],
    ];
    for (const [B, T, K] of shapes) {
      await compareOps(ctx, gpu, js, batch(R, { B, T, K, f64: K === 5 }), `B=${B} T=${T} K=${K}`);
      if (gpu.name !== 'webgpu') fail(`B=${B} T=${T} K=${K}: ran on ${gpu.name}`);
    }
    gpu.dispose();
    return `${shapes.length} shapes`;
  },

  async k1024(ctx) {
    const js = await ctx.JsBackend.create();
    const gpu = new ctx.WebGpuBackend({ device: ctx.device, cpu: js });
    const c = batch(rng(11), { B: 2, T: 3, K: 1024, scale: 3 });
    c.p.lengths[1] = 2;
    await compareOps(ctx, gpu, js, c, 'K=1024', { counts: 1e-3, entropy: 1e-3 });
    gpu.dispose();
    return 'K=1024 (4 tags per lane)';
  },

  async largeEmissions(ctx) {
    const js = await ctx.JsBackend.create();
    const gpu = new ctx.WebGpuBackend({ device: ctx.device, cpu: js });
    const R = rng(13);
    for (const [B, T, K] of [
      [3, 6, 7],
      [2, 5, 40],
    ]) {
      // ±1e4: log Z is ~1e4·T, float32 keeps ~6e-8 relative; the per-row normalisers keep the
      // marginals exact to float32 rounding instead of ulps of log Z.
      await compareOps(ctx, gpu, js, batch(R, { B, T, K, scale: 1e4 }), `±1e4 B=${B} T=${T} K=${K}`, { lz: 1e-6, unary: 1e-4, counts: 1e-4, entropy: 1e-4 });
    }
    gpu.dispose();
    return 'emissions ±1e4';
  },

  async marginalsAtScale(ctx) {
    // Emissions of 1e3 over 300 steps with gaps and −1e4 transitions: stored forward and backward
    // scores carried the rounding of their absolute size (a marginal off by 2.2e-3); normalised per
    // step, the error does not grow with T.
    const js = await ctx.JsBackend.create();
    const gpu = new ctx.WebGpuBackend({ device: ctx.device, cpu: js });
    const R = rng(37);
    const c = batch(R, { B: 3, T: 300, K: 64, scale: 1e3, forbid: 0 });
    for (let i = 0; i < c.w.trans.length; i++) if (R.next() < 0.2) c.w.trans[i] = -1e4;
    c.w.trans[0] = 0;
    await compareOps(ctx, gpu, js, c, 'scale 1e3, T=300, K=64', { lz: 1e-6, unary: 1e-4, counts: 1e-3, entropy: 1e-3 });
    if (gpu.name !== 'webgpu') fail(`scale 1e3: ran on ${gpu.name}`);
    gpu.dispose();
    return 'emissions 1e3, T = 300, K = 64, −1e4 transitions';
  },

  async chunking(ctx) {
    const js = await ctx.JsBackend.create();
    const R = rng(17);
    const c = batch(R, { B: 37, T: 5, K: 6 });
    // Room for about 8 sequences per buffer: every op runs in several submits, counts accumulate.
    const perSeq = 4 * (c.p.T * c.p.K + c.p.T + 3);
    const gpu = new ctx.WebGpuBackend({ device: ctx.device, cpu: js, maxChunkBytes: 8 * perSeq + 4 * (2 * 6 + 3 * 36) + 256 });
    const submits = await countSubmits(ctx.device, () => compareOps(ctx, gpu, js, c, 'chunked'));
    // Four ops; unchunked, each is one submit.
    if (!(submits >= 4 * 4)) fail(`chunked: expected several chunks per op, got ${submits} submits for 4 ops`);
    gpu.dispose();
    return `B=37 in ${submits} submits over 4 ops`;
  },

  async constraints(ctx) {
    const labels = ['O', 'B-PER', 'I-PER', 'B-LOC', 'I-LOC'];
    const constraints = ctx.lib.allowedTransitions('BIO', labels);
    const K = labels.length;
    const R = rng(19);
    const B = 4,
      T = 7;
    const em = Array.from({ length: B }, () => Array.from({ length: T }, () => Array.from({ length: K }, () => 3 * R.normal())));
    const mask = em.map((row, b) => row.map((_, t) => (t === 0 && b === 1 ? 0 : t === 3 && b === 2 ? 0 : t < T - b ? 1 : 0)));
    const tags = em.map((row) => row.map(() => 0));
    /** @type {(backend: import('webcrf').BackendName, extra: import('webcrf').CRFOptions) => Promise<import('webcrf').CRF>} */
    const mk = (backend, extra) => ctx.lib.CRF.create(K, { backend, seed: 3, constraints, ...extra });
    const g = await mk('webgpu', { device: ctx.device });
    const j = await mk('js', {});
    if (g.backend !== 'webgpu') fail(`constraints: CRF ran on ${g.backend}`);
    const dg = await scoped(ctx.device, 'constrained decode', () => g.decode(em, { mask }));
    const dj = await j.decode(em, { mask });
    if (JSON.stringify(dg) !== JSON.stringify(dj)) fail(`constrained decode: webgpu ${JSON.stringify(dg)}, js ${JSON.stringify(dj)}`);
    close(await scoped(ctx.device, 'constrained marginals', () => g.marginals(em, { mask })), await j.marginals(em, { mask }), 2e-4, 'constrained marginals');
    const fg = await scoped(ctx.device, 'constrained forwardBackward', () => g.forwardBackward(em, tags, { mask, reduction: 'none' }));
    const fj = await j.forwardBackward(em, tags, { mask, reduction: 'none' });
    close(fg.logLikelihood, fj.logLikelihood, 2e-5, 'constrained llh');
    close(fg.grads.transitions, fj.grads.transitions, 5e-4, 'constrained transition grads');
    close(await scoped(ctx.device, 'constrained entropy', () => g.entropy(em, { mask })), await j.entropy(em, { mask }), 1e-3, 'constrained entropy');
    for (const v of fg.grads.emissions) if (Number.isNaN(v)) fail('constrained: NaN in emission grads');
    g.dispose();
    j.dispose();
    return 'BIO constraints, gaps, masked first step';
  },

  async concurrent(ctx) {
    const js = await ctx.JsBackend.create();
    const gpu = new ctx.WebGpuBackend({ device: ctx.device, cpu: js });
    const R = rng(23);
    const jobs = Array.from({ length: 24 }, (_, i) => ({ i, c: batch(R, { B: 1 + R.int(5), T: 1 + R.int(8), K: 2 + R.int(9) }) }));
    /** @typedef {(typeof jobs)[number]} Job */
    const run = (/** @type {Job} */ j) =>
      j.i % 3 === 0
        ? gpu.run('logPartition', j.c.p, j.c.w)
        : j.i % 3 === 1
          ? gpu.run('viterbi', j.c.p, j.c.w).then((v) => v.scores)
          : gpu.run('posteriors', j.c.p, j.c.w).then((x) => x.unary);
    const ref = (/** @type {Job} */ j) =>
      j.i % 3 === 0
        ? js.run('logPartition', j.c.p, j.c.w)
        : j.i % 3 === 1
          ? js.run('viterbi', j.c.p, j.c.w).then((v) => v.scores)
          : js.run('posteriors', j.c.p, j.c.w).then((x) => x.unary);
    const got = await scoped(ctx.device, 'concurrent calls', () => Promise.all(jobs.map(run)));
    for (const j of jobs) close(got[j.i], await ref(j), 2e-4, `concurrent job ${j.i}`);
    gpu.dispose();
    return '24 overlapping calls';
  },

  async autoDelegation(ctx) {
    // What auto builds: calls below minWork (B·T·K²) run on the CPU backend, larger ones on the GPU.
    const js = await ctx.JsBackend.create();
    const gpu = new ctx.WebGpuBackend({ device: ctx.device, cpu: js, minWork: 2000 });
    const R = rng(31);
    const small = batch(R, { B: 2, T: 4, K: 5 }); // 200
    const large = batch(R, { B: 8, T: 10, K: 6 }); // 2880
    /** @type {ArrayLike<number>} */
    let z = [];
    const onCpu = await countSubmits(ctx.device, async () => (z = await gpu.run('logPartition', small.p, small.w)));
    close(z, await js.run('logPartition', small.p, small.w), 1e-12, 'small call (CPU)');
    if (onCpu !== 0) fail(`small call ran on the GPU (${onCpu} submits)`);
    const onGpu = await countSubmits(ctx.device, () => scoped(ctx.device, 'large call', async () => (z = await gpu.run('logPartition', large.p, large.w))));
    close(z, await js.run('logPartition', large.p, large.w), 2e-5, 'large call (GPU)');
    if (onGpu === 0) fail('large call did not run on the GPU (no submit)');
    if (gpu.name !== 'webgpu') fail(`auto backend reports ${gpu.name}`);
    gpu.dispose();
    return 'work 200 on the CPU, 2880 on the GPU';
  },

  async deviceLost(ctx) {
    const device = await ctx.newDevice();
    const js = await ctx.JsBackend.create();
    const cpu = await ctx.JsBackend.create();
    const gpu = new ctx.WebGpuBackend({ device, cpu });
    const R = rng(29);
    const c = batch(R, { B: 3, T: 6, K: 4 });
    /** @type {string[]} */
    const warnings = [];
    const warn = console.warn;
    console.warn = (...a) => warnings.push(a.join(' '));
    try {
      close(await gpu.run('logPartition', c.p, c.w), await js.run('logPartition', c.p, c.w), 2e-5, 'before loss');
      if (gpu.name !== 'webgpu') fail(`before loss: name ${gpu.name}`);
      // The call in flight when the device goes, and every later one, run on the CPU backend.
      const inFlight = gpu.run('posteriors', c.p, c.w);
      device.destroy();
      const post = await inFlight;
      const ref = await js.run('posteriors', c.p, c.w);
      close(post.unary, ref.unary, 2e-4, 'in-flight posteriors after loss');
      close(post.logZ, ref.logZ, 2e-5, 'in-flight logZ after loss');
      close(await gpu.run('logPartition', c.p, c.w), await js.run('logPartition', c.p, c.w), 1e-12, 'logZ after loss');
      const v = await gpu.run('viterbi', c.p, c.w);
      close(v.scores, (await js.run('viterbi', c.p, c.w)).scores, 1e-12, 'viterbi after loss');
      if (gpu.name !== cpu.name) fail(`after loss: name ${gpu.name}, expected ${cpu.name}`);
      if (!warnings.some((w) => /device lost/.test(w))) fail(`after loss: no warning (got ${JSON.stringify(warnings)})`);
    } finally {
      console.warn = warn;
    }
    // Through the public API: crf.backend reports the fallback.
    const d2 = await ctx.newDevice();
    const crf = await ctx.lib.CRF.create(4, { backend: 'webgpu', device: d2, seed: 1 });
    const em = [
      [
        [1, 2, 0, -1],
        [0, 1, 3, 2],
      ],
    ];
    const before = await crf.logPartition(em);
    console.warn = () => {};
    try {
      d2.destroy();
      const after = await crf.logPartition(em);
      close(after, before, 1e-5, 'CRF logZ after loss');
      if (crf.backend === 'webgpu') fail('CRF.backend still says webgpu after the device was lost');
    } finally {
      console.warn = warn;
    }
    const name = crf.backend;
    crf.dispose();
    gpu.dispose();
    return `fell back to ${cpu.name}; CRF reports ${name}`;
  },
};
