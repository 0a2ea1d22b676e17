// unary.wgsl: posterior marginals p(y_s = j) = exp(a_s[j] + L_s[j] - z_s) from chain.posteriors, written over
// a in place. Each row (b, s) is normalised by its own z_s = lse_j(a_s[j] + L_s[j]), which equals log Z
// less the row's shifts in exact arithmetic; in float32 the per-row normaliser cancels the rounding that
// a and L carry (a global log Z would be off by whole ulps of T·|e|).
//
// Prepended by the build: common.wgsl (Dims, NEG, THRESH, WG, floorNeg, lseAdd, lseMerge).
//
// Bindings (group 0):
//   0 dims       uniform               Dims {B, T, K, rowsX}
//   1 lengths    storage, read         u32 [B]
//   2 alpha      storage, read_write   f32 [B, T, K]: a in, p(y_s = j) out (0 past each length)
//   3 beta       storage, read         f32 [B, T, K]: L = b - e
//
// Workgroup layout: WG = 256 invocations = SEQ rows x TPS lanes, lane l owns tags l, l + TPS, ...
// (TILE of them). Rows are flattened over (b, s); the 2-D dispatch (rowsX, ceil(blocks / rowsX)) only
// works around the 65535 limit per dimension.

override TPS: u32 = 256u;
override TILE: u32 = 1u;
override SEQ: u32 = WG / TPS;

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> lengths: array<u32>;
@group(0) @binding(2) var<storage, read_write> alpha: array<f32>;
@group(0) @binding(3) var<storage, read> beta: array<f32>;

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

  var acc = vec2<f32>(NEG, 0.0);
  if (on) {
    for (var k = 0u; k < TILE; k++) {
      let j = lane + k * TPS;
      if (j < K) {
        let a = alpha[row * K + j];
        let l = beta[row * K + j];
        if (a > THRESH && l > THRESH) {
          acc = lseAdd(acc, a + l);
        }
      }
    }
  }
  redV[lid] = acc.x;
  redS[lid] = acc.y;
  workgroupBarrier();
  for (var stride = TPS / 2u; stride > 0u; stride = stride / 2u) {
    if (lane < stride) {
      let r = lseMerge(redV[lid], redS[lid], redV[lid + stride], redS[lid + stride]);
      redV[lid] = r.x;
      redS[lid] = r.y;
    }
    workgroupBarrier();
  }
  // exp(x - top) / sum rather than exp(x - (top + log sum)): next to rows of 1e19 the log of the sum
  // would vanish in float32 and two tied tags would each get probability 1.
  let top = redV[slot * TPS];
  let live = on && top > THRESH;
  let total = redS[slot * TPS];
  if (inBatch) {
    for (var k = 0u; k < TILE; k++) {
      let j = lane + k * TPS;
      if (j < K) {
        let o = row * K + j;
        let a = alpha[o];
        let l = beta[o];
        var p = 0.0;
        if (live && a > THRESH && l > THRESH) {
          p = exp(a + l - top) / total;
        }
        alpha[o] = p;
      }
    }
  }
}
