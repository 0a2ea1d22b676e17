// The kernels module as the JS side sees it: the exports every op shares (its ops' own are found by
// name, ops/op.ts's WasmBinding), and views of its linear memory.
import type { KernelFn } from '../../ops/op.js';
import { OPS } from '../../ops/index.js';

/** The shared exports (assembly/index.ts). Every pointer is a byte offset into `memory`. */
export interface Kernels {
  memory: WebAssembly.Memory;
  heapBase(): number;
  tableBytes(K: number): number;
  setup(K: number, start: number, end: number, trans: number, tables: number): void;
  mathExp(src: number, dst: number, n: number): void;
  mathLog(src: number, dst: number, n: number): void;
  simd(): number;
  logSpaceFallbacks(): number;
  firstOutOfRange(p: number, n: number, maxBits: number): number;
}

/** Views of a whole linear memory; an offset in bytes is `offset >>> 2` in f32/i32, `offset >>> 3` in f64 (every region is 16-byte aligned). */
export interface MemoryViews {
  buf: ArrayBuffer;
  f32: Float32Array;
  i32: Int32Array;
  f64: Float64Array;
}

/** An op's export, or its work area's size function (`<kernel>WorkBytes`). */
export function exportOf(k: Kernels, name: string): KernelFn {
  return (k as unknown as Record<string, KernelFn>)[name];
}

/** The exports of a kernels module, checked: every op's kernel and work-area size must be there. */
export function kernelsOf(instance: WebAssembly.Instance): Kernels {
  const k = instance.exports as unknown as Kernels;
  const missing = Object.values(OPS)
    .flatMap(({ wasm }) => [wasm.kernel, `${wasm.kernel}WorkBytes`])
    .concat('firstOutOfRange')
    .filter((n) => typeof exportOf(k, n) !== 'function');
  if (missing.length || !(k.memory instanceof WebAssembly.Memory)) {
    throw new TypeError(`wasmModule: not a webcrf kernels module (exports missing: ${missing.join(', ') || 'memory'})`);
  }
  return k;
}
