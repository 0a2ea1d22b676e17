// What the JS side and the tests ask about the kernels rather than of them: which build this is, how
// often the scaled linear-space pass had to be redone in log space, and the lane exp/log on their own.

import { vexp, vlog } from './lanes';

/** Sequences that fell back from scaled linear space to log space (tests check both paths run). */
let fallbacks: i32 = 0;

/** Counts one sequence redone in log space. */
@inline export function noteLogSpaceFallback(): void {
  fallbacks++;
}

export function logSpaceFallbacks(): i32 {
  return fallbacks;
}

/** Vectorised exp over n floats (n a multiple of 4), for the accuracy tests. */
export function mathExp(src: usize, dst: usize, n: i32): void {
  if (ASC_FEATURE_SIMD) for (let i = 0; i < n; i += 4) v128.store(dst + (<usize>i << 2), vexp<v128>(v128.load(src + (<usize>i << 2))));
  else for (let i = 0; i < n; i++) store<f32>(dst + (<usize>i << 2), vexp<f32>(load<f32>(src + (<usize>i << 2))));
}

/** Vectorised log over n floats (n a multiple of 4), for the accuracy tests. */
export function mathLog(src: usize, dst: usize, n: i32): void {
  if (ASC_FEATURE_SIMD) for (let i = 0; i < n; i += 4) v128.store(dst + (<usize>i << 2), vlog<v128>(v128.load(src + (<usize>i << 2))));
  else for (let i = 0; i < n; i++) store<f32>(dst + (<usize>i << 2), vlog<f32>(load<f32>(src + (<usize>i << 2))));
}

/** 1 when this build uses SIMD lanes. */
export function simd(): i32 {
  return ASC_FEATURE_SIMD ? 1 : 0;
}
