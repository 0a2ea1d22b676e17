// test/webgpu/ort-page.html's script: the browser-only snippet of docs/gpu-inputs.md, run as written
// (its code block becomes a module; the page's import map resolves 'webcrf' to dist/ and
// 'onnxruntime-web/webgpu' to ORT's dist/), then the same model's logits from ORT's webgpu EP and from
// its wasm EP decoded on a webgpu CRF and on the float64 js backend, counting every GPU map. Results land
// in window.__ort for test/backends/webgpu/ort-browser.test.ts.
import * as ort from 'onnxruntime-web/webgpu';
import { CRF } from 'webcrf';

const log = (/** @type {string} */ s) => {
  /** @type {HTMLElement} */ (document.getElementById('log')).textContent += `\n${s}`;
};

/** The mapAsync calls of every GPUBuffer, by size, while `f` runs. */
async function mapsDuring(/** @type {() => Promise<unknown>} */ f) {
  const proto = GPUBuffer.prototype;
  const mapAsync = proto.mapAsync;
  /** @type {number[]} */
  const sizes = [];
  proto.mapAsync = function (/** @type {any[]} */ ...a) {
    sizes.push(this.size);
    return mapAsync.apply(this, /** @type {any} */ (a));
  };
  try {
    await f();
  } finally {
    proto.mapAsync = mapAsync;
  }
  return sizes;
}

async function main() {
  if (!navigator.gpu || !(await navigator.gpu.requestAdapter())) return { skipped: 'no WebGPU adapter' };
  ort.env.wasm.wasmPaths = '/node_modules/onnxruntime-web/dist/';
  ort.env.wasm.numThreads = 1;

  // The docs' snippet, as written; its variables exported for the checks below.
  const md = await (await fetch('/docs/gpu-inputs.md')).text();
  const block = /> \*\*Browser only\.\*\*[\s\S]*?```js\n([\s\S]*?)```/.exec(md);
  if (!block) throw new Error('docs/gpu-inputs.md: no browser-only js block');
  const url = URL.createObjectURL(new Blob([`${block[1]}\nexport { ids, mask, paths, crf, device };\n`], { type: 'text/javascript' }));
  const snippet = await import(url);
  log(`snippet paths ${JSON.stringify(snippet.paths)}`);

  // The same, step by step, with the reads counted.
  const model = await (await fetch('/examples/tiny-tagger.onnx')).arrayBuffer();
  const gpuSession = await ort.InferenceSession.create(model, { executionProviders: ['webgpu'], preferredOutputLocation: 'gpu-buffer' });
  const cpuSession = await ort.InferenceSession.create(model, { executionProviders: ['wasm'] });
  const device = await ort.env.webgpu.device;
  const crf = await CRF.create(5, { backend: 'webgpu', device, seed: 3 });
  const ref = await CRF.create(5, { backend: 'js' });
  ref.loadStateDict(crf.stateDict());
  const B = 3,
    T = 6;
  const ids = Array.from({ length: B }, (_, b) => Array.from({ length: T }, (_, t) => (b * 31 + t * 17) % 100));
  const mask = [
    [1, 1, 1, 1, 1, 1],
    [1, 0, 1, 1, 0, 0],
    [0, 1, 1, 0, 0, 0],
  ];
  const feeds = { input_ids: new ort.Tensor('int64', BigInt64Array.from(ids.flat(), BigInt), [B, T]) };
  const { logits } = await gpuSession.run(feeds);
  const { logits: cpuLogits } = await cpuSession.run(feeds);
  const cpu = { data: /** @type {Float32Array} */ (cpuLogits.data), shape: cpuLogits.dims };
  /** @type {number[][]} */
  let paths = [];
  const gpuMaps = await mapsDuring(async () => (paths = await crf.decode(logits, { mask })));
  const cpuMaps = await mapsDuring(() => crf.decode(cpu, { mask }));
  // A transformers.js Tensor: a Proxy whose dims, type and location forward to its ort_tensor.
  const wrapped = new Proxy(
    { ort_tensor: logits },
    {
      get: (t, k) =>
        k === 'ort_tensor' ? t.ort_tensor : ['dims', 'type', 'location', 'size'].includes(String(k)) ? /** @type {any} */ (logits)[k] : undefined,
      has: (_, k) => ['ort_tensor', 'dims', 'type', 'location', 'size', 'data'].includes(String(k)),
    },
  );
  const wrappedPaths = await crf.decode(/** @type {any} */ (wrapped), { mask });
  const logZ = Array.from(await crf.logPartition(logits, { mask }));
  const refLogZ = Array.from(await ref.logPartition(cpu, { mask }));
  const result = {
    location: logits.location,
    bufferBytes: logits.gpuBuffer.size,
    emissionBytes: 4 * B * T * 5,
    paths,
    wrappedPaths,
    cpuPaths: await crf.decode(cpu, { mask }),
    refPaths: await ref.decode(cpu, { mask }),
    logZ,
    refLogZ,
    gpuMaps,
    cpuMaps,
    ids,
    mask,
    state: crf.stateDict(),
    snippet: { ids: snippet.ids, mask: snippet.mask, paths: snippet.paths, state: snippet.crf.stateDict(), sameDevice: snippet.device === device },
  };
  logits.dispose();
  cpuLogits.dispose();
  return result;
}

main().then(
  (r) => {
    window.__ort = r;
    log('done');
  },
  (e) => {
    window.__ort = { fatal: String(e?.stack ?? e) };
    log(`fatal: ${e}`);
  },
);
