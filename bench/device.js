// The GPU bench that bench/device.sh runs on a lent machine (from the folder scripts/device-pack.js makes):
// webcrf's webgpu backend in Node (Dawn, the `webgpu` package) through the public API, each call with its
// readback, beside webcrf's wasm backend on the same machine's CPU (one thread and `threads: 'auto'`),
// pytorch-crf on CUDA (on the CPU, one thread, where PyTorch sees no GPU), and a CRF written in tfjs ops,
// trained by one Adam step per call on tfjs's webgpu backend (autodiff: what a tfjs user has without
// webcrf). Writes device-bench.md and device-bench.json into --out (default: $OUT, else ./device-out).
//   node bench.js [--quick] [--shapes=32x128x9,512x128x128] [--ops=decode,forward,forwardBackward]
//                 [--min-ms=300] [--no-tfjs] [--out=DIR]
// --quick: tiny shapes and short timings, to check the whole path on SwiftShader before a device run.
// Figures from a software adapter (SwiftShader, llvmpipe) are marked: they say nothing about GPU speed.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as lib from 'webcrf';

const here = fileURLToPath(new URL('.', import.meta.url));
/** @type {Record<string, string>} */
const args = Object.fromEntries(process.argv.slice(2).map((a) => [a.replace(/^--/, '').split('=')[0], a.split('=')[1] ?? 'yes']));
const quick = args.quick === 'yes';
const list = (/** @type {string | undefined} */ s, /** @type {string} */ dflt) => (s ?? dflt).split(',').filter(Boolean);
const SHAPES = list(args.shapes, quick ? '2x8x5,8x16x9' : '32x128x9,512x128x9,512x128x32,512x128x128').map((s) => s.split('x').map(Number));
const OPS = list(args.ops, 'decode,forward,forwardBackward');
const MIN_MS = Number(args['min-ms'] ?? (quick ? 20 : 300));
const TFJS = args['no-tfjs'] !== 'yes';
const OUT = args.out ?? process.env.OUT ?? join(process.cwd(), 'device-out');

/** @typedef {{ backend: string, op: string, B: number, T: number, K: number, tokensPerSec: number, msPerCall: number, calls: number, software?: boolean }} Row */
/** @type {Row[]} */
const rows = [];
/** @type {{ what: string, reason: string }[]} */
const skipped = [];
/** @type {Record<string, unknown>} */
const checks = {};
const log = (/** @type {string} */ s) => console.log(s);

/** Deterministic uniforms in [0, 1) (mulberry32), the same stream for every backend at a shape. */
function rng(/** @type {number} */ seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Emissions at a trained tagger's scale (logits within a few units) and random gold tags. */
function inputs(/** @type {number[]} */ [B, T, K]) {
  const r = rng(B * 1_000_003 + T * 1009 + K);
  return {
    em: { data: new Float32Array(B * T * K).map(() => (r() * 2 - 1) * 4), shape: [B, T, K] },
    tags: { data: Int32Array.from({ length: B * T }, () => Math.floor(r() * K)), shape: [B, T] },
  };
}

/**
 * Milliseconds per call, after warming for as long as a timed run (V8 tiers up the WebAssembly, the
 * driver compiles the pipelines).
 * @param {() => Promise<unknown>} call
 */
async function time(call) {
  const w0 = performance.now();
  do await call();
  while (performance.now() - w0 < MIN_MS);
  let calls = 0;
  const t0 = performance.now();
  let dt = 0;
  while (dt < MIN_MS || calls < 3) {
    await call();
    calls++;
    dt = performance.now() - t0;
    if (dt > MIN_MS * 20) break;
  }
  return { msPerCall: dt / calls, calls };
}

/** @param {string} backend @param {string} op @param {number[]} shape @param {{ msPerCall: number, calls: number }} t @param {boolean} [software] */
function record(backend, op, [B, T, K], { msPerCall, calls }, software) {
  /** @type {Row} */
  const row = { backend, op, B, T, K, tokensPerSec: Math.round((B * T) / (msPerCall / 1000)), msPerCall: Number(msPerCall.toFixed(4)), calls };
  if (software) row.software = true;
  rows.push(row);
  log(JSON.stringify(row));
}

// A software adapter: the same test webcrf's `auto` makes before it declines one.
/** @param {GPUAdapterInfo | undefined} info */
const isSoftware = (info) =>
  info?.architecture === 'swiftshader' || /swiftshader|llvmpipe|lavapipe|warp/i.test(`${info?.description ?? ''} ${info?.device ?? ''}`);

/** The GPU through Dawn: the adapter's info and a device with the adapter's buffer limits, or the reason there is none. */
async function gpu() {
  try {
    const { create, globals } = await import('webgpu');
    Object.assign(globalThis, globals);
    const instance = create([]);
    const adapter = await instance.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) return { reason: 'Dawn found no WebGPU adapter (see the Vulkan lines above)' };
    const { vendor, architecture, device: name, description } = adapter.info;
    const info = { vendor, architecture, device: name, description, software: isSoftware(adapter.info) };
    const device = await adapter.requestDevice({
      requiredLimits: { maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize, maxBufferSize: adapter.limits.maxBufferSize },
    });
    return { instance, device, info };
  } catch (e) {
    return { reason: `webgpu package: ${/** @type {Error} */ (e).message}` };
  }
}

