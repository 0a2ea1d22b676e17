// Runs every shared oracle suite (test/suites/) on every backend this page has and publishes the results
// as window.__results for test/backends/browser.test.ts (or a person reading the page).
import * as lib from '../../dist/index.js';
import { suites } from '../suites/index.js';

const out = /** @type {HTMLElement} */ (document.getElementById('log'));
const say = (/** @type {string} */ line) => {
  out.textContent += `\n${line}`;
};

/**
 * js and wasm always; the scalar wasm build too (handed in through `wasmModule`, as a runtime without
 * SIMD would get it); webgpu where navigator.gpu gives an adapter.
 * @param {string[]} skipped
 */
async function backends(skipped) {
  /** @type {{ label: string, backend: import('webcrf').BackendName, backendOptions?: import('webcrf').CRFOptions }[]} */
  const list = [
    { label: 'js', backend: 'js' },
    { label: 'wasm', backend: 'wasm' },
    { label: 'wasm-scalar', backend: 'wasm', backendOptions: { wasmModule: await WebAssembly.compileStreaming(fetch('/dist/webcrf.scalar.wasm')) } },
  ];
  const adapter = navigator.gpu ? await navigator.gpu.requestAdapter() : null;
  if (!adapter) {
    skipped.push(`webgpu: ${navigator.gpu ? 'navigator.gpu gave no adapter' : 'no navigator.gpu'}`);
    return list;
  }
  try {
    (await lib.CRF.create(2, { backend: 'webgpu' })).dispose();
    list.push({ label: 'webgpu', backend: 'webgpu' });
  } catch (e) {
    // An adapter exists: only a backend missing from this checkout is a skip; anything else runs (and fails).
    if (/not built/.test(String(/** @type {Error | undefined} */ (e)?.message))) skipped.push(`webgpu: ${/** @type {Error} */ (e).message}`);
    else list.push({ label: 'webgpu', backend: 'webgpu' });
  }
  return list;
}

async function main() {
  const vectors = await (await fetch('/test/fixtures/pytorch-crf-vectors.json')).json();
  /** @type {string[]} */
  const skipped = [];
  const results = [];
  const auto = await lib.CRF.create(3);
  const info = { userAgent: navigator.userAgent, auto: auto.backend, threads: await threadsCheck() };
  auto.dispose();
  for (const b of await backends(skipped)) {
    for (const [name, suite] of Object.entries(suites)) {
      const t0 = performance.now();
      const ctx = { lib, backend: b.backend, backendOptions: b.backendOptions, vectors };
      try {
        // The backend the suite asked for must be the one that ran (no silent fallback).
        const probe = await lib.CRF.create(2, { backend: b.backend, ...(b.backendOptions ?? {}) });
        if (probe.backend !== b.backend) throw new Error(`asked for ${b.backend}, got ${probe.backend}`);
        probe.dispose();
        await suite(ctx);
        results.push({ backend: b.label, suite: name, ok: true, ms: Math.round(performance.now() - t0) });
        say(`ok   ${b.label} ${name}`);
      } catch (e) {
        results.push({ backend: b.label, suite: name, ok: false, error: String(/** @type {Error | undefined} */ (e)?.stack ?? e) });
        say(`FAIL ${b.label} ${name}: ${/** @type {Error | undefined} */ (e)?.message ?? e}`);
      }
    }
  }
  return { results, skipped, info };
}

/**
 * `threads: 2` in a page: the Web Worker starts from /dist/web-worker.js, and a batch large
 * enough to be split gives the bits of one thread for every op (strings compare the bits exactly).
 */
async function threadsCheck() {
  // B·T·K² of 2^23.6: decode with topK splits by default (k-best from 2^22); the other ops stay on one thread.
  const B = 96,
    T = 128,
    K = 32;
  let s = 3;
  const rand = () => ((s = (s * 1103515245 + 12345) >>> 0) / 4294967296) * 6 - 3;
  const em = { data: Float32Array.from({ length: B * T * K }, rand), shape: [B, T, K] };
  const mask = { data: Uint8Array.from({ length: B * T }, (_, i) => (i % T < T - (i % 7) * 5 ? 1 : 0)), shape: [B, T] };
  const tags = { data: Int32Array.from({ length: B * T }, (_, i) => (i * 7) % K), shape: [B, T] };
  /** @param {import('webcrf').CRF} crf */
  const all = async (crf) => {
    const fb = await crf.forwardBackward(em, tags, { mask });
    return JSON.stringify(
      [
        await crf.forward(em, tags, { mask, reduction: 'none' }),
        await crf.decode(em, { mask }),
        await crf.decode(em, { mask, topK: 2 }),
        fb.logLikelihood,
        fb.grads.emissions,
        fb.grads.transitions,
        fb.grads.startTransitions,
        await crf.marginals(em, { mask }),
      ].map((x) => (ArrayBuffer.isView(x) ? Array.from(/** @type {Float32Array} */ (x)) : x)),
    );
  };
  const one = await lib.CRF.create(K, { backend: 'wasm', seed: 2 });
  const two = await lib.CRF.create(K, { backend: 'wasm', seed: 2, threads: 2 });
  const same = (await all(one)) === (await all(two));
  const reason = two.backendReason;
  // The worker answered (it reports its memory with each answer): each thread holds about half of one
  // thread's memory, so without the worker's the sum would be well under 3/4 of it.
  const split = two.memoryUsage().wasmBytes > 0.75 * one.memoryUsage().wasmBytes;
  one.dispose();
  two.dispose();
  return { same, reason, split };
}

main().then(
  (r) => {
    window.__results = r;
    say('done');
  },
  (e) => {
    window.__results = { fatal: String(e?.stack ?? e) };
    say(`fatal: ${e}`);
  },
);
