// The demo page: loads the built package as a user would (plain ESM from dist/, no bundler; tfjs from
// node_modules/, by the import map of index.html), finds which backends work here, trains a tfjs tagger
// under webcrf/tfjs's CRF, shows the decode, the lattice of one sentence and, on request, a benchmark. <body data-state> tells scripts where it is:
// loading → training → trained (or error); <body data-bench> does the same for the benchmark.
import * as lib from 'webcrf';
import { LABELS, UNK, makeSentences, rng, score } from './task.js';
import { drawBars, drawLattice, drawLoss } from './plot.js';
import { SIZES, benchmark } from './bench.js';
import { createModel } from './model.js';

const { CRF, allowedFromTags } = lib;
/** @type {lib.BackendName[]} */
const BACKENDS = ['webgpu', 'wasm', 'js'];
/** @type {Record<string, string>} */
const COLOURS = { webgpu: '#7c3aed', wasm: '#f59e0b', js: '#2563eb' };
const EPOCHS = 40;
const quick = new URLSearchParams(location.search).has('quick');
/** What each tag means, shown on hover: the chips name the tags themselves. */
const TAG_TITLES = [
  'O: outside any name',
  'B-PER: first word of a person',
  'I-PER: later word of a person',
  'B-LOC: first word of a place',
  'I-LOC: later word of a place',
];
/**
 * The elements of index.html this script uses, by id.
 * @typedef {{ error: HTMLDivElement, 'gpu-info': HTMLElement, 'simd-info': HTMLElement, 'auto-info': HTMLElement, 'tfjs-info': HTMLElement,
 *   backends: HTMLUListElement, 'progress-bar': HTMLDivElement, 'train-status': HTMLParagraphElement,
 *   loss: HTMLCanvasElement, scores: HTMLTableElement, decoded: HTMLDivElement, 'sentence-pick': HTMLSelectElement,
 *   heatmap: HTMLCanvasElement, 'lattice-fixed': HTMLSpanElement, 'lattice-clear': HTMLButtonElement,
 *   topk: HTMLOListElement, 'bench-run': HTMLButtonElement, 'bench-status': HTMLSpanElement,
 *   'bench-chart': HTMLCanvasElement, 'bench-table': HTMLTableElement, 'bench-placeholder': HTMLParagraphElement,
 *   'bench-software': HTMLParagraphElement }} Elements
 */
/** @type {<I extends keyof Elements>(id: I) => Elements[I]} */
const $ = (id) => /** @type {any} */ (document.getElementById(id));
/**
 * @template {keyof HTMLElementTagNameMap} N
 * @param {N} tag @param {Partial<HTMLElementTagNameMap[N]>} [props] @param {...(Node | string)} kids
 */
function el(tag, props = {}, ...kids) {
  const n = Object.assign(document.createElement(tag), props);
  n.append(...kids);
  return n;
}

/** @param {unknown} e */
function fail(e) {
  document.body.dataset.state = 'error';
  $('error').hidden = false;
  $('error').textContent = `Error: ${/** @type {Error | undefined} */ (e)?.message ?? e}`;
}
window.addEventListener('unhandledrejection', (ev) => fail(ev.reason));

const nextFrame = () => new Promise((r) => setTimeout(r, 0));

/** A tiny module whose only function returns a v128 (i8x16.splat, i8x16.popcnt): it validates iff
 * the engine has fixed-width SIMD. */
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11]);

// A software adapter (SwiftShader, llvmpipe, WARP): the same test the package makes before its `auto`
// declines one. Its WebGPU figures measure CPU emulation, so the page says so wherever they appear.
/** @param {Partial<GPUAdapterInfo>} i */
const isSoftware = (i) => i.architecture === 'swiftshader' || /swiftshader|llvmpipe|lavapipe|warp/i.test(`${i.description ?? ''} ${i.device ?? ''}`);

