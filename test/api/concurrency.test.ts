// Overlapping calls on one instance and across instances give the sequential results.
import { describe, expect, it } from 'vitest';
import * as lib from '../../src/index.js';
import { nodeBackends } from '../../scripts/node-backends.js';
import { rng } from '../suites/oracle.js';

const backends: { name: lib.BackendName; options: object }[] = await nodeBackends(lib);

function batch(seed: number, K: number) {
  const R = rng(seed);
  const B = 1 + R.int(4),
    T = 1 + R.int(12);
  const em = Array.from({ length: B }, () => Array.from({ length: T }, () => Array.from({ length: K }, () => R.normal() * 2)));
  const mask = Array.from({ length: B }, () => Array.from({ length: T }, (_, t) => (t === 0 || R.next() < 0.8 ? 1 : 0)));
  const tags = Array.from({ length: B }, () => Array.from({ length: T }, () => R.int(K)));
  return { em, mask, tags };
}

describe.each(backends.map((b) => [b.name, b] as const))('concurrency on %s', (_n, backend) => {
  it('64 overlapping decode/forward calls equal the sequential ones, on one instance and across two', async () => {
    const K = 6;
    const a = await lib.CRF.create(K, { backend: backend.name, seed: 1, ...backend.options });
    const b = await lib.CRF.create(K, { backend: backend.name, seed: 1, ...backend.options });
    const jobs = Array.from({ length: 64 }, (_, i) => ({ i, ...batch(i, K) }));
    const call = (crf: lib.CRF, j: (typeof jobs)[number]) =>
      j.i % 2 ? crf.decode(j.em, { mask: j.mask }) : crf.forward(j.em, j.tags, { mask: j.mask, reduction: 'none' }).then((x) => Array.from(x as Float32Array));
    const sequential = [];
    for (const j of jobs) sequential.push(await call(a, j));
    const overlapped = await Promise.all(jobs.map((j) => call(j.i % 3 ? a : b, j)));
    expect(overlapped).toEqual(sequential);
    a.dispose();
    b.dispose();
  });
});

describe.each(backends.map((b) => [b.name, b] as const))('a pending call on %s', (_n, backend) => {
  it('keeps its numbers when the caller refills the emission buffer before it settles', async () => {
    const crf = await lib.CRF.create(3, { backend: backend.name, seed: 4, ...backend.options });
    const data = new Float32Array([1, 2, 3, 0, 1, 0, 2, 0, 1]);
    const em = { data, shape: [1, 3, 3] };
    const want = {
      llh: await crf.forward({ data: data.slice(), shape: [1, 3, 3] }, [[2, 1, 0]]),
      fb: (await crf.forwardBackward({ data: data.slice(), shape: [1, 3, 3] }, [[2, 1, 0]])).logLikelihood,
      h: Array.from(await crf.entropy({ data: data.slice(), shape: [1, 3, 3] })),
    };
    const pending = [crf.forward(em, [[2, 1, 0]]), crf.forwardBackward(em, [[2, 1, 0]]), crf.entropy(em)];
    data.fill(0);
    const [llh, fb, h] = await Promise.all(pending);
    expect(llh).toBe(want.llh);
    expect((fb as { logLikelihood: number }).logLikelihood).toBe(want.fb);
    expect(Array.from(h as Float32Array)).toEqual(want.h);
    crf.dispose();
  });
});
