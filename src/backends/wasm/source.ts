import { WasmLoadError, messageOf } from '../../errors.js';

/**
 * Where the WASM kernels come from. Each package entry (package.json `exports` conditions) has its
 * routes, tried in order until one gives a compiled module:
 *  - `node` (Node, Deno, Bun): read the `.wasm` beside the JS, then the inline copy;
 *  - `workerd`: the `.wasm` files imported as modules (workerd compiles them at upload and refuses
 *    to compile bytes at run time);
 *  - `browser`/`default`: fetch `new URL('./webcrf.<kind>.wasm', import.meta.url)` (the pattern Vite,
 *    webpack and Rollup rewrite to an emitted asset), then the inline copy (set by choose.ts).
 * The inline copy (inline.ts) is the kernels' bytes in a JS module (src/generated/, made at build
 * time), loaded only when the file route fails: bundlers that drop the `.wasm` (esbuild, bun build),
 * IIFE bundles without `import.meta.url`, Deno without `--allow-read`, Node importing `dist/index.js`
 * by path.
 * A `wasmModule` option bypasses all of this.
 */

type WasmKind = 'simd' | 'scalar';

/** One way to obtain the compiled kernels; it throws, saying what failed, when it cannot. */
export interface WasmRoute {
  /** Short name for messages: 'file', 'fetch', 'inline', 'module import'. */
  name: string;
  load(kind: WasmKind): Promise<WebAssembly.Module>;
}

/** The compiled kernels and how they were obtained. */
interface LoadedKernels {
  module: WebAssembly.Module;
  kind: WasmKind;
  /** The route that worked, e.g. `fetch http://…/webcrf.simd.wasm` or `inline`. */
  from: string;
}

// (module (func (result v128) i32.const 0 i8x16.splat i8x16.popcnt)): validates only where SIMD does.
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11]);

/** Whether this engine runs WebAssembly SIMD (checked on a tiny module, without compiling the kernels). */
export function simdSupported(validate: (bytes: BufferSource) => boolean = (b) => WebAssembly.validate(b)): boolean {
  try {
    return validate(SIMD_PROBE);
  } catch {
    return false;
  }
}

/** The built kernels' location relative to the built module this code is bundled into (dist/*.js → dist/). Literal URLs so bundlers see them. */
export function wasmUrl(kind: WasmKind): URL {
  return kind === 'simd' ? new URL('./webcrf.simd.wasm', import.meta.url) : new URL('./webcrf.scalar.wasm', import.meta.url);
}

/** The module's own URL, or a reason it has none (an IIFE or CommonJS bundle turns import.meta into {}). */
function urlOf(kind: WasmKind): URL {
  try {
    return wasmUrl(kind);
  } catch (e) {
    throw new Error(`no URL for the .wasm file (import.meta.url is ${String(import.meta.url)} in this bundle: ${messageOf(e)})`, { cause: e });
  }
}

/** The `browser`/`default` file route: fetch beside the module, streaming compile when served as application/wasm. */
export const fetchRoute: WasmRoute = {
  name: 'fetch',
  async load(kind) {
    const url = urlOf(kind);
    // Node's fetch does not read file: URLs (Deno's and Bun's do); failing here saves starting its HTTP
    // client before the inline copy.
    const g = globalThis as { process?: { versions?: Record<string, string> }; Deno?: unknown };
    if (url.protocol === 'file:' && g.process?.versions?.node && !g.process.versions.bun && !g.Deno) {
      throw new Error(`Node's fetch cannot read ${url.href} (import webcrf through its node export condition to read the file)`);
    }
    let res: Response;
    try {
      res = await fetch(url);
    } catch (e) {
      throw new Error(`fetch ${url.href} failed (${messageOf(e)})`, { cause: e });
    }
    if (!res.ok) throw new Error(`fetch ${url.href} answered HTTP ${res.status}`);
    try {
      if (typeof WebAssembly.compileStreaming === 'function' && (res.headers.get('content-type') ?? '').startsWith('application/wasm')) {
        return await WebAssembly.compileStreaming(res);
      }
      return await WebAssembly.compile(await res.arrayBuffer());
    } catch (e) {
      throw new Error(`${url.href} did not compile (${messageOf(e)})`, { cause: e });
    }
  },
};

// Null until set: by the `node` and `workerd` entries when imported, else by the backend's choice
// (choose.ts) before its first load. Not here: a worker thread, handed its module, reaches this file
// but not choose.ts, and a bundler would emit the inline copies (inline.ts) beside it.
let routes: WasmRoute[] | null = null;
const loaded = new Map<WasmKind, Promise<LoadedKernels>>();

/** Replaces how the kernels are obtained (called by the runtime entries; tests point it at dist/). */
export function setWasmRoutes(r: WasmRoute[]): void {
  routes = r;
  loaded.clear();
}

/** Sets `r` where no entry has set routes: choose.ts gives the `browser`/`default` ones (fetch, then the inline copy). */
export function setDefaultWasmRoutes(r: WasmRoute[]): void {
  routes ??= r;
}

async function load(kind: WasmKind): Promise<LoadedKernels> {
  const failures: string[] = [];
  if (!routes) failures.push('none: no way to load the kernels was set up (the package entries and CRF.create set one up)');
  for (const r of routes ?? []) {
    try {
      return { module: await r.load(kind), kind, from: r.name };
    } catch (e) {
      failures.push(`${r.name}: ${messageOf(e)}`);
    }
  }
  throw new WasmLoadError(kind, failures);
}

/** The compiled kernels for this engine (SIMD where it validates, else scalar), loaded once. */
export function builtinWasmModule(kind: WasmKind = simdSupported() ? 'simd' : 'scalar'): Promise<LoadedKernels> {
  let m = loaded.get(kind);
  if (!m) {
    m = load(kind);
    loaded.set(kind, m);
    // A failed load (offline, missing asset) must not poison later attempts.
    m.catch(() => loaded.delete(kind));
  }
  return m;
}