async function detect() {
  let gpu = 'not exposed (navigator.gpu is missing)';
  let software = false;
  if (navigator.gpu) {
    try {
      const a = await navigator.gpu.requestAdapter();
      if (!a) gpu = 'navigator.gpu present, but no adapter';
      else {
        const i = a.info ?? {};
        gpu = [i.vendor, i.architecture, i.device, i.description].filter(Boolean).join(' · ') || 'adapter (no info)';
        // GPUAdapter.isFallbackAdapter is the older browsers' place for it (now GPUAdapterInfo's).
        if (/** @type {GPUAdapter & { isFallbackAdapter?: boolean }} */ (a).isFallbackAdapter || i.isFallbackAdapter) gpu += ' (fallback adapter)';
        software = isSoftware(i);
      }
    } catch (e) {
      gpu = `requestAdapter failed: ${/** @type {Error} */ (e).message}`;
    }
  }
  $('gpu-info').textContent = gpu;
  if (software) $('gpu-info').append(' ', el('strong', { className: 'software', textContent: 'software adapter: CPU emulation, not a GPU' }));
  $('simd-info').textContent = WebAssembly.validate(SIMD_PROBE) ? 'supported' : 'not supported';

  // A backend counts as available when CRF.create with it succeeds here: this picks up backends as the
  // package gains them, and reports why one is missing.
  /** @type {lib.BackendName[]} */
  const available = [];
  for (const name of BACKENDS) {
    let why = '';
    try {
      const c = await CRF.create(LABELS.length, { backend: name });
      c.dispose();
      available.push(name);
    } catch (e) {
      why = /** @type {Error | undefined} */ (e)?.message ?? String(e);
    }
    $('backends').append(
      el('li', { className: why ? 'no' : 'ok', title: why || 'CRF.create succeeded', textContent: `${name}: ${why ? 'unavailable' : 'available'}` }),
    );
  }
  const auto = await CRF.create(LABELS.length);
  $('auto-info').textContent = `${auto.backend} (for K = ${LABELS.length})`;
  auto.dispose();
  return { available, software };
}

/** @param {number} id */
function tagChip(id, wrong = false) {
  return el('span', { className: `tag ${LABELS[id]}${wrong ? ' wrong' : ''}`, textContent: LABELS[id], title: TAG_TITLES[id] });
}

async function train() {
  document.body.dataset.state = 'training';
  const trainSet = makeSentences(150, 1);
  const heldOut = makeSentences(40, 2, true);
  const model = await createModel(trainSet);
  const { crf } = model;
  $('tfjs-info').textContent = model.backend;
  const rand = rng(3);
  /** @type {number[]} */
  const losses = [];
  // Tensors tfjs holds after each step, for the page test: a step that leaks shows as a count that grows.
  /** @type {number[]} */
  const tensors = [];
  const t0 = performance.now();
  for (let epoch = 1; epoch <= EPOCHS; epoch++) {
    const loss = await model.step(model.encode(trainSet, rand, 0.1));
    losses.push(loss);
    tensors.push(model.liveTensors());
    $('progress-bar').style.width = `${(100 * epoch) / EPOCHS}%`;
    $('train-status').textContent =
      `epoch ${epoch} / ${EPOCHS} · loss ${loss.toFixed(4)} nats/token · ${model.optimizer} · ${model.backend} · ${trainSet.length} sentences`;
    // The text boxes the plot drew, for the page test to check that none overlaps another.
    $('loss').dataset.textBoxes = JSON.stringify(drawLoss($('loss'), losses, EPOCHS));
    await nextFrame();
  }
  $('train-status').textContent += ` · ${((performance.now() - t0) / 1000).toFixed(1)} s`;
  document.body.dataset.losses = JSON.stringify(losses);
  document.body.dataset.tensors = JSON.stringify(tensors);

  const enc = model.encode(heldOut);
  const em = model.emissions(enc);
  const decoded = await crf.decode(em, { mask: enc.mask });
  const gold = heldOut.map((s) => s.tags);
  // The tagger alone: the argmax of each emission row, no transitions.
  const K = LABELS.length;
  const argmax = heldOut.map((s, b) =>
    s.words.map((_, t) => {
      const row = em.data.subarray((b * enc.T + t) * K, (b * enc.T + t + 1) * K);
      return row.indexOf(Math.max(...row));
    }),
  );
  /** @type {[string, ReturnType<typeof score>][]} */
  const rows = [
    ['tagger argmax', score(argmax, gold)],
    ['CRF Viterbi', score(decoded, gold)],
  ];
  for (const [name, s] of rows) {
    $('scores').tBodies[0].append(
      el('tr', {}, el('td', { textContent: name }), el('td', { textContent: s.accuracy.toFixed(3) }), el('td', { textContent: s.f1.toFixed(3) })),
    );
  }
  document.body.dataset.accuracy = rows[1][1].accuracy.toFixed(4);
  document.body.dataset.f1 = rows[1][1].f1.toFixed(4);
  document.body.dataset.taggerAccuracy = rows[0][1].accuracy.toFixed(4);

  // Show first the sentences the tagger alone gets wrong: there the transitions earn their keep.
  const order = heldOut.map((_, b) => b);
  const taggerWrong = (/** @type {number} */ b) => argmax[b].some((y, t) => y !== gold[b][t]);
  order.sort((a, b) => Number(taggerWrong(b)) - Number(taggerWrong(a)) || a - b);
  for (const b of order.slice(0, 8)) {
    const s = heldOut[b];
    const row = el(
      'div',
      { className: 'sentence' },
      el(
        'div',
        { className: 'tok legend' },
        el('span', { className: 'word', textContent: '\u00a0' }),
        ...['gold', 'tagger', 'CRF'].map((t) => el('span', { className: 'rowname', textContent: t })),
      ),
    );
    s.words.forEach((w, t) =>
      row.append(
        el(
          'div',
          { className: 'tok' },
          el('span', { className: `word${model.vocab.has(w) ? '' : ' unseen'}`, textContent: w, title: model.vocab.has(w) ? '' : `unseen: read as ${UNK}` }),
          tagChip(s.tags[t]),
          tagChip(argmax[b][t], argmax[b][t] !== s.tags[t]),
          tagChip(decoded[b][t], decoded[b][t] !== s.tags[t]),
        ),
      ),
    );
    $('decoded').append(row);
  }
  // H(y | x) per sentence: the lattice opens on the one the CRF is least sure about.
  const entropy = await crf.entropy(em, { mask: enc.mask });
  return { crf, model, heldOut, decoded, entropy };
}

