// How an op's work area is laid out. The JS side (src/backends/wasm/backend.ts) places the raw
// potentials, tables, emissions, lengths and outputs from `heapBase()` on, then one work area of
// `<op>WorkBytes(T, K, n)` bytes. Each op describes its area once, as a layout function in its own file:
// it takes the op's sections one after another with `section` and records their offsets in the op's
// static record. The op runs it from its `work` pointer; its WorkBytes export runs the same function
// from 0 and returns the end. The size the JS side reserves is therefore the area the op uses.

import { padK } from '../tables';

/** First free byte after the module's own data: the JS layout starts here. */
export function heapBase(): usize {
  return __heap_base;
}

/**
 * Where the next section starts. Counted in f64: for a call too large for a wasm32 memory, WorkBytes
 * must return its true size (the JS side then refuses the call), not one wrapped to 32 bits.
 */
let next: f64 = 0;

/** Starts laying out an area at `base`. */
@inline export function layoutFrom(base: usize): void {
  next = <f64>base;
}

/** Takes the next section, of `bytes` bytes, 16-byte aligned; returns its offset. */
@inline export function section(bytes: f64): usize {
  const at = next;
  next = Math.ceil((at + bytes) / 16) * 16;
  return <usize>at;
}

/** Where the last section ends: the area's size when laid out from 0. */
@inline export function layoutEnd(): f64 {
  return next;
}

/** Bytes of n padded rows of K tags. */
@inline export function rows(K: i32, n: f64): f64 {
  return n * <f64>padK(K) * 4;
}
