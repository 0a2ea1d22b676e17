// Emissions over a SharedArrayBuffer: another thread may write them while a call runs, so they are never
// borrowed (read where the kernels run, after their check) but copied when the call reads them, as the
// other inputs and the training helpers' arrays are (spans.ts). Which memory is shared is told by a
// brand check that no Symbol.toStringTag fools, in either direction; and a call reads shared emissions
// with the same results and the same refusals as unshared ones, on one thread and split across two.
import { afterEach, describe, expect, it } from 'vitest';
import { CRF } from '../../src/index.js';
import { plainFloat32 } from '../../src/call/typed.js';
import { spanOf } from '../../src/call/spans.js';
import { threadsTuning } from '../../src/backends/wasm/threads/backend.js';
import { inputError } from '../helpers.js';

const K = 9;

function emissions(B: number, T: number, shared: boolean): Float32Array {
  const n = B * T * K;
  const a = new Float32Array(shared ? new SharedArrayBuffer(4 * n) : new ArrayBuffer(4 * n));
  for (let i = 0; i < n; i++) a[i] = Math.sin(i * 1.7) * 3;
  return a;
}

const tagsOf = (B: number, T: number) => ({ data: Int32Array.from({ length: B * T }, (_, i) => (i * 5) % K), shape: [B, T] });

describe('which memory is shared', () => {
  const saved = [ArrayBuffer.prototype, SharedArrayBuffer.prototype].map((p) => [p, Object.getOwnPropertyDescriptor(p, Symbol.toStringTag)] as const);
  afterEach(() => {
    for (const [p, d] of saved) Object.defineProperty(p, Symbol.toStringTag, d!);
  });

  it('a Float32Array over a SharedArrayBuffer is not borrowed; one over an ArrayBuffer is, as a plain view of the same memory', () => {
    expect(plainFloat32(emissions(1, 2, true))).toBeNull();
    const own = emissions(1, 2, false);
    const view = plainFloat32(own.subarray(3))!;
    expect(view.buffer).toBe(own.buffer);
    expect([view.byteOffset, view.length]).toEqual([12, own.length - 3]);
  });

  it('whatever the buffers’ Symbol.toStringTag says', () => {
    Object.defineProperty(SharedArrayBuffer.prototype, Symbol.toStringTag, { value: 'ArrayBuffer', configurable: true });
    Object.defineProperty(ArrayBuffer.prototype, Symbol.toStringTag, { value: 'SharedArrayBuffer', configurable: true });
    expect(plainFloat32(emissions(1, 2, true))).toBeNull();
    expect(plainFloat32(emissions(1, 2, false))).not.toBeNull();
    // The span of any typed array (what the other inputs and the training helpers copy shared memory by).
    expect(spanOf(new Int32Array(new SharedArrayBuffer(8)))!.shared).toBe(true);
    expect(spanOf(new Int32Array(new ArrayBuffer(8)))!.shared).toBe(false);
    expect(spanOf(new DataView(new SharedArrayBuffer(8)))!.shared).toBe(true);
  });
});

describe.each([1, 2])('shared emissions through the API (threads: %i)', (threads) => {
  it('give the results of the same values unshared, sync and async, for every op that borrows', async () => {
    const crf = await CRF.create(K, { backend: 'wasm', seed: 5, threads });
    threadsTuning.force = threads > 1 ? 'split' : null; // every call of two sequences or more, cut in two
    try {
      for (const [B, T] of [
        [1, 7],
        [6, 5],
      ]) {
        const shared = { data: emissions(B, T, true), shape: [B, T, K] };
        const own = { data: emissions(B, T, false), shape: [B, T, K] };
        const tags = tagsOf(B, T);
        expect(crf.sync.decode(shared)).toEqual(crf.sync.decode(own));
        expect(await crf.decode(shared)).toEqual(await crf.decode(own));
        expect(crf.sync.forward(shared, tags)).toEqual(crf.sync.forward(own, tags));
        expect(await crf.forward(shared, tags)).toEqual(await crf.forward(own, tags));
        expect(await crf.forwardBackward(shared, tags)).toEqual(await crf.forwardBackward(own, tags));
        expect(await crf.logPartition(shared)).toEqual(await crf.logPartition(own));
      }
    } finally {
      threadsTuning.force = null;
      crf.dispose();
    }
  });

  it('refuse a bad value with the same error as unshared emissions', async () => {
    const crf = await CRF.create(K, { backend: 'wasm', seed: 5, threads });
    threadsTuning.force = threads > 1 ? 'split' : null;
    try {
      for (const at of [0, 40, 6 * 5 * K - 1]) {
        const shared = emissions(6, 5, true);
        const own = emissions(6, 5, false);
        shared[at] = own[at] = NaN;
        const want = await inputError(() => crf.decode({ data: own, shape: [6, 5, K] }));
        const got = await inputError(() => crf.decode({ data: shared, shape: [6, 5, K] }));
        expect(got.message).toBe(want.message);
        const gotSync = await inputError(() => crf.sync.forward({ data: shared, shape: [6, 5, K] }, tagsOf(6, 5)));
        expect(gotSync.message).toBe((await inputError(() => crf.sync.forward({ data: own, shape: [6, 5, K] }, tagsOf(6, 5)))).message);
      }
    } finally {
      threadsTuning.force = null;
      crf.dispose();
    }
  });
});