/**
 * A linear-chain CRF's negative log-likelihood in tfjs ops (forward algorithm over time, gold-path score
 * by one-hot and gather), so that tfjs's autodiff gives the gradients.
 * @param {any} tf
 * @param {number[]} shape
 * @param {{ data: Float32Array }} em
 * @param {{ data: Int32Array }} tags
 * @param {{ start: Float32Array, end: Float32Array, trans: Float32Array }} params
 */
function tfjsCrf(tf, [B, T, K], em, tags, params) {
  const v = {
    em: tf.variable(tf.tensor3d(em.data, [B, T, K])),
    start: tf.variable(tf.tensor1d(params.start)),
    end: tf.variable(tf.tensor1d(params.end)),
    trans: tf.variable(tf.tensor2d(params.trans, [K, K])),
  };
  // Functional ops only: tfjs-core alone registers no chained tensor methods.
  const tg = tf.tensor2d(tags.data, [B, T], 'int32');
  const oneHot = tf.keep(tf.cast(tf.oneHot(tg, K), 'float32'));
  const first = tf.keep(tf.reshape(tf.slice(oneHot, [0, 0, 0], [B, 1, K]), [B, K]));
  const last = tf.keep(tf.reshape(tf.slice(oneHot, [0, T - 1, 0], [B, 1, K]), [B, K]));
  const pairs = tf.keep(
    tf.tidy(() => tf.reshape(tf.add(tf.mul(tf.slice(tg, [0, 0], [B, T - 1]), tf.scalar(K, 'int32')), tf.slice(tg, [0, 1], [B, T - 1])), [-1])),
  );
  tg.dispose();
  const nll = () =>
    tf.tidy(() => {
      const steps = tf.unstack(v.em, 1);
      let alpha = tf.add(steps[0], v.start);
      for (let t = 1; t < T; t++) alpha = tf.add(tf.logSumExp(tf.add(tf.expandDims(alpha, 2), v.trans), 1), steps[t]);
      const logZ = tf.sum(tf.logSumExp(tf.add(alpha, v.end), 1));
      const parts = [tf.sum(tf.mul(v.em, oneHot)), tf.sum(tf.mul(first, v.start)), tf.sum(tf.mul(last, v.end))];
      if (T > 1) parts.push(tf.sum(tf.gather(tf.reshape(v.trans, [K * K]), pairs)));
      return tf.sub(logZ, tf.addN(parts));
    });
  const opt = tf.train.adam(1e-3);
  return {
    nll,
    step: async () => {
      const cost = opt.minimize(nll, true, [v.em, v.start, v.end, v.trans]);
      await cost.data();
      cost.dispose();
    },
    dispose: () => {
      tf.dispose([v.em, v.start, v.end, v.trans, oneHot, first, last, pairs]);
      opt.dispose();
    },
  };
}

/**
 * The same step through webcrf/tfjs: the emissions a variable, the loss `-crf.forward(em, tags)`, whose
 * kernels run on tfjs's device inside its command encoder (the GPU route), Adam over all four.
 * @param {any} tf
 * @param {any} TfjsCRF
 * @param {number[]} shape
 * @param {{ data: Float32Array }} em
 * @param {{ data: Int32Array }} tags
 * @param {import('webcrf').StateDict} sd
 */
async function webcrfTfjs(tf, TfjsCRF, [B, T, K], em, tags, sd) {
  const crf = await TfjsCRF.create(K);
  crf.loadStateDict(sd);
  const x = tf.variable(tf.tensor3d(em.data, [B, T, K]));
  const tg = tf.tensor2d(tags.data, [B, T], 'int32');
  const nll = () => tf.neg(crf.forward(x, tg));
  const opt = tf.train.adam(1e-3);
  return {
    nll,
    step: async () => {
      const cost = opt.minimize(nll, true, [x, ...Object.values(crf.variables)]);
      await cost.data();
      cost.dispose();
    },
    dispose: () => {
      tf.dispose([x, tg]);
      opt.dispose();
      crf.dispose();
    },
  };
}

