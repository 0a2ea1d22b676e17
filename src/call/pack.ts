import type { DenseEmissions } from './inputs.js';
import type { BufferLike } from './gpu-inputs.js';
import { type Arrays, FRESH } from './call-arrays.js';

/**
 * What every backend computes on: sequences compacted to their on positions, batch-first, right-padded.
 * Masks with gaps or a masked first step are handled here once, so kernels only ever see lengths.
 */
export interface Packed {
  B: number;
  /** Longest compacted length (at least 1). */
  T: number;
  K: number;
  /** `[B, T, K]`; rows past a sequence's length are never read. */
  emissions: Float32Array | Float64Array;
  lengths: Int32Array;
  /** For each sequence, the dense timestep of each packed step (`[B, T]`, -1 past the length). */
  positions: Int32Array;
  /** Some emissions are −∞: tags a partial annotation rules out (see {@link restrict}). */
  forbidden?: boolean;
  /**
   * `emissions` is the array this call's range check ran on, on the backend's kernels, which may have
   * left a copy of it where a call's emissions go (backends/wasm/backend.ts firstOutOfRange knows
   * whether it did): the kernels may then skip copying it again. Only an array checked for this very
   * call: the CRF reuses its arrays.
   */
  placed?: boolean;
  /**
   * `emissions` is the caller's own array, not yet checked (DenseEmissions.borrowed): whatever copies
   * it where kernels read it checks it there, and refuses a bad value as readEmissions would, naming its
   * index in the caller's batch-first `[B, T, K]` (this call's sequences starting at `first` there).
   */
  unchecked?: boolean;
  /** The caller's index of this call's first sequence, where it is a range of a larger call (0 when absent). */
  first?: number;
  /**
   * Emissions still on the GPU (src/call/gpu-inputs.ts): the caller's buffer, its dense T and layout.
   * Only the webgpu backend reads such a call; `emissions` then throws.
   */
  gpu?: { buffer: BufferLike; denseT: number; batchFirst: boolean; shape: readonly number[] };
}

/** The call packed (see {@link Packed}); `mask` null when every position is on. */
export function pack(em: DenseEmissions, mask: Uint8Array | null, arrays: Arrays = FRESH): Packed {
  const { B, K, data } = em;
  // An empty batch may claim any length; nothing below may loop over it.
  const T = B === 0 ? 1 : em.T;
  const lengths = arrays.lengths(B);
  if (!mask) {
    // Every position on (no mask given): nothing to scan.
    lengths.fill(T);
    return {
      B,
      T,
      K,
      emissions: data,
      lengths,
      positions: allPositions(arrays.positions(B * T), B, T),
      placed: em.checked === true,
      unchecked: em.borrowed === true,
    };
  }
  let prefix = true;
  let Tp = 0;
  for (let b = 0; b < B; b++) {
    let n = 0;
    for (let t = 0; t < T; t++) {
      if (mask[b * T + t]) {
        if (n !== t) prefix = false;
        n++;
      }
    }
    lengths[b] = n;
    if (n > Tp) Tp = n;
  }
  if (prefix) {
    const positions = arrays.positions(B * T).fill(-1);
    for (let b = 0; b < B; b++) for (let t = 0; t < lengths[b]; t++) positions[b * T + t] = t;
    return { B, T, K, emissions: data, lengths, positions, placed: em.checked === true, unchecked: em.borrowed === true };
  }
  Tp = Math.max(Tp, 1);
  const emissions = data instanceof Float32Array ? new Float32Array(B * Tp * K) : new Float64Array(B * Tp * K);
  const positions = arrays.positions(B * Tp).fill(-1);
  for (let b = 0; b < B; b++) {
    let n = 0;
    for (let t = 0; t < T; t++) {
      if (!mask[b * T + t]) continue;
      positions[b * Tp + n] = t;
      emissions.set(data.subarray((b * T + t) * K, (b * T + t + 1) * K), (b * Tp + n) * K);
      n++;
    }
  }
  return { B, T: Tp, K, emissions, lengths, positions };
}

/** `positions` of B sequences of T steps each, all on: 0 … T − 1 in every row (one row written, then copied in doubling blocks). */
function allPositions(positions: Int32Array, B: number, T: number): Int32Array {
  const n = B * T;
  for (let t = 0; t < Math.min(T, n); t++) positions[t] = t;
  for (let have = T; have < n; have *= 2) positions.copyWithin(have, 0, Math.min(have, n - have));
  return positions;
}

