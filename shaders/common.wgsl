// common.wgsl: prepended to every shader by scripts/build-shaders.js.

// -Infinity does not exist in WGSL arithmetic (implementations may assume it never occurs): forbidden
// scores are NEG, and anything below THRESH counts as forbidden. Real scores stay many orders of
// magnitude above THRESH (inputs are within ±1e20, and the chain kernels keep every step relative).
// These constants are the one source for the TypeScript side too: the build exports them.
const NEG: f32 = -1e30;
const THRESH: f32 = -1e29;
// Invocations per workgroup of every kernel.
const WG: u32 = 256u;

// One uniform block for every kernel; each uses the fields it needs.
struct Dims {
  B: u32,          // sequences in this chunk
  T: u32,          // padded length
  K: u32,          // tags
  G: u32,          // sequence groups of the pairs kernel
  GB: u32,         // sequences per group
  accumulate: u32, // 1: reduce adds to the counts already there (later chunks)
  rowsX: u32,      // workgroups along x of a 2-D dispatch that stands for a long 1-D one
  pad: u32,
}

fn floorNeg(v: f32) -> f32 {
  return select(v, NEG, v < THRESH);
}

// Online log-sum-exp: a running max m and sum s = sum exp(x - m) as (m, s), one exp per term, the sum
// rescaled when the max moves; lse = m + log(s). Callers leave out forbidden terms (<= THRESH).
fn lseAdd(acc: vec2<f32>, v: f32) -> vec2<f32> {
  if (v > acc.x) {
    return vec2<f32>(v, acc.y * exp(acc.x - v) + 1.0);
  }
  return vec2<f32>(acc.x, acc.y + exp(v - acc.x));
}

// Two running (max, sum) pairs of lseAdd merged into one; with both forbidden, the first unchanged.
fn lseMerge(m1: f32, s1: f32, m2: f32, s2: f32) -> vec2<f32> {
  let mm = max(m1, m2);
  if (mm <= THRESH) {
    return vec2<f32>(m1, s1);
  }
  return vec2<f32>(mm, s1 * exp(m1 - mm) + s2 * exp(m2 - mm));
}
