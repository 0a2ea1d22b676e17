/**
 * Where the WASM kernels come from. The package entry for each runtime registers a source
 * (package.json `exports` conditions): `node` reads the bytes beside the JS, `workerd` imports the
 * `.wasm` files as modules (workerd will not compile bytes at runtime), and everything else (`browser`,
 * `default`) fetches `new URL('../webcrf.<kind>.wasm', import.meta.url)`, the pattern bundlers rewrite to
 * an emitted asset. A `wasmModule` option bypasses all of this.
 */

export type WasmKind = 'simd' | 'scalar';
/** Gives the compiled module of one build of the kernels. */
export type WasmSource = (kind: WasmKind) => Promise<WebAssembly.Module>;

// (module (func (result v128) i32.const 0 i8x16.splat i8x16.popcnt)): validates only where SIMD does.
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11,
]);

/** Whether this engine runs WebAssembly SIMD (checked on a tiny module, without compiling the kernels). */
export function simdSupported(validate: (bytes: BufferSource) => boolean = (b) => WebAssembly.validate(b)): boolean {
  try {
    return validate(SIMD_PROBE);
  } catch {
    return false;
  }
}

/** The built kernels' location relative to this module (dist/backends/ → dist/). Literal URLs so bundlers see them. */
export function wasmUrl(kind: WasmKind): URL {
  return kind === 'simd' ? new URL('../webcrf.simd.wasm', import.meta.url) : new URL('../webcrf.scalar.wasm', import.meta.url);
}

/** The `browser`/`default` source: fetch beside the module, streaming compile when served as application/wasm. */
export const fetchSource: WasmSource = async (kind) => {
  const url = wasmUrl(kind);
  const res = await fetch(url);
  if (!res.ok) throw new Error(`webcrf: could not fetch ${url.href} (HTTP ${res.status})`);
  if (typeof WebAssembly.compileStreaming === 'function' && (res.headers.get('content-type') ?? '').startsWith('application/wasm')) {
    return WebAssembly.compileStreaming(res);
  }
  return WebAssembly.compile(await res.arrayBuffer());
};

let source: WasmSource = fetchSource;
const compiled = new Map<WasmKind, Promise<WebAssembly.Module>>();

/** Replaces how the kernels are obtained (called by the runtime entries; tests point it at dist/). */
export function setWasmSource(s: WasmSource): void {
  source = s;
  compiled.clear();
}

/** The compiled kernels for this engine (SIMD where it validates, else scalar), compiled once. */
export function builtinWasmModule(kind: WasmKind = simdSupported() ? 'simd' : 'scalar'): Promise<WebAssembly.Module> {
  let m = compiled.get(kind);
  if (!m) {
    m = source(kind);
    compiled.set(kind, m);
    // A failed load (offline, missing asset) must not poison later attempts.
    m.catch(() => compiled.delete(kind));
  }
  return m;
}