/** tfjs-core with its webgpu backend, from the pack's bundle (tfjs-webgpu.js), on its own device. */
async function tfjsWebgpu(/** @type {any} */ instance) {
  const bundle = join(here, 'tfjs-webgpu.js');
  if (!existsSync(bundle)) return { reason: 'no tfjs-webgpu.js beside bench.js (scripts/device-pack.js without --no-tfjs writes it)' };
  // The backend looks for navigator.gpu when its module is evaluated; Node 20 has no navigator.
  Object.defineProperty(globalThis, 'navigator', { value: { gpu: instance, userAgent: 'node' }, configurable: true, writable: true });
  const { tf, TfjsCRF } = await import(bundle);
  if (!(await tf.setBackend('webgpu'))) return { reason: "tfjs's webgpu backend did not initialise" };
  return { tf, TfjsCRF };
}

// ---- run ----
log(`node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'})`);
const g = await gpu();
const adapter = g.info ?? null;
if (adapter) log(`WebGPU adapter: ${JSON.stringify(adapter)}${adapter.software ? '  <- a software adapter: its figures are not GPU figures' : ''}`);
else {
  log(`no WebGPU: ${g.reason}`);
  skipped.push({ what: 'webgpu', reason: /** @type {string} */ (g.reason) });
}

/** @type {{ name: string, options: import('webcrf').CRFOptions }[]} */
const backends = [];
if (g.device) backends.push({ name: 'webgpu', options: { backend: 'webgpu', device: g.device } });
backends.push({ name: 'wasm', options: { backend: 'wasm' } }, { name: 'wasm threads:auto', options: { backend: 'wasm', threads: 'auto' } });

const TFJS_ROW = 'tfjs webgpu (ops, autodiff) + Adam step';
const WEBCRF_TFJS_ROW = 'webcrf/tfjs on tfjs webgpu + Adam step';
/** @type {any} */
let tf = null;
/** @type {any} */
let TfjsCRF = null;
if (TFJS && g.instance) {
  const t = await tfjsWebgpu(g.instance);
  if (t.tf) ({ tf, TfjsCRF } = t);
  else skipped.push({ what: 'tfjs webgpu', reason: /** @type {string} */ (t.reason) });
} else if (TFJS) skipped.push({ what: 'tfjs webgpu', reason: 'no WebGPU adapter' });

/** @type {Record<string, (crf: lib.CRF, em: lib.EmissionsInput, tags: lib.TagsInput) => Promise<unknown>>} */
const RUN = {
  decode: (crf, em) => crf.decode(em),
  forward: (crf, em, tags) => crf.forward(em, tags),
  forwardBackward: (crf, em, tags) => crf.forwardBackward(em, tags),
};

for (const shape of SHAPES) {
  const { em, tags } = inputs(shape);
  /** @type {lib.CRF | null} */
  let reference = null;
  for (const { name, options } of backends) {
    // One failing backend costs its rows, not the rest of a run on a lent machine.
    try {
      const crf = await lib.CRF.create(shape[2], { ...options, seed: 7 });
      for (const op of OPS) record(name, op, shape, await time(() => RUN[op](crf, em, tags)), name === 'webgpu' && !!adapter?.software);
      if (name === 'wasm') reference = crf;
      else crf.dispose();
    } catch (e) {
      skipped.push({ what: `${name} at ${shape.join('x')}`, reason: String(/** @type {Error} */ (e)?.message ?? e) });
    }
  }
  if (tf && reference) {
    try {
      const p = reference.parameters();
      const m = tfjsCrf(tf, shape, em, tags, { start: p.startTransitions, end: p.endTransitions, trans: p.transitions });
      // The tfjs CRF computes what webcrf computes: its NLL against webcrf's log-likelihood, same parameters.
      const got = tf.tidy(() => m.nll());
      const nll = (await got.data())[0];
      got.dispose();
      const llh = await reference.forward(em, tags);
      checks[`tfjs NLL vs webcrf, ${shape.join('x')}`] = { tfjs: nll, webcrf: -llh, relDiff: Math.abs(nll + llh) / Math.max(1, Math.abs(llh)) };
      record(TFJS_ROW, 'trainStep', shape, await time(m.step), !!adapter?.software);
      m.dispose();
    } catch (e) {
      skipped.push({ what: `tfjs webgpu at ${shape.join('x')}`, reason: String(/** @type {Error} */ (e)?.message ?? e) });
    }
    try {
      const m = await webcrfTfjs(tf, TfjsCRF, shape, em, tags, reference.stateDict());
      const got = tf.tidy(() => m.nll());
      const nll = (await got.data())[0];
      got.dispose();
      const llh = await reference.forward(em, tags);
      checks[`webcrf/tfjs NLL vs webcrf, ${shape.join('x')}`] = { tfjs: nll, webcrf: -llh, relDiff: Math.abs(nll + llh) / Math.max(1, Math.abs(llh)) };
      record(WEBCRF_TFJS_ROW, 'trainStep', shape, await time(m.step), !!adapter?.software);
      m.dispose();
    } catch (e) {
      skipped.push({ what: `webcrf/tfjs webgpu at ${shape.join('x')}`, reason: String(/** @type {Error} */ (e)?.message ?? e) });
    }
  }
  reference?.dispose();
}

