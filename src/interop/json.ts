import { describe } from '../errors.js';

/**
 * A strict, bounded JSON parser for documents from untrusted sources (a safetensors header). It accepts
 * JSON.parse's grammar, but objects become Maps and a repeated key is an error: JSON.parse silently
 * keeps the last one, which would let two readers of one file see different contents. Nesting is
 * bounded so that a hostile document cannot exhaust the stack.
 */

/** A parsed value: objects are Maps, so a key such as `__proto__` is just a key. */
export type Json = null | boolean | number | string | Json[] | Map<string, Json>;

/**
 * Builds the error a malformed document throws, from what was expected and what was found (the
 * caller decides which argument is at fault).
 */
type JsonFailure = (expected: string, given: string) => Error;

/** Deepest nesting accepted by default (each level is a frame of the recursive descent). */
const MAX_DEPTH = 64;

/**
 * Parses `src` whole.
 * @param name what the document is, in messages (`the header`, `a valid JSON header`).
 * @param fail makes each syntax error; its result is thrown.
 */
export function parseJson(src: string, name: string, fail: JsonFailure, maxDepth = MAX_DEPTH): Json {
  let i = 0;
  const invalid = `a valid JSON ${name}`;
  const where = () => `at character ${i} of the ${name}`;
  const ws = () => {
    while (i < src.length && (src[i] === ' ' || src[i] === '\t' || src[i] === '\n' || src[i] === '\r')) i++;
  };
  const num = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
  // Runs of plain characters are sliced whole (a character at a time, a 90 MB string took seconds and
  // gigabytes); only escapes are handled one by one.
  // eslint-disable-next-line no-control-regex -- JSON forbids raw control characters in strings: they end a plain run
  const plain = /[^"\\\x00-\x1f]*/y;
  const simple: Readonly<Record<string, string>> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
  const str = (): string => {
    i++;
    const parts: string[] = [];
    for (;;) {
      plain.lastIndex = i;
      plain.exec(src);
      if (plain.lastIndex > i) parts.push(src.slice(i, plain.lastIndex));
      i = plain.lastIndex;
      if (i >= src.length) throw fail(invalid, `an unterminated string ${where()}`);
      const c = src.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return parts.join('');
      }
      if (c < 0x20) throw fail(invalid, `a raw control character in a string ${where()}`);
      const e = src[i + 1];
      if (e !== undefined && Object.hasOwn(simple, e)) {
        parts.push(simple[e]);
        i += 2;
        continue;
      }
      if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(src.slice(i + 2, i + 6))) {
        parts.push(String.fromCharCode(parseInt(src.slice(i + 2, i + 6), 16)));
        i += 6;
        continue;
      }
      throw fail(invalid, `a bad escape ${where()}`);
    }
  };
  const value = (depth: number): Json => {
    if (depth > maxDepth) throw fail(`a JSON ${name} nested at most ${maxDepth} deep`, `deeper nesting ${where()}`);
    ws();
    const c = src[i];
    if (c === '{') {
      i++;
      const obj = new Map<string, Json>();
      ws();
      if (src[i] === '}') {
        i++;
        return obj;
      }
      for (;;) {
        ws();
        if (src[i] !== '"') throw fail(invalid, `no key string ${where()}`);
        const k = str();
        ws();
        if (src[i] !== ':') throw fail(invalid, `no ':' ${where()}`);
        i++;
        if (obj.has(k)) throw fail(`unique keys in the ${name}`, `the key ${describe(k)} twice`);
        obj.set(k, value(depth + 1));
        ws();
        if (src[i] === ',') {
          i++;
          continue;
        }
        if (src[i] === '}') {
          i++;
          return obj;
        }
        throw fail(invalid, `neither ',' nor '}' ${where()}`);
      }
    }
    if (c === '[') {
      i++;
      const arr: Json[] = [];
      ws();
      if (src[i] === ']') {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value(depth + 1));
        ws();
        if (src[i] === ',') {
          i++;
          continue;
        }
        if (src[i] === ']') {
          i++;
          return arr;
        }
        throw fail(invalid, `neither ',' nor ']' ${where()}`);
      }
    }
    if (c === '"') return str();
    for (const [lit, v] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (src.startsWith(lit, i)) {
        i += lit.length;
        return v;
      }
    }
    num.lastIndex = i;
    const m = num.exec(src);
    if (m) {
      i += m[0].length;
      return Number(m[0]);
    }
    throw fail(invalid, i >= src.length ? `the ${name} ending early` : `an unexpected character ${describe(src[i])} ${where()}`);
  };
  const v = value(0);
  ws();
  if (i !== src.length) throw fail(`${invalid} (optionally padded with spaces)`, `extra content ${where()}`);
  return v;
}