/**
 * The lattice of held-out sentence b. `fixed` (time → tag) holds the tags the user clicked: the
 * marginals, the Viterbi path and the top 5 are then those of the paths through every fixed tag
 * (`allowed`, a partial annotation), and p(fixed) = Z(through the fixed tags) / Z, from two
 * `logPartition`s, says how likely the model finds them.
 * @param {Pick<Awaited<ReturnType<typeof train>>, 'crf' | 'model' | 'heldOut'>} trained
 * @param {number} b @param {Map<number, number>} [fixed]
 */
async function showLattice(trained, b, fixed = new Map()) {
  const { crf, model, heldOut } = trained;
  const s = heldOut[b];
  const em = model.emissions(model.encode([s]));
  const K = LABELS.length;
  const allowed = fixed.size ? allowedFromTags([s.words.map((_, t) => (fixed.has(t) ? /** @type {number} */ (fixed.get(t)) : -1))], K) : null;
  const [marg, [path], [top], [logZFixed], [logZ]] = await Promise.all([
    crf.marginals(em, { allowed }),
    crf.decode(em, { allowed }),
    crf.decode(em, { topK: 5, allowed }),
    crf.logPartition(em, { allowed }),
    crf.logPartition(em),
  ]);
  const logPFixed = logZFixed - logZ;
  const lattice = drawLattice($('heatmap'), { words: s.words, labels: LABELS, marg, path, fixed });
  $('heatmap').onclick = (ev) => {
    const r = $('heatmap').getBoundingClientRect();
    const c = lattice.cellAt(ev.clientX - r.left, ev.clientY - r.top);
    if (!c) return;
    const next = new Map(fixed);
    if (next.get(c.t) === c.j) next.delete(c.t);
    else next.set(c.t, c.j);
    showLattice(trained, b, next).catch(fail);
  };
  $('lattice-fixed').textContent = fixed.size
    ? `fixed: ${[...fixed]
        .sort((x, y) => x[0] - y[0])
        .map(([t, j]) => `${s.words[t]} = ${LABELS[j]}`)
        .join(', ')} · p(fixed tags) = ${Math.exp(logPFixed).toFixed(4)}`
    : "no tag fixed: click a cell to fix that token's tag";
  $('lattice-clear').disabled = fixed.size === 0;
  $('lattice-clear').onclick = () => showLattice(trained, b).catch(fail);
  $('topk').replaceChildren(
    ...top.map(({ path: p, score: sc, logProb }) =>
      el(
        'li',
        {},
        el('span', { className: 'tags' }, ...p.map((y, t) => tagChip(y, y !== s.tags[t]))),
        el('span', { className: 'num', textContent: `score ${sc.toFixed(3)} · p ${Math.exp(logProb).toFixed(4)}` }),
      ),
    ),
  );
  document.body.dataset.lattice = String(fixed.size);
}

