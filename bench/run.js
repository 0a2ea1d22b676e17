// Throughput and latency of the BUILT package (dist/, through its `exports`, as a user imports it), with
// pytorch-crf and a plain C implementation measured in the same run for the ratios. Run `npm run build`
// first (npm run bench does).
//   node bench/run.js [--backends=js,wasm,webgpu] [--ops=forward,decode,forwardBackward]
//                     [--shapes=32x128x9,1x128x9] [--min-ms=400] [--threads=1,2]
//                     [--peers=pytorch-crf,native-c|none] [--latency=yes|no] [--markdown=README.md,...]
// Prints one JSON line per measurement (kind: throughput, latency, coldStart, size, skipped), then a Markdown
// summary: tokens per second per op, the ratios to pytorch-crf and native C, and the latencies.
// --markdown writes that summary into each named file, between <!-- bench:start --> and <!-- bench:end -->.
// Backends default to every one this Node process can run (scripts/node-backends.js: webgpu where the
// `webgpu` package finds an adapter). Each (backend, op, shape) is warmed for 300 ms before it is timed:
// V8 runs new WebAssembly on its baseline tier and optimises it in the background.
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import * as lib from 'webcrf';
import { nodeBackends } from '../scripts/node-backends.js';
import { rng } from '../test/suites/oracle.js';
import { callLatency, coldStart } from './latency.js';
import { nativeC, pytorchCrf } from './peers.js';
import { measure as downloadSize } from '../scripts/size.js';

/** @type {Record<string, string>} */
const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
const list = (/** @type {string | undefined} */ s, /** @type {string} */ dflt) => (s ?? dflt).split(',').filter(Boolean);
const SHAPES = list(args.shapes, '1x32x9,32x128x9,32x128x32,32x128x128,1x128x9,256x64x9,512x32x9,8x1024x9').map((s) => s.split('x').map(Number));
const OPS = list(args.ops, 'forward,decode,forwardBackward');
const MIN_MS = Number(args['min-ms'] ?? 400);
const WARM_MS = 300;
const THREADS = list(args.threads, '1,auto');
const PEERS = list(args.peers, 'pytorch-crf,native-c').filter((p) => p !== 'none');
const LATENCY = (args.latency ?? 'yes') !== 'no';
const wanted = args.backends ? args.backends.split(',') : null;

/** @type {Record<string, (crf: lib.CRF, em: lib.EmissionsInput, tags: lib.TagsInput) => Promise<unknown>>} */
const RUN = {
  forward: (crf, em, tags) => crf.forward(em, tags),
  decode: (crf, em) => crf.decode(em),
  forwardBackward: (crf, em, tags) => crf.forwardBackward(em, tags),
};

/** @typedef {{ backend: string, threads?: string, op: string, B: number, T: number, K: number, tokensPerSec: number, msPerCall: number, calls: number }} Row */
/** @type {Row[]} */
const rows = [];
const emit = (/** @type {Record<string, unknown>} */ line) => console.log(JSON.stringify(line));

const backends = (await nodeBackends(lib)).filter((b) => !wanted || wanted.includes(b.name));
for (const [B, T, K] of SHAPES) {
  const r = rng(B * 1_000_003 + T * 1009 + K).next;
  // Emissions of a trained tagger's scale (logits within a few units), f32 as a model hands them over.
  const data = new Float32Array(B * T * K).map(() => (r() * 2 - 1) * 4);
  const em = { data, shape: [B, T, K] };
  const tags = { data: Int32Array.from({ length: B * T }, () => Math.floor(r() * K)), shape: [B, T] };
  for (const { name, options } of backends) {
    // Threads split a call's batch across workers running the WASM kernels; other backends have one.
    for (const threads of name === 'wasm' ? THREADS : ['1']) {
      /** @type {lib.CRFOptions} */
      const opts = { backend: name, seed: 7, ...options, ...(threads === '1' ? {} : { threads: threads === 'auto' ? 'auto' : Number(threads) }) };
      const crf = await lib.CRF.create(K, opts);
      for (const op of OPS) {
        const w0 = performance.now();
        do await RUN[op](crf, em, tags);
        while (performance.now() - w0 < WARM_MS && name !== 'js');
        let calls = 0;
        const t0 = performance.now();
        let dt = 0;
        while (dt < MIN_MS || calls < 3) {
          await RUN[op](crf, em, tags);
          calls++;
          dt = performance.now() - t0;
          if (dt > MIN_MS * 20) break; // the float64 reference at K=128: a few calls are enough
        }
        const msPerCall = dt / calls;
        /** @type {Row} */
        const row = {
          backend: crf.backend,
          ...(name === 'wasm' ? { threads } : {}),
          op,
          B,
          T,
          K,
          tokensPerSec: Math.round((B * T) / (msPerCall / 1000)),
          msPerCall: Number(msPerCall.toFixed(4)),
          calls,
        };
        rows.push(row);
        emit({ kind: 'throughput', ...row });
      }
      crf.dispose();
    }
  }
}

for (const peer of PEERS) {
  const run = { 'pytorch-crf': pytorchCrf, 'native-c': nativeC }[peer];
  if (!run) throw new Error(`--peers: unknown peer ${peer} (pytorch-crf, native-c, none)`);
  const got = run(SHAPES, OPS, MIN_MS);
  if (got.skipped) emit({ kind: 'skipped', backend: got.name, reason: got.skipped });
  for (const row of got.rows) {
    rows.push(row);
    emit({ kind: 'throughput', ...row });
  }
}