// pytorch-crf: from the pack's torchcrf/, on CUDA where PyTorch sees it.
const torchcrf = process.env.PYTORCH_CRF_SRC ?? join(here, 'torchcrf');
const script = existsSync(join(here, 'pytorch_crf.py')) ? join(here, 'pytorch_crf.py') : join(here, '..', 'bench', 'pytorch_crf.py');
if (!existsSync(join(torchcrf, '__init__.py')) && !existsSync(join(torchcrf, 'torchcrf', '__init__.py')))
  skipped.push({ what: 'pytorch-crf', reason: `no torchcrf/__init__.py at ${torchcrf} (scripts/device-pack.js copies it from PYTORCH_CRF_SRC)` });
else {
  // The first python that imports torch (on the lent machines, python3 is the image's PyTorch one).
  const py =
    [process.env.PYTHON, 'python3', '/usr/bin/python3'].find((p) => p && spawnSync(p, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0) ?? 'python3';
  const r = spawnSync(py, [script, SHAPES.map((s) => s.join('x')).join(','), OPS.join(','), String(MIN_MS), 'auto'], {
    encoding: 'utf8',
    env: { ...process.env, PYTORCH_CRF_SRC: torchcrf },
    maxBuffer: 1 << 24,
  });
  if (r.status !== 0) skipped.push({ what: 'pytorch-crf', reason: `${py} pytorch_crf.py: ${(r.error?.message ?? r.stderr ?? '').trim().split('\n').pop()}` });
  for (const l of (r.stdout ?? '').split('\n').filter((x) => x.startsWith('{'))) {
    rows.push(JSON.parse(l));
    log(l);
  }
}

// ---- report ----
const mtok = (/** @type {number} */ n) => (n >= 1e8 ? (n / 1e6).toFixed(0) : n >= 1e7 ? (n / 1e6).toFixed(1) : (n / 1e6).toPrecision(3));
const cols = [...new Set(rows.map((r) => r.backend))];
const opsOf = (/** @type {string} */ b) => (b.includes('tfjs') ? ['trainStep'] : OPS);
const md = [
  `# webcrf device bench`,
  '',
  `Measured ${new Date().toISOString().slice(0, 10)} with bench/device.js: node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}).`,
  adapter
    ? `WebGPU adapter (Dawn): ${[adapter.vendor, adapter.architecture, adapter.device, adapter.description].filter(Boolean).join(' / ')}.` +
      (adapter.software ? ' **Software adapter: the webgpu and tfjs figures below (marked *) are CPU emulation, not GPU figures.**' : '')
    : `No WebGPU adapter: ${g.reason}.`,
  '',
  `M tokens/s per op (${OPS.join(' / ')}; tfjs: one training step, forward + backward + Adam). Each call is timed to its`,
  `result in JS (webgpu: with the readback; pytorch-crf on CUDA: to torch.cuda.synchronize()).`,
  '',
  `| B, T, K | ${cols.map((c) => `${c} (${opsOf(c).join(' / ')})`).join(' | ')} |`,
  `| --- | ${cols.map(() => '---').join(' | ')} |`,
  ...SHAPES.map(
    (s) =>
      `| ${s.join(', ')} | ${cols
        .map((c) =>
          opsOf(c)
            .map((op) => {
              const r = rows.find((x) => x.backend === c && x.op === op && x.B === s[0] && x.T === s[1] && x.K === s[2]);
              return r ? `${mtok(r.tokensPerSec)}${r.software ? '*' : ''}` : '–';
            })
            .join(' / '),
        )
        .join(' | ')} |`,
  ),
  '',
  ...Object.entries(checks).map(([k, v]) => `- ${k}: ${JSON.stringify(v)}`),
  ...skipped.map((s) => `- skipped ${s.what}: ${s.reason}`),
  '',
];
mkdirSync(OUT, { recursive: true });
writeFileSync(join(OUT, 'device-bench.md'), md.join('\n'));
writeFileSync(join(OUT, 'device-bench.json'), JSON.stringify({ adapter, cpus: cpus().length, node: process.version, rows, checks, skipped }, null, 1) + '\n');
log(md.join('\n'));
log(`wrote ${join(OUT, 'device-bench.md')} and device-bench.json`);
// Dawn's instance and device keep the event loop alive.
process.exit(0);
