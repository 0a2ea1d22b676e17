// Shared by the wasm-*.test.ts files: the two builds of the kernels (deterministic data: rng in
// suites/oracle.js).
import { readFile } from 'node:fs/promises';
import { distWasm } from './wasm-setup.js';

const modules = new Map<string, Promise<WebAssembly.Module>>();
/** The built module of one kind, compiled from dist/ (what the `wasmModule` option takes). */
export function kernels(kind: 'simd' | 'scalar'): Promise<WebAssembly.Module> {
  let m = modules.get(kind);
  if (!m) {
    m = readFile(distWasm(kind)).then((b) => WebAssembly.compile(b));
    modules.set(kind, m);
  }
  return m;
}

export const KINDS = ['simd', 'scalar'] as const;

/** The raw exports of one build, for the tests of entry points the backend does not call (mathExp, mathLog). */
export async function rawKernels(kind: 'simd' | 'scalar'): Promise<{
  memory: WebAssembly.Memory;
  heapBase(): number;
  mathExp(src: number, dst: number, n: number): void;
  mathLog(src: number, dst: number, n: number): void;
  simd(): number;
}> {
  const inst = await WebAssembly.instantiate(await kernels(kind), {});
  return inst.exports as never;
}

/** The kernels' vectorised exp or log over `x` (length a multiple of 4), through the raw exports. */
export async function kernelMath(kind: 'simd' | 'scalar', fn: 'exp' | 'log', x: Float32Array): Promise<Float32Array> {
  const k = await rawKernels(kind);
  const src = Math.ceil(k.heapBase() / 16) * 16;
  const dst = src + x.length * 4;
  const need = dst + x.length * 4 - k.memory.buffer.byteLength;
  if (need > 0) k.memory.grow(Math.ceil(need / 65536));
  new Float32Array(k.memory.buffer, src, x.length).set(x);
  (fn === 'exp' ? k.mathExp : k.mathLog)(src, dst, x.length);
  return new Float32Array(k.memory.buffer, dst, x.length).slice();
}