/** Whether sequence b's packed steps are its first dense positions (its mask has no gap). */
function gapFree(p: Packed, b: number): boolean {
  const len = p.lengths[b];
  // Positions increase strictly from 0, so the last one is len − 1 exactly when all are 0 … len − 1.
  return len === 0 || p.positions[b * p.T + len - 1] === len - 1;
}

/**
 * Gathers per-position values (`[B, Tdense]`, 0 where the mask is off) into packed order: `tags` itself
 * when every sequence's steps are its first positions (no gaps), where the two orders are one.
 */
export function packTags(p: Packed, tags: Int32Array, denseT: number): Int32Array {
  let same = p.T === denseT;
  for (let b = 0; b < p.B && same; b++) same = gapFree(p, b);
  if (same) return tags;
  const out = new Int32Array(p.B * p.T);
  for (let b = 0; b < p.B; b++) for (let s = 0; s < p.lengths[b]; s++) out[b * p.T + s] = tags[b * denseT + p.positions[b * p.T + s]];
  return out;
}

/**
 * Scatters packed `[B, T, K]` values back to the caller's layout (`[B, Tdense, K]` or
 * `[Tdense, B, K]`), zeros at positions that are off.
 */
export function unpackToLayout(p: Packed, src: ArrayLike<number>, denseT: number, batchFirst: boolean): Float32Array {
  const { B, K } = p;
  const out = new Float32Array(B * denseT * K);
  // A batch-first sequence whose steps are its first positions (no gaps in its mask) is one block.
  const blocks = batchFirst && p.T === denseT && ArrayBuffer.isView(src) ? (src as Float32Array | Float64Array) : null;
  for (let b = 0; b < B; b++) {
    const len = p.lengths[b];
    if (blocks && len > 0 && gapFree(p, b)) {
      out.set(blocks.subarray(b * p.T * K, (b * p.T + len) * K), b * denseT * K);
      continue;
    }
    for (let s = 0; s < len; s++) {
      const t = p.positions[b * p.T + s];
      const dst = (batchFirst ? b * denseT + t : t * B + b) * K;
      const from = (b * p.T + s) * K;
      for (let j = 0; j < K; j++) out[dst + j] = src[from + j];
    }
  }
  return out;
}

/**
 * Packed `[B, T, K]` allowed bits of a dense `[B, Tdense, K]` annotation, and the sequences it leaves
 * with a position where no tag is allowed.
 */
export function packAllowed(p: Packed, allowed: Uint8Array, denseT: number): { bits: Uint8Array; empty: boolean[] } {
  const { B, T, K } = p;
  const bits = new Uint8Array(B * T * K);
  const empty = new Array<boolean>(B).fill(false);
  for (let b = 0; b < B; b++) {
    for (let s = 0; s < p.lengths[b]; s++) {
      const from = (b * denseT + p.positions[b * T + s]) * K,
        to = (b * T + s) * K;
      let any = 0;
      for (let j = 0; j < K; j++) any |= bits[to + j] = allowed[from + j];
      if (!any) empty[b] = true;
    }
  }
  return { bits, empty };
}

/**
 * The emissions with every tag the annotation rules out at −∞, so that each op ranges over the paths
 * it permits; sequences in `unrestricted` keep their emissions (their results are overridden: they
 * admit no path, and a row of −∞ only would be −∞ − −∞ in a kernel).
 */
export function restrict(p: Packed, bits: Uint8Array, unrestricted: boolean[]): Packed {
  // Its −∞ would fail the check a borrowed call's values still need (the CRF claims such a call first).
  if (p.unchecked) throw new Error('webcrf: internal error: a call with unchecked emissions was restricted');
  const { B, T, K } = p;
  const emissions = p.emissions instanceof Float32Array ? new Float32Array(B * T * K) : new Float64Array(B * T * K);
  emissions.set(p.emissions.subarray(0, B * T * K));
  for (let b = 0; b < B; b++) {
    if (unrestricted[b]) continue;
    for (let i = b * T * K, end = i + p.lengths[b] * K; i < end; i++) if (!bits[i]) emissions[i] = -Infinity;
  }
  return { ...p, emissions, forbidden: true, placed: false };
}
