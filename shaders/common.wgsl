// common.wgsl: prepended to every shader by scripts/build-shaders.js.

// -Infinity does not exist in WGSL arithmetic (implementations may assume it never occurs): forbidden
// scores are NEG, and anything below THRESH counts as forbidden. Real scores stay many orders of
// magnitude above THRESH (the backend sends inputs beyond 1e20 to the CPU).
const NEG: f32 = -1e30;
const THRESH: f32 = -1e29;

// One uniform block for every kernel; each uses the fields it needs.
struct Dims {
  B: u32,          // sequences in this chunk
  T: u32,          // padded length
  K: u32,          // tags
  G: u32,          // sequence groups of the pairs kernel
  GB: u32,         // sequences per group
  tiles: u32,      // pair tiles of 256 in K*K
  accumulate: u32, // 1: reduce adds to the counts already there (later chunks)
  rowsX: u32,      // workgroups along x of a 2-D dispatch that stands for a long 1-D one
}

fn floorNeg(v: f32) -> f32 {
  return select(v, NEG, v < THRESH);
}

// Online log-sum-exp: a running max m and sum s = sum exp(x - m), one exp per term, the sum rescaled
// when the max moves; lse = m + log(s). Callers leave out forbidden terms (<= THRESH).
fn lseAdd(m: ptr<function, f32>, s: ptr<function, f32>, v: f32) {
  if (v > *m) {
    *s = *s * exp(*m - v) + 1.0;
    *m = v;
  } else {
    *s = *s + exp(v - *m);
  }
}

// Two running (max, sum) pairs of lseAdd merged into one; with both forbidden, the first unchanged.
fn lseMerge(m1: f32, s1: f32, m2: f32, s2: f32) -> vec2<f32> {
  let mm = max(m1, m2);
  if (mm <= THRESH) {
    return vec2<f32>(m1, s1);
  }
  return vec2<f32>(mm, s1 * exp(m1 - mm) + s2 * exp(m2 - mm));
}