/** @param {{ available: lib.BackendName[], software: boolean }} env */
async function runBenchmark({ available, software }) {
  const btn = $('bench-run');
  btn.disabled = true;
  document.body.dataset.bench = 'running';
  const tbody = $('bench-table').tBodies[0];
  tbody.replaceChildren();
  $('bench-placeholder').hidden = true;
  $('bench-chart').hidden = false;
  $('bench-table').hidden = false;
  const gpuName = software ? 'webgpu (software)' : 'webgpu';
  $('bench-software').hidden = !(software && available.includes('webgpu'));
  /** @type {import('./bench.js').Row[]} */
  const rows = [];
  const sizes = quick ? SIZES.quick : SIZES.full;
  const opts = quick ? { minMs: 20, minReps: 1 } : { minMs: 300, minReps: 3 };
  const redraw = () => {
    const groups = [];
    for (const op of ['decode', 'forward']) {
      for (const { B, T, K } of sizes) {
        const bars = rows
          .filter((r) => r.op === op && r.B === B && r.T === T && r.K === K && !r.error)
          .map((r) => ({ series: r.backend, value: r.tokensPerSec }));
        if (bars.length) groups.push({ label: `${op}\nB${B} T${T} K${K}`, bars });
      }
    }
    drawBars($('bench-chart'), groups, COLOURS, 'tokens / s', { webgpu: gpuName });
  };
  await benchmark(
    CRF,
    available,
    sizes,
    (r) => {
      rows.push(r);
      $('bench-status').textContent = `${r.backend}: ${r.op} B=${r.B} T=${r.T} K=${r.K}`;
      const cells = r.error
        ? [r.op, r.B, r.T, r.K, r.backend]
            .map((v) => el('td', { textContent: String(v) }))
            .concat(el('td', { className: 'err', colSpan: 2, textContent: r.error }))
        : [r.op, r.B, r.T, r.K, r.backend === 'webgpu' ? gpuName : r.backend, r.ms.toFixed(2), Math.round(r.tokensPerSec).toLocaleString('en-US')].map((v) =>
            el('td', { textContent: String(v) }),
          );
      tbody.append(el('tr', { className: r.error ? 'error-row' : '' }, ...cells));
      redraw();
    },
    opts,
  );
  const errors = rows.filter((r) => r.error).length;
  $('bench-status').textContent = `done: ${rows.length - errors} measurements${errors ? `, ${errors} failed` : ''}${quick ? ' (quick sizes)' : ''}`;
  document.body.dataset.bench = errors ? 'error' : 'done';
  btn.disabled = false;
}

try {
  const env = await detect();
  const trained = await train();
  const pick = $('sentence-pick');
  let first = 0;
  trained.entropy.forEach((h, i) => {
    if (h > trained.entropy[first]) first = i;
  });
  trained.heldOut.forEach((s, i) =>
    pick.append(
      el('option', {
        value: String(i),
        selected: i === first,
        textContent: `${i + 1}: ${s.words.slice(0, 6).join(' ')}… (H = ${trained.entropy[i].toFixed(2)} nats)`,
      }),
    ),
  );
  pick.addEventListener('change', () => showLattice(trained, Number(pick.value)).catch(fail));
  await showLattice(trained, first);
  document.body.dataset.state = 'trained';
  $('bench-run').disabled = false;
  $('bench-run').addEventListener('click', () => runBenchmark(env).catch(fail));
} catch (e) {
  fail(e);
}
