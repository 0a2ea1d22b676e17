// bench/webgpu.html's script, driven by bench/webgpu.js. Per shape and op: the webgpu backend's kernel
// time (timestamp queries, where the adapter has them) and wall time with readback, beside the wasm
// backend on the same page. Relative imports: from /bench/ they are /dist/... and /test/suites/....
import { WasmBackend, WebGpuBackend } from '../build/internals.js';
import { rng } from '../test/suites/oracle.js';

const q = new URLSearchParams(location.search);
const SHAPES = (q.get('shapes') ?? '1x8x5,8x32x9,32x128x9,32x128x32,8x64x128').split(',').map((s) => s.split('x').map(Number));
const OPS = /** @type {('logPartition' | 'viterbi' | 'posteriors')[]} */ ((q.get('ops') ?? 'logPartition,viterbi,posteriors').split(','));
const MIN_MS = Number(q.get('minMs') ?? 300);
const log = (/** @type {string} */ s) => {
  /** @type {HTMLElement} */ (document.getElementById('log')).textContent += `\n${s}`;
};

async function main() {
  const adapter = await navigator.gpu?.requestAdapter();
  if (!adapter) return { skipped: 'no WebGPU adapter' };
  const ts = adapter.features.has('timestamp-query');
  const device = await adapter.requestDevice({ requiredFeatures: ts ? ['timestamp-query'] : [] });
  const info = adapter.info ?? {};
  const software = info.architecture === 'swiftshader';
  // The page's bundle sits in build/, the kernels in dist/.
  const wasm = await WasmBackend.create({ wasmModule: await WebAssembly.compileStreaming(fetch('/dist/webcrf.simd.wasm')) });
  const gpu = new WebGpuBackend({ device, cpu: wasm, profile: true });
  const lines = [];
  for (const [B, T, K] of SHAPES) {
    const r = rng(B * 1_000_003 + T * 1009 + K).next;
    const emissions = new Float32Array(B * T * K).map(() => (r() * 2 - 1) * 4);
    const lengths = new Int32Array(B).fill(T);
    const positions = new Int32Array(B * T).map((_, i) => i % T);
    const p = { B, T, K, emissions, lengths, positions };
    const f = (/** @type {number} */ n) => Float64Array.from({ length: n }, () => r() * 0.2 - 0.1);
    const w = { K, start: f(K), end: f(K), trans: f(K * K) };
    for (const op of OPS) {
      for (const [name, be] of /** @type {[string, import('../dist/types/backends/backend.js').Backend][]} */ ([
        ['webgpu', gpu],
        ['wasm', wasm],
      ])) {
        await be.run(op, p, w);
        let calls = 0,
          kernel = 0;
        const t0 = performance.now();
        let dt = 0;
        while (dt < MIN_MS || calls < 3) {
          await be.run(op, p, w);
          if (name === 'webgpu' && gpu.lastKernelMs !== null) kernel += gpu.lastKernelMs;
          calls++;
          dt = performance.now() - t0;
        }
        const line = {
          backend: name,
          op,
          B,
          T,
          K,
          work: B * T * K * K,
          wallMsPerCall: Number((dt / calls).toFixed(4)),
          ...(name === 'webgpu' ? { kernelMsPerCall: ts ? Number((kernel / calls).toFixed(4)) : null } : {}),
          tokensPerSec: Math.round((B * T) / (dt / calls / 1000)),
          ...(name === 'webgpu'
            ? { adapter: `${info.vendor ?? ''} ${info.architecture ?? ''}`.trim(), note: software ? 'SwiftShader: CPU emulation, not GPU figures' : 'GPU' }
            : {}),
          calls,
        };
        lines.push(line);
        log(JSON.stringify(line));
      }
    }
  }
  gpu.dispose();
  return { lines };
}
main().then(
  (r) => {
    window.__bench = r;
  },
  (e) => {
    window.__bench = { fatal: String(e?.stack ?? e) };
  },
);
