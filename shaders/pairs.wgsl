// pairs.wgsl: expected transition counts, summed over steps and over a group of sequences:
//   q_s(i, j) = p(y_{s-1} = i) exp((b_s[j] - c_{s-1}) + trans[i][j] - L_{s-1}[i]),
// the marginal of i times the conditional of j given i. b_s[j] = L_s[j] + (e_s[j] - E_s) is the backward
// pass's normalised score at step s, rebuilt with the same float32 operations (E_s and c_{s-1} are the
// shifts chain.posteriors stored), and L_{s-1}[i] is the log-sum-exp it took over exactly these terms,
// so the conditionals of a row sum to 1 up to rounding of the terms themselves (not of log Z, which
// with emissions of 1e4 is off by ulps of 1e5).
//
// Prepended by the build: common.wgsl (Dims, NEG, THRESH, WG, floorNeg, lseAdd, lseMerge).
//
// Bindings (group 0):
//   0 dims           uniform               Dims {B, T, K, G, GB}
//   1 lengths        storage, read         u32 [B]
//   2 potentials     storage, read         f32 [start K | end K | trans K*K]
//   3 unary          storage, read         f32 [B, T, K]: p(y_s = j) (unary.wgsl)
//   4 beta           storage, read         f32 [B, T, K]: normalised L = b - e (chain.posteriors)
//   5 emissions      storage, read         f32 [B, T, K]
//   6 norms          storage, read         f32 [2, B, T, 2]: E and c of each row, forward then backward (chain.posteriors)
//   7 partialCounts  storage, read_write   f32 [G, K*K]: group g's counts
//
// Workgroup layout: WG = 256 invocations, one flattened pair p = i*K + j each: workgroup_id.x is the
// tile of 256 pairs (ceil(K*K / 256) tiles), workgroup_id.y the group of GB sequences. Each invocation
// loops over its group's sequences and steps, so the batch reduction needs no atomics; reduce.wgsl sums
// the G partial counts.


@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> lengths: array<u32>;
@group(0) @binding(2) var<storage, read> potentials: array<f32>;
@group(0) @binding(3) var<storage, read> unary: array<f32>;
@group(0) @binding(4) var<storage, read> beta: array<f32>;
@group(0) @binding(5) var<storage, read> emissions: array<f32>;
@group(0) @binding(6) var<storage, read> norms: array<f32>;
@group(0) @binding(7) var<storage, read_write> partialCounts: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let T = dims.T;
  let K = dims.K;
  let KK = K * K;
  let p = wid.x * WG + lid;
  if (p >= KK) {
    return;
  }
  let i = p / K;
  let j = p % K;
  let tr = potentials[2u * K + p];
  var count = 0.0;
  if (tr > THRESH) {
    let b0 = wid.y * dims.GB;
    let b1 = min(dims.B, b0 + dims.GB);
    for (var b = b0; b < b1; b++) {
      let len = lengths[b];
      for (var s = 1u; s < len; s++) {
        let u = unary[(b * T + s - 1u) * K + i];
        let lPrev = beta[(b * T + s - 1u) * K + i];
        let l = beta[(b * T + s) * K + j];
        if (u > 0.0 && lPrev > THRESH && l > THRESH) {
          // The same float32 operations the backward recursion formed b_s[j] with.
          let o = (b * T + s) * K;
          let back = (dims.B + b) * T;
          let bb = floorNeg(l + (emissions[o + j] - norms[(back + s) * 2u]));
          count = count + u * exp(((bb - norms[(back + s - 1u) * 2u + 1u]) + tr) - lPrev);
        }
      }
    }
  }
  partialCounts[wid.y * KK + p] = count;
}
