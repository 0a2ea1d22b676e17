// summary.wgsl: what the posteriors encoder (src/backends/webgpu/posteriors-encoder.ts) writes per
// sequence besides the marginals, on the GPU: log Z, the chain kernel's relative score plus every
// forward row's shifts (E, c) summed in order (in float32 here, where the host path sums them in
// float64), NEG where no path is allowed; and the marginals of the first and the last tag.
//
// Prepended by the build: common.wgsl (Dims, NEG, THRESH, WG, floorNeg, lseAdd, lseMerge).
//
// Bindings (group 0):
//   0 dims      uniform               Dims {B, T, K, rowsX}
//   1 lengths   storage, read         u32 [B]
//   2 scores    storage, read         f32 [B]: log Z less the shifts (chain.posteriors), NEG = no path
//   3 norms     storage, read         f32 [2, B, T, 2]: E and c of each row (the forward half is used)
//   4 unary     storage, read         f32 [B, T, K]: p(y_s = j) (unary.wgsl)
//   5 logZ      storage, read_write   f32 [B]
//   6 first     storage, read_write   f32 [B, K]: p(y_0 = j), 0 for an empty sequence
//   7 last      storage, read_write   f32 [B, K]: p(y_{len-1} = j), 0 for an empty sequence
//
// Workgroup layout: WG = 256 invocations, one (b, j) each over the flattened range [0, B*K); the 2-D
// dispatch (rowsX, ...) works around the per-dimension limit. The invocation of j = 0 writes log Z.

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> lengths: array<u32>;
@group(0) @binding(2) var<storage, read> scores: array<f32>;
@group(0) @binding(3) var<storage, read> norms: array<f32>;
@group(0) @binding(4) var<storage, read> unary: array<f32>;
@group(0) @binding(5) var<storage, read_write> logZ: array<f32>;
@group(0) @binding(6) var<storage, read_write> first: array<f32>;
@group(0) @binding(7) var<storage, read_write> last: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let K = dims.K;
  let T = dims.T;
  let i = (wid.y * dims.rowsX + wid.x) * WG + lid;
  if (i >= dims.B * K) {
    return;
  }
  let b = i / K;
  let j = i % K;
  let len = lengths[b];
  if (len == 0u) {
    first[i] = 0.0;
    last[i] = 0.0;
  } else {
    first[i] = unary[(b * T) * K + j];
    last[i] = unary[(b * T + len - 1u) * K + j];
  }
  if (j == 0u) {
    var z = scores[b];
    if (len == 0u) {
      z = 0.0;
    } else if (z > THRESH) {
      for (var t = 0u; t < len; t++) {
        z = z + norms[(b * T + t) * 2u] + norms[(b * T + t) * 2u + 1u];
      }
    } else {
      z = NEG;
    }
    logZ[b] = z;
  }
}
