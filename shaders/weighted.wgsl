// weighted.wgsl: expected transition counts summed over the batch with a weight per sequence,
// counts[n] = sum_b weights[b] * perSequence[b][n] (a gradient's dy_b times each sequence's counts).
//
// Prepended by the build: common.wgsl (Dims, NEG, THRESH, WG, floorNeg, lseAdd, lseMerge).
//
// Bindings (group 0):
//   0 dims         uniform               Dims {B, K, rowsX}
//   1 weights      storage, read         f32 [B]
//   2 perSequence  storage, read         f32 [B, K*K] (pairs.wgsl with one sequence a group)
//   3 counts       storage, read_write   f32 [K*K]
//
// Workgroup layout: WG = 256 invocations, one count each over the flattened range [0, K*K); the 2-D
// dispatch (rowsX, ...) works around the per-dimension limit.

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> weights: array<f32>;
@group(0) @binding(2) var<storage, read> perSequence: array<f32>;
@group(0) @binding(3) var<storage, read_write> counts: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let KK = dims.K * dims.K;
  let n = (wid.y * dims.rowsX + wid.x) * WG + lid;
  if (n < KK) {
    var c = 0.0;
    for (var b = 0u; b < dims.B; b++) {
      c = c + weights[b] * perSequence[b * KK + n];
    }
    counts[n] = c;
  }
}
