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
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (typeof v === 'number') return Number.isNaN(v) ? 'NaN' : String(v);
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v);
  if (typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  if (ArrayBuffer.isView(v)) return `a ${v.constructor.name} of length ${(v as unknown as ArrayLike<unknown>).length}`;
  if (typeof v === 'function') return 'a function';
  return `an object (${Object.prototype.toString.call(v).slice(8, -1)})`;
}

export function shapeStr(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
