// The emissions' range check where the WASM backend runs it, on its kernels (Backend.firstOutOfRange):
// the first value beyond ±MAX_MAGNITUDE (NaN and ±Infinity included) on both builds, whatever its place
// in a block of sixteen, as a plain scan finds it; through the public API the same refusal as the
// js backend gives, with the instance's memory unchanged; and the copy it leaves in the kernels' memory
// read only by the call it was checked for.
import { describe, expect, it } from 'vitest';
import { CRF } from '../../src/index.js';
import { WasmBackend } from '../../src/backends/wasm/backend.js';
import { MAX_MAGNITUDE } from '../../src/limits.js';
import { KINDS, kernels } from '../wasm-helpers.js';
import { inputError } from '../helpers.js';

const K = 9;
/** The float32 just above MAX_MAGNITUDE (MAX_MAGNITUDE itself is accepted). */
const ABOVE = (() => {
  const a = Float32Array.of(MAX_MAGNITUDE);
  new Int32Array(a.buffer)[0] += 1;
  return a[0];
})();
const BAD = [NaN, Infinity, -Infinity, ABOVE, -ABOVE, 1e30, -3.4e38];
const GOOD_EDGES = [MAX_MAGNITUDE, -MAX_MAGNITUDE, -0, 1e-45, -1e-45, 0];

/** The oracle: a plain scan. */
function firstBad(a: Float32Array): number {
  for (let i = 0; i < a.length; i++) if (!(Math.abs(a[i]) <= MAX_MAGNITUDE)) return i;
  return -1;
}

function values(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.sin(i * 12.9898 + seed) * 4;
  // The accepted edges somewhere in every array.
  GOOD_EDGES.forEach((v, j) => (a[(j * 7919 + seed) % n] = v));
  return a;
}

describe.each(KINDS)("the kernels' range check (%s build)", (kind) => {
  it('finds the first value out of range at every place in a block, the tail included, as a plain scan does', async () => {
    const be = await WasmBackend.create({ wasmModule: await kernels(kind) });
    let checked = 0;
    for (const n of [2048, 2049, 2063, 2064, 2079, 4099]) {
      const clean = values(n, n);
      expect(be.firstOutOfRange(clean, K), `n=${n} clean`).toBe(-1);
      for (const at of [0, 1, 15, 16, 17, 31, n >> 1, n - 17, n - 16, n - 2, n - 1]) {
        const a = clean.slice();
        a[at] = BAD[(at + n) % BAD.length];
        // A second bad value after the first: the first is the one reported.
        if (at + 3 < n) a[at + 3] = BAD[(at + 1) % BAD.length];
        expect(be.firstOutOfRange(a, K), `n=${n} at=${at} ${a[at]}`).toBe(firstBad(a));
        checked++;
      }
    }
    expect(checked).toBe(66);
    be.dispose();
  });

  it('leaves a short array to the JavaScript check; checks more values than fit in pieces, never growing the memory', async () => {
    const be = await WasmBackend.create({ wasmModule: await kernels(kind) });
    expect(be.firstOutOfRange(values(100, 1), K)).toBeUndefined();
    const bytes = be.memoryBytes;
    const n = bytes / 4 + 3 * 1024 + 5;
    const clean = values(n, 2);
    expect(be.firstOutOfRange(clean, K)).toBe(-1);
    // Every 61st place (each piece's edges fall within 61 of one), and the last 61.
    for (let at = 0; at < n; at += at < n - 61 ? 61 : 1) {
      const a = clean.slice();
      a[at] = BAD[at % BAD.length];
      if (at + 40 < n) a[at + 40] = NaN;
      expect(be.firstOutOfRange(a, K), `at=${at}`).toBe(at);
    }
    expect(be.memoryBytes).toBe(bytes);
    be.dispose();
  });
});

describe('a refused call with its emissions checked on the kernels', () => {
  it("gives the js backend's error, and memoryUsage() and the parameters are unchanged", async () => {
    const [B, T] = [8, 64];
    const data = values(B * T * K, 3);
    data[B * T * K - 5] = Infinity;
    data[B * T * K - 2] = NaN;
    const em = { data, shape: [B, T, K] };
    const js = await CRF.create(K, { backend: 'js', seed: 1 });
    const want = (await inputError(js.decode(em))).message;
    expect(want).toMatch(/emissions: .*\[7\]\[63\]\[4\].*Infinity/);
    for (const threads of [1, 2]) {
      const crf = await CRF.create(K, { backend: 'wasm', seed: 1, threads });
      // The same calls with clean values first: what a call keeps between calls is then in place.
      const clean = { data: data.map((v) => (Number.isFinite(v) ? v : 0)), shape: [B, T, K] };
      await crf.decode(clean);
      await crf.logPartition(clean);
      await crf.forwardBackward(clean, { data: new Int32Array(B * T), shape: [B, T] });
      const before = { memory: crf.memoryUsage(), transitions: crf.transitions.slice() };
      for (const call of [() => crf.decode(em), () => crf.logPartition(em), () => crf.forwardBackward(em, { data: new Int32Array(B * T), shape: [B, T] })]) {
        expect((await inputError(call())).message).toBe(want);
      }
      expect(() => crf.sync.decode(em)).toThrow(want);
      expect(crf.memoryUsage()).toEqual(before.memory);
      expect(crf.transitions).toEqual(before.transitions);
      crf.dispose();
    }
  });
});

