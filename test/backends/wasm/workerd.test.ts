// Cloudflare's workerd (through miniflare): a Worker imports the built package by its `workerd` export
// condition, gets the kernels as CompiledWasm modules, and must agree with the js backend run here.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Miniflare } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CRF } from '../../../src/index.js';
import { rng } from '../../suites/oracle.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? files(join(dir, d.name)) : [join(dir, d.name)]));
}

/**
 * workerd has no package resolution, so the Worker's `import 'webcrf'` is rewritten to the file the
 * package's own `exports["."].workerd` condition names (what wrangler's bundler resolves), and every
 * built module goes in by type: .js as ESModule, .wasm as CompiledWasm.
 */
function modules() {
  const entry = pkg.exports['.'].workerd as string;
  expect(entry).toBe('./dist/workerd.js');
  const worker = readFileSync(join(root, 'test/workerd/worker.js'), 'utf8').replace("from 'webcrf'", `from '../../${entry.slice(2)}'`);
  const built = files(join(root, 'dist')).filter((f) => f.endsWith('.js') || f.endsWith('.wasm'));
  return [
    { type: 'ESModule' as const, path: join(root, 'test/workerd/worker.js'), contents: worker },
    ...built.map((f) => ({
      type: f.endsWith('.wasm') ? ('CompiledWasm' as const) : ('ESModule' as const),
      path: f,
      contents: readFileSync(f),
    })),
  ];
}

describe('workerd (miniflare)', () => {
  let mf: Miniflare;
  beforeAll(() => {
    mf = new Miniflare({ modules: modules(), modulesRoot: root, compatibilityDate: '2024-09-23' });
  });
  afterAll(async () => {
    await mf?.dispose();
  });

  it('a Worker scores and decodes a batch with the wasm kernels, equal to the js backend', async () => {
    const r = rng(41);
    const K = 7,
      B = 6,
      T = 23;
    const ref = await CRF.create(K, { backend: 'js', seed: 5 });
    const stateDict = ref.stateDict();
    const emissions = Array.from({ length: B * T * K }, () => r.normal() * 2);
    const tags = Array.from({ length: B * T }, () => r.int(K));
    // Prefix masks of varied lengths plus one with gaps and a masked first step.
    const mask = Array.from({ length: B * T }, (_, i) => {
      const b = Math.floor(i / T),
        t = i % T;
      return b === B - 1 ? Number(t % 3 !== 0) : Number(t < T - 3 * b);
    });
    const res = await mf.dispatchFetch('http://worker/', {
      method: 'POST',
      body: JSON.stringify({ K, B, T, stateDict, emissions, tags, mask }),
    });
    expect(res.status).toBe(200);
    const got = (await res.json()) as {
      backend: string;
      compileRefused: boolean;
      logPartition: number[];
      llh: number[];
      decode: number[][];
      top3: { path: number[]; score: number }[][];
      marginals: number[];
    };
    expect(got.backend).toBe('wasm');
    expect(got.compileRefused).toBe(true);

    const em = { data: Float32Array.from(emissions), shape: [B, T, K] };
    const opts = { mask: { data: Uint8Array.from(mask), shape: [B, T] } };
    const want = {
      logPartition: Array.from(await ref.logPartition(em, opts)),
      llh: Array.from((await ref.forward(em, { data: Int32Array.from(tags), shape: [B, T] }, { ...opts, reduction: 'none' })) as Float32Array),
      decode: await ref.decode(em, opts),
      top3: await ref.decode(em, { ...opts, topK: 3 }),
      marginals: Array.from(await ref.marginals(em, opts)),
    };
    const close = (a: number[], b: number[], tol: number) => {
      expect(a.length).toBe(b.length);
      a.forEach((x, i) => expect(Math.abs(x - b[i])).toBeLessThanOrEqual(tol * (1 + Math.abs(b[i]))));
    };
    close(got.logPartition, want.logPartition, 1e-5);
    close(got.llh, want.llh, 1e-5);
    close(got.marginals, want.marginals, 1e-5);
    expect(got.decode).toEqual(want.decode);
    expect(got.top3.map((l) => l.map((x) => x.path))).toEqual(want.top3.map((l) => l.map((x) => x.path)));
    got.top3.forEach((l, b) =>
      close(
        l.map((x) => x.score),
        want.top3[b].map((x) => x.score),
        1e-5,
      ),
    );
  });
});
