// A short soak (npm run soak runs 100,000 calls): mixed calls agree with the reference, and the
// instances' WASM memory, GPU buffers and reused arrays do not grow once warm.
import { expect, it } from 'vitest';
import * as lib from '../../src/index.js';
import { nodeBackends } from '../../scripts/node-backends.js';
import { soak } from '../suites/soak.js';

const backends: { name: lib.BackendName; options: object }[] = await nodeBackends(lib);

it.each(backends.map((b) => [b.name, b] as const))(
  '%s: 1,000 mixed calls, no disagreement, no growth',
  async (_n, b) => {
    const r = await soak({ lib, backend: b.name, options: b.options, calls: 1000, seed: 5 });
    expect(r.disagreements).toEqual([]);
    expect(r.end.wasmBytes).toBe(r.start.wasmBytes);
    expect(r.end.gpuBytes).toBe(r.start.gpuBytes);
    expect(r.end.cacheBytes).toBe(r.start.cacheBytes);
  },
  300_000,
);