describe('a first call whose layout outgrows the memory the tables left room in', () => {
  // From K = 64 a fresh instance's tables fill the kernels' first memory: a first call's emissions, with
  // no room to be checked on the kernels before the memory grows, are checked where they are.
  it.each([64, 128])("is refused with the js backend's error before the memory grows (K = %i)", async (K) => {
    for (const [B, T] of [
      [1, 1],
      [2, 3],
      [4, 64],
    ]) {
      for (const at of [0, B * T * K - 1]) {
        const data = values(B * T * K, K + at);
        data[at] = NaN;
        const em = { data, shape: [B, T, K] };
        const js = await CRF.create(K, { backend: 'js', seed: 1 });
        const want = (await inputError(js.decode(em))).message;
        js.dispose();
        const crf = await CRF.create(K, { backend: 'wasm', seed: 1 });
        const before = crf.memoryUsage().wasmBytes;
        expect(() => crf.sync.decode(em), `B=${B} T=${T} at ${at}`).toThrow(want);
        expect((await inputError(crf.logPartition(em))).message).toBe(want);
        expect(crf.memoryUsage().wasmBytes).toBe(before);
        // And the instance is as a fresh one: the same call with the value mended gives a fresh one's result.
        data[at] = 0;
        const fresh = await CRF.create(K, { backend: 'wasm', seed: 1 });
        expect(crf.sync.decode(em)).toEqual(fresh.sync.decode(em));
        fresh.dispose();
        crf.dispose();
      }
    }
  });
});

describe("emissions the check left in the kernels' memory", () => {
  it("are computed on only by the call they were checked for: calls of every kind of input, refused ones between, give a fresh instance's results", async () => {
    // The check copies a call's float32 emissions where its kernels read them, and that call skips
    // copying them again. The CRF reuses its arrays, so a later call whose values reach the same array
    // without that check (nested arrays, float64, a partial annotation's restricted copy), after a
    // call refused past its check, must still compute on its own values.
    const [B, T] = [6, 50];
    const n = B * T * K;
    const tagsOk = { data: Int32Array.from({ length: B * T }, (_, i) => i % K), shape: [B, T] };
    const tagsBad = { data: Int32Array.from({ length: B * T }, (_, i) => (i === 7 ? K : i % K)), shape: [B, T] };
    const typed = (seed: number) => ({ data: values(n, seed), shape: [B, T, K] });
    const nested = (seed: number) => {
      const v = values(n, seed);
      return Array.from({ length: B }, (_, b) => Array.from({ length: T }, (_, t) => Array.from(v.subarray((b * T + t) * K, (b * T + t + 1) * K))));
    };
    const float64 = (seed: number) => ({ data: Float64Array.from(values(n, seed)), shape: [B, T, K] });
    const allowed = { data: Uint8Array.from({ length: n }, (_, i) => (i % 4 === 0 ? 0 : 1)), shape: [B, T, K] };
    type Call = (crf: CRF) => Promise<unknown>;
    const calls: [string, Call][] = [
      ['typed', (c) => c.forward(typed(1), tagsOk)],
      ['refused after its check', (c) => c.forward(typed(2), tagsBad)],
      ['nested', (c) => c.forward(nested(3), tagsOk)],
      ['refused after its check', (c) => c.forward(typed(4), tagsBad)],
      ['float64', (c) => c.decode(float64(5))],
      ['typed', (c) => c.logPartition(typed(6))],
      ['refused after its check', (c) => c.decode(typed(7), { mask: { data: new Uint8Array(B * T + 1), shape: [B * T + 1] } })],
      ['partial annotation', (c) => c.forward(typed(8), { allowed })],
      ['refused after its check', (c) => c.forward(typed(9), tagsBad)],
      ['typed, again', (c) => c.forwardBackward(typed(10), tagsOk)],
    ];
    const settle = (p: Promise<unknown>) =>
      p.then(
        (v) => ['ok', v],
        (e: Error) => ['refused', e.message],
      );
    for (const threads of [1, 2]) {
      const crf = await CRF.create(K, { backend: 'wasm', seed: 1, threads });
      for (const [name, call] of calls) {
        const fresh = await CRF.create(K, { backend: 'wasm', seed: 1 });
        expect(await settle(call(crf)), `${name} (threads ${threads})`).toEqual(await settle(call(fresh)));
        fresh.dispose();
      }
      crf.dispose();
    }
  });
});
