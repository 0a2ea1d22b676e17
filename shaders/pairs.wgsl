// pairs.wgsl: expected transition counts, summed over steps and over a group of sequences, and each
// sequence's pair score Sum_s Sum_ij q_s(i, j) trans[i][j], with
//   q_s(i, j) = p(y_{s-1} = i) exp(trans[i][j] + b_s[j] - L_{s-1}[i]),   b_s = L_s + e_s,
// the marginal of i times the conditional of j given i. L_{s-1}[i] is the log-sum-exp the backward
// pass took over exactly these float32 terms, so the conditionals of a row sum to 1 up to rounding of
// the terms themselves (not of log Z, which with emissions of 1e4 is off by ulps of 1e5).
//
// Prepended by the build: common.wgsl (Dims, NEG, THRESH, floorNeg, lseAdd, lseMerge).
//
// Bindings (group 0):
//   0 dims           uniform               Dims {B, T, K, G, GB, tiles}
//   1 lengths        storage, read         u32 [B]
//   2 potentials     storage, read         f32 [start K | end K | trans K*K]
//   3 unary          storage, read         f32 [B, T, K]: p(y_s = j) (unary.wgsl)
//   4 beta           storage, read         f32 [B, T, K]: L = b - e (chain.fb)
//   5 emissions      storage, read         f32 [B, T, K]
//   6 partialCounts  storage, read_write   f32 [G, K*K]: group g's counts
//   7 partialPair    storage, read_write   f32 [B, tiles]: sequence b's pair score over tile x
//
// Workgroup layout: WG = 256 invocations, one flattened pair p = i*K + j each: workgroup_id.x is the
// tile of 256 pairs (tiles = ceil(K*K / 256)), workgroup_id.y the group of GB sequences. Each invocation
// loops over its group's sequences and steps, so the batch reduction needs no atomics; reduce.wgsl sums
// the G partial counts and the tiles of each pair score.

const WG: u32 = 256u;

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> lengths: array<u32>;
@group(0) @binding(2) var<storage, read> potentials: array<f32>;
@group(0) @binding(3) var<storage, read> unary: array<f32>;
@group(0) @binding(4) var<storage, read> beta: array<f32>;
@group(0) @binding(5) var<storage, read> emissions: array<f32>;
@group(0) @binding(6) var<storage, read_write> partialCounts: array<f32>;
@group(0) @binding(7) var<storage, read_write> partialPair: array<f32>;

var<workgroup> red: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let T = dims.T;
  let K = dims.K;
  let KK = K * K;
  let p = wid.x * WG + lid;
  let live = p < KK;
  let i = p / K;
  let j = p % K;
  var tr = NEG;
  if (live) {
    tr = potentials[2u * K + p];
  }
  var count = 0.0;
  let b0 = wid.y * dims.GB;
  let b1 = min(dims.B, b0 + dims.GB);
  for (var b = b0; b < b1; b++) {
    var pair = 0.0;
    if (live && tr > THRESH) {
      let len = lengths[b];
      for (var s = 1u; s < len; s++) {
        let u = unary[(b * T + s - 1u) * K + i];
        let lPrev = beta[(b * T + s - 1u) * K + i];
        let l = beta[(b * T + s) * K + j];
        if (u > 0.0 && lPrev > THRESH && l > THRESH) {
          // The same float32 sum the backward recursion formed for b_s[j].
          let bb = floorNeg(l + emissions[(b * T + s) * K + j]);
          let q = u * exp(tr + bb - lPrev);
          count = count + q;
          pair = pair + q * tr;
        }
      }
    }
    red[lid] = pair;
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
      if (lid < stride) {
        red[lid] = red[lid] + red[lid + stride];
      }
      workgroupBarrier();
    }
    if (lid == 0u) {
      partialPair[b * dims.tiles + wid.x] = red[0];
    }
    workgroupBarrier();
  }
  if (live) {
    partialCounts[wid.y * KK + p] = count;
  }
}
