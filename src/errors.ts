import { typedArrayKind, typedLength } from './call/typed.js';
import { MAX_MAGNITUDE_TEXT } from './limits.js';

/**
 * Thrown for every invalid argument. The message names the argument, what was expected and what
 * was given, e.g. `emissions: expected a finite number at [0][2][1], got NaN`.
 */
export class CRFInputError extends Error {
  /** The argument at fault (`emissions`, `tags`, `mask`, `reduction`, ...). */
  readonly argument: string;
  /**
   * Builds the message `<argument>: expected <expected>, got <given>`.
   * @param argument the argument at fault, e.g. `emissions` or `stateDict.transitions`.
   * @param expected what was expected, e.g. `last dimension 5 (numTags) in [batch, seq, tags]`.
   * @param given what was given, e.g. `shape [2, 3, 4]`.
   */
  constructor(argument: string, expected: string, given: string) {
    super(`${argument}: expected ${expected}, got ${given}`);
    this.name = 'CRFInputError';
    this.argument = argument;
  }
}

/** A short, bounded description of a value for error messages. */
export function describe(v: unknown): string {
  try {
    return describeValue(v);
  } catch {
    // A Proxy or a getter that throws: the message must still be built.
    return 'an object that cannot be inspected';
  }
}

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (typeof v === 'number') return Number.isNaN(v) ? 'NaN' : String(v);
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v);
  if (typeof v === 'boolean') return String(v);
  // 1n, not 1: "expected an integer, got 1" would name no fault.
  if (typeof v === 'bigint') return `${v}n`;
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  const kind = typedArrayKind(v);
  if (kind) return `a ${kind} of length ${typedLength(v as ArrayBufferView)}`;
  if (ArrayBuffer.isView(v)) return 'a DataView';
  if (typeof v === 'function') return 'a function';
  return `an object (${Object.prototype.toString.call(v).slice(8, -1)})`;
}

/** A shape for error messages, bounded: a hostile 2M-entry shape must not become a 6 MB message. */
export function shapeStr(shape: ArrayLike<unknown>): string {
  try {
    const n = shape.length;
    const shown = Array.from({ length: Math.min(n, 6) }, (_, i) => (typeof shape[i] === 'number' ? String(shape[i]) : describe(shape[i])));
    return `[${shown.join(', ')}${n > 6 ? `, … (${n} dimensions)` : ''}]`;
  } catch {
    return 'a shape that cannot be inspected';
  }
}

/** What was thrown, as a clause for a sentence saying why something failed (not everything thrown is an Error). */
export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Runs a reader of a caller's argument: anything it throws that is not a CRFInputError (a revoked
 * Proxy, a getter or trap that throws) becomes one naming the argument, with what was thrown.
 */
export function reading<T>(arg: string, read: () => T): T {
  try {
    return read();
  } catch (e) {
    if (e instanceof CRFInputError) throw e;
    const what = e instanceof Error ? `${e.name}: ${e.message}` : describe(e);
    throw new CRFInputError(arg, 'a value whose contents can be read', `one whose reading threw ${what.length > 200 ? what.slice(0, 200) + '…' : what}`);
  }
}

/** `[i][j]…` of the flat index `flat` in an array of the given shape, row-major. */
export function indexPath(flat: number, shape: readonly number[]): string {
  const idx: number[] = [];
  for (let d = shape.length - 1; d >= 0; d--) {
    idx.unshift(flat % shape[d]);
    flat = Math.floor(flat / shape[d]);
  }
  return idx.map((i) => `[${i}]`).join('');
}

/** The refusal of a value out of the supported range (NaN and ±Infinity included) at `at` (an index path). */
export function rangeError(arg: string, v: unknown, at: string): CRFInputError {
  if (typeof v === 'number' && Number.isFinite(v)) {
    return new CRFInputError(arg, `a number within ${MAX_MAGNITUDE_TEXT} (the supported range) at ${at}`, describe(v));
  }
  return new CRFInputError(arg, `a finite number at ${at}`, describe(v));
}

/** Every route to the WASM kernels failed: the message lists each route's failure and what to do. */
export class WasmLoadError extends Error {
  /** One line per route tried: its name and what failed, e.g. `fetch: … answered HTTP 404`. */
  readonly failures: string[];
  /**
   * Builds the message from what each route said.
   * @param kind the build that was looked for: `'simd'` or `'scalar'`.
   * @param failures what each route said.
   */
  constructor(kind: 'simd' | 'scalar', failures: string[]) {
    super(
      `webcrf: the WebAssembly kernels (${kind} build) could not be loaded: ${failures.join('; ')}. ` +
        'Where WebAssembly may not be compiled from bytes, allow it (a Content-Security-Policy needs ' +
        "'wasm-unsafe-eval'), or on Cloudflare Workers import 'webcrf' with the workerd export condition " +
        '(wrangler sets it), which imports the .wasm files as modules; or pass a compiled module as ' +
        'CRF.create(K, { wasmModule }).',
    );
    this.name = 'WasmLoadError';
    this.failures = failures;
  }
}