/** @type {import('./latency.js').Latency[]} */
const latencies = [];
/** @type {ReturnType<typeof coldStart>[]} */
const colds = [];
if (LATENCY && backends.some((b) => b.name === 'wasm')) {
  for (const l of await callLatency(lib, { backend: 'wasm' }, [1, 32, 9])) {
    latencies.push(l);
    emit({ kind: 'latency', backend: 'wasm', ...l });
  }
  const c = coldStart('wasm', [1, 32, 9]);
  colds.push(c);
  emit({ kind: 'coldStart', ...c });
}
// What a wasm-only page downloads (scripts/size.js): gzip bytes, the eager JS and the kernels.
const size = LATENCY ? await downloadSize() : null;
if (size)
  emit({
    kind: 'size',
    pageEagerGzip: size.page.eagerGzip,
    unbundledEagerGzip: size.unbundled.eagerGzip,
    simdWasmGzip: size.wasm.simd.gzip,
    problems: size.problems,
  });

/** @type {string[]} */
const summary = [];
const say = (/** @type {string} */ line) => summary.push(line);
// The summary: M tokens/s per op, then each peer's ratio (webcrf's tokens/s over the peer's).
const M = (/** @type {number} */ x) => (x >= 1e7 ? (x / 1e6).toFixed(1) : x >= 1e6 ? (x / 1e6).toFixed(2) : (x / 1e6).toFixed(3));
const find = (/** @type {Partial<Row>} */ q) => rows.find((x) => Object.entries(q).every(([k, v]) => /** @type {Record<string, unknown>} */ (x)[k] === v));
const ours = [
  ...new Set(rows.filter((x) => x.backend !== 'pytorch-crf' && x.backend !== 'native-c').map((x) => `${x.backend}${x.threads ? `:${x.threads}` : ''}`)),
];
const peersHere = ['pytorch-crf', 'native-c'].filter((p) => rows.some((x) => x.backend === p));
say(
  `Measured ${new Date().toISOString().slice(0, 10)} in one run of \`npm run bench\` on ${cpus()[0]?.model ?? 'an unknown CPU'} (${cpus().length} cores), Node ${process.versions.node}; steady state, each op warmed for ${WARM_MS} ms first.\n`,
);
say('M tokens/s per op (' + OPS.join(' / ') + '); × peer = webcrf over the peer, same op and shape.\n');
const header = [
  'B, T, K',
  ...ours.map((o) => `${o.replace(/:1$/, '').replace(/:(\w+)$/, ' ×$1 threads')}`),
  ...peersHere.flatMap((p) => ours.filter((o) => o.startsWith('wasm')).map((o) => `${o.replace(/:1$/, '').replace(/:(\w+)$/, ' ×$1')} × ${p}`)),
];
say(`| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|`);
for (const [B, T, K] of SHAPES) {
  const cells = [`${B}, ${T}, ${K}`];
  const get = (/** @type {string} */ o, /** @type {string} */ op) => {
    const [backend, threads] = o.split(':');
    return find({ backend, ...(threads ? { threads } : {}), op, B, T, K })?.tokensPerSec;
  };
  for (const o of ours) cells.push(OPS.map((op) => (get(o, op) ? M(/** @type {number} */ (get(o, op))) : '–')).join(' / '));
  for (const p of peersHere) {
    for (const o of ours.filter((x) => x.startsWith('wasm'))) {
      cells.push(
        OPS.map((op) => {
          const a = get(o, op);
          const b = find({ backend: p, op, B, T, K })?.tokensPerSec;
          return a && b ? `${(a / b).toFixed(a / b >= 10 ? 0 : 2)}` : '–';
        }).join(' / '),
      );
    }
  }
  say(`| ${cells.join(' | ')} |`);
}
for (const l of latencies) say(`\n${l.op} (${l.B}, ${l.T}, ${l.K}) on wasm: ${l.backToBackUs} µs back to back, ${l.afterIdleUs} µs after 50 ms idle (median).`);
for (const c of colds)
  say(
    `\nCold start (${c.backend}, first decode of (${c.B}, ${c.T}, ${c.K}) in a fresh process): ${c.totalMs} ms (import ${c.importMs}, create ${c.createMs}, first call ${c.firstCallMs}).`,
  );

if (size) {
  const kB = (/** @type {number} */ n) => (n / 1000).toFixed(1);
  say(
    `\nDownload of a wasm-only page (gzip): ${kB(size.page.eagerGzip)} kB of JS bundled by esbuild (${kB(size.unbundled.eagerGzip)} kB without a bundler), plus ${kB(size.wasm.simd.gzip)} kB of kernels (webcrf.simd.wasm, where the bundler emits it as Vite and webpack do; esbuild does not, and its pages load the kernels' inline copy instead).`,
  );
}
console.log(summary.join('\n'));
for (const file of list(args.markdown, '')) {
  const text = readFileSync(file, 'utf8');
  const [start, end] = ['<!-- bench:start -->', '<!-- bench:end -->'];
  const a = text.indexOf(start),
    b = text.indexOf(end);
  if (a < 0 || b < a) throw new Error(`--markdown: ${file} has no ${start} … ${end} block`);
  // Formatted as npm run lint checks it (Prettier aligns the table).
  const prettier = await import('prettier');
  const updated = `${text.slice(0, a + start.length)}\n${summary.join('\n').trim()}\n${text.slice(b)}`;
  writeFileSync(file, await prettier.format(updated, { ...(await prettier.resolveConfig(file)), filepath: file }));
}
