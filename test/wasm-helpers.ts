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
