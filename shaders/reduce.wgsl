// reduce.wgsl: the last step of the posteriors: transition counts summed over the G sequence groups
// (added to the previous chunks' when accumulate is 1).
//
// Prepended by the build: common.wgsl (Dims, NEG, THRESH, WG, floorNeg, lseAdd, lseMerge).
//
// Bindings (group 0):
//   0 dims           uniform               Dims {K, G, accumulate, rowsX}
//   1 partialCounts  storage, read         f32 [G, K*K]
//   2 counts         storage, read_write   f32 [K*K]
//
// Workgroup layout: WG = 256 invocations, one count each over the flattened range [0, K*K). 2-D
// dispatch (rowsX, ...) around the per-dimension limit.


@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> partialCounts: array<f32>;
@group(0) @binding(2) var<storage, read_write> counts: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let KK = dims.K * dims.K;
  let n = (wid.y * dims.rowsX + wid.x) * WG + lid;
  if (n < KK) {
    var c = 0.0;
    if (dims.accumulate == 1u) {
      c = counts[n];
    }
    for (var g = 0u; g < dims.G; g++) {
      c = c + partialCounts[g * KK + n];
    }
    counts[n] = c;
  }
}
