// Shared by the wasm-*.test.ts files: deterministic data and the two builds of the kernels.
import { readFile } from 'node:fs/promises';
import { distWasm } from './wasm-setup.js';

export function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    normal: () => Math.sqrt(-2 * Math.log(next() + 1e-300)) * Math.cos(2 * Math.PI * next()),
    int: (n: number) => Math.floor(next() * n),
    /** Integer in [lo, hi], log-uniform so that small and large sizes both occur. */
    logInt: (lo: number, hi: number) => Math.min(hi, Math.floor(Math.exp(Math.log(lo) + next() * (Math.log(hi + 1) - Math.log(lo))))),
  };
}

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
