// unary.wgsl: posterior marginals p(y_s = j) from a and b (chain.fb), replacing the emissions in place.
// Each row (b, s) is normalised by its own log-sum-exp z_s = lse_j(a_s[j] + b_s[j] - e_s[j]), which
// equals log Z in exact arithmetic; in float32 the per-row normaliser cancels the rounding that a and
// b accumulated over the steps (with emissions of 1e4 a global log Z would be off by whole ulps of 1e5).
//
// Prepended by the build: common.wgsl (Dims, NEG, THRESH, floorNeg).
//
// Bindings (group 0):
//   0 dims       uniform               Dims {B, T, K, rowsX}
//   1 emissions  storage, read_write   f32 [B, T, K]: e in, p(y_s = j) out (0 past each length)
//   2 lengths    storage, read         u32 [B]
//   3 alpha      storage, read         f32 [B, T, K]
//   4 beta       storage, read         f32 [B, T, K]
//   5 rowZ       storage, read_write   f32 [B, T]: z_s per row (NEG past the length or with no path)
//
// Workgroup layout: WG = 256 invocations = SEQ rows x TPS lanes, lane l owns tags l, l + TPS, ...
// (TILE of them); with SYNC=false ("solo") TPS = 1, TILE = K, WG = SEQ and no barriers. Rows are
// flattened over (b, s); the 2-D dispatch (rowsX, ceil(blocks / rowsX)) only
// works around the 65535 limit per dimension.

override WG: u32 = 256u;
override TPS: u32 = 256u;
override TILE: u32 = 1u;
override SEQ: u32 = WG / TPS;

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read_write> emissions: array<f32>;
@group(0) @binding(2) var<storage, read> lengths: array<u32>;
@group(0) @binding(3) var<storage, read> alpha: array<f32>;
@group(0) @binding(4) var<storage, read> beta: array<f32>;
@group(0) @binding(5) var<storage, read_write> rowZ: array<f32>;

var<workgroup> redV: array<f32, WG>;
var<workgroup> redS: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let T = dims.T;
  let K = dims.K;
  let slot = lid / TPS;
  let lane = lid % TPS;
  let row = (wid.y * dims.rowsX + wid.x) * SEQ + slot;
  let inBatch = row < dims.B * T;
  var on = false;
  if (inBatch) {
    on = row % T < lengths[row / T];
  }

  var m = NEG;
  var s = 0.0;
  if (on) {
    for (var k = 0u; k < TILE; k++) {
      let j = lane + k * TPS;
      if (j < K) {
        let o = row * K + j;
        let a = alpha[o];
        let bb = beta[o];
        if (a > THRESH && bb > THRESH) {
          let v = a + bb - emissions[o];
          if (v > m) {
            s = s * exp(m - v) + 1.0;
            m = v;
          } else {
            s = s + exp(v - m);
          }
        }
      }
    }
  }
  redV[lid] = m;
  redS[lid] = s;
#if ${SYNC}
  workgroupBarrier();
#endif
#if ${SYNC}
  for (var stride = TPS / 2u; stride > 0u; stride = stride / 2u) {
    if (lane < stride) {
      let m1 = redV[lid];
      let m2 = redV[lid + stride];
      let mm = max(m1, m2);
      if (mm > THRESH) {
        redS[lid] = redS[lid] * exp(m1 - mm) + redS[lid + stride] * exp(m2 - mm);
        redV[lid] = mm;
      }
    }
#if ${SYNC}
    workgroupBarrier();
#endif
  }
#endif
  let top = redV[slot * TPS];
  let z = select(NEG, top + log(redS[slot * TPS]), on && top > THRESH);
  if (inBatch) {
    if (lane == 0u) {
      rowZ[row] = z;
    }
    for (var k = 0u; k < TILE; k++) {
      let j = lane + k * TPS;
      if (j < K) {
        let o = row * K + j;
        var p = 0.0;
        if (z > THRESH && alpha[o] > THRESH && beta[o] > THRESH) {
          p = exp(alpha[o] + beta[o] - emissions[o] - z);
        }
        emissions[o] = p;
      }
    }
  }
}
