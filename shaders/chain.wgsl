// chain.wgsl: the one recursion of a linear-chain CRF,
//   a_s[j] = e_s[j] (x) (+)_i (a_{s-1}[i] (x) trans[i][j]),   a_0[j] = start[j] (x) e_0[j],
// over (+, x) = (logsumexp, +) when MAX is false and (max, +) when MAX is true. Run over the reversed
// sequence with transposed transitions and start = end it is the backward pass. What fb stores for
// the backward direction is L_s[j] = b_s[j] - e_s[j] = lse_k(trans[j][k] + b_{s+1}[k]) (end[j] at the
// last step): the marginals are exp(a + L - z) with no emission subtracted back out, and the pair
// kernel rebuilds b_{s+1} = L + e with the same float32 rounding the recursion used.
//
// Variants (generated at build time by scripts/build-shaders.js):
//   chain.partition  MAX=false STORE=false VITERBI=false  log Z per sequence
//   chain.fb         MAX=false STORE=true  VITERBI=false  a and L = b - e for every step (both directions) + log Z
//   chain.viterbi    MAX=true  STORE=false VITERBI=true   backpointers, best score, backtrace on the GPU
//
// Prepended by the build: common.wgsl (Dims, NEG, THRESH, floorNeg, lseAdd, lseMerge).
//
// Bindings (group 0):
//   0 dims        uniform               Dims {B, T, K, ...}: B is the chunk's batch size
//   1 emissions   storage, read         f32 [B, T, K]
//   2 lengths     storage, read         u32 [B]
//   3 potentials  storage, read         f32 [start K | end K | trans K*K], forbidden = NEG
//   4 scores      storage, read_write   f32 [B]  log Z (partition, fb) or best score (viterbi); NEG = none
//   5 alpha       storage, read_write   f32 [B, T, K]  (fb only)
//   6 beta        storage, read_write   f32 [B, T, K]  L = b - e (fb only)
//   5 back        storage, read_write   u32 [B, T, K]  backpointers (viterbi only)
//   6 paths       storage, read_write   u32 [B, T]     best path (viterbi only)
//
// Workgroup layout: WG = 256 invocations = SEQ sequences x TPS lanes (TPS a power of two).
// Lane l of a sequence owns tags l, l + TPS, ... (TILE = ceil(K / TPS) of them), so K up to
// TPS * TILE = 1024 is tiled inside one workgroup. workgroup_id.x picks a block of SEQ sequences;
// workgroup_id.y is the direction (0 forward, 1 backward; only fb dispatches 2). The time loop runs
// inside the kernel with the running scores double-buffered in workgroup memory; one barrier per step.

const WG: u32 = 256u;
override TPS: u32 = 256u;
override TILE: u32 = 1u;
override SEQ: u32 = WG / TPS;
override SLOT: u32 = TPS * TILE;
override MEM: u32 = 2u * WG * TILE;

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> emissions: array<f32>;
@group(0) @binding(2) var<storage, read> lengths: array<u32>;
@group(0) @binding(3) var<storage, read> potentials: array<f32>;
@group(0) @binding(4) var<storage, read_write> scores: array<f32>;
#if ${STORE}
@group(0) @binding(5) var<storage, read_write> alpha: array<f32>;
@group(0) @binding(6) var<storage, read_write> beta: array<f32>;
#endif
#if ${VITERBI}
@group(0) @binding(5) var<storage, read_write> back: array<u32>;
@group(0) @binding(6) var<storage, read_write> paths: array<u32>;
#endif

var<workgroup> run: array<f32, MEM>;
var<workgroup> redV: array<f32, WG>;
var<workgroup> redS: array<f32, WG>;
var<workgroup> redI: array<u32, WG>;

// trans[i][j] forward, trans[j][i] backward.
fn transition(i: u32, j: u32, K: u32, dir: u32) -> f32 {
  return potentials[2u * K + select(i * K + j, j * K + i, dir == 1u)];
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let B = dims.B;
  let T = dims.T;
  let K = dims.K;
  let dir = wid.y;
  let slot = lid / TPS;
  let lane = lid % TPS;
  let b = wid.x * SEQ + slot;
  var len = 0u;
  if (b < B) {
    len = lengths[b];
  }
  let base = slot * SLOT;
  let half = WG * TILE;

  // Step 0: the first visited position (the last one backward).
  if (len > 0u) {
    let row = select(0u, len - 1u, dir == 1u);
    for (var k = 0u; k < TILE; k++) {
      let j = lane + k * TPS;
      if (j < K) {
        let first = potentials[select(j, K + j, dir == 1u)];
        let v = floorNeg(first + emissions[(b * T + row) * K + j]);
        run[base + j] = v;
#if ${STORE}
        if (dir == 0u) {
          alpha[(b * T + row) * K + j] = v;
        } else {
          beta[(b * T + row) * K + j] = floorNeg(first);
        }
#endif
      }
    }
  }
  workgroupBarrier();

  for (var t = 1u; t < T; t++) {
    let prev = ((t - 1u) % 2u) * half + base;
    let cur = (t % 2u) * half + base;
    if (t < len) {
      let row = select(t, len - 1u - t, dir == 1u);
      for (var k = 0u; k < TILE; k++) {
        let j = lane + k * TPS;
        if (j < K) {
#if ${MAX}
          var m = NEG;
          var arg = 0u;
          for (var i = 0u; i < K; i++) {
            let v = run[prev + i] + transition(i, j, K, dir);
            // Strictly greater, ascending i: ties go to the lowest tag, as the js reference does.
            if (v > THRESH && v > m) {
              m = v;
              arg = i;
            }
          }
          back[(b * T + row) * K + j] = arg;
          let acc = m;
#else
          var m = NEG;
          var s = 0.0;
          for (var i = 0u; i < K; i++) {
            let v = run[prev + i] + transition(i, j, K, dir);
            if (v > THRESH) {
              lseAdd(&m, &s, v);
            }
          }
          let acc = select(m + log(s), NEG, m <= THRESH);
#endif
          let l = floorNeg(acc);
          let v = floorNeg(l + emissions[(b * T + row) * K + j]);
          run[cur + j] = v;
#if ${STORE}
          if (dir == 0u) {
            alpha[(b * T + row) * K + j] = v;
          } else {
            beta[(b * T + row) * K + j] = l;
          }
#endif
        }
      }
    }
    workgroupBarrier();
  }

  // Final sum over the last step's scores plus end potentials (forward direction only).
  if (dir == 0u) {
    let last = (select(0u, len - 1u, len > 0u) % 2u) * half + base;
    var m = NEG;
    var s = 0.0;
    var arg = 0u;
    if (len > 0u) {
      for (var k = 0u; k < TILE; k++) {
        let j = lane + k * TPS;
        if (j < K) {
          let v = run[last + j] + potentials[K + j];
#if ${MAX}
          if (v > THRESH && v > m) {
            m = v;
            arg = j;
          }
#else
          if (v > THRESH) {
            lseAdd(&m, &s, v);
          }
#endif
        }
      }
    }
    redV[lid] = m;
    redS[lid] = s;
    redI[lid] = arg;
    workgroupBarrier();
    // Tree over the TPS lanes of each sequence.
    for (var stride = TPS / 2u; stride > 0u; stride = stride / 2u) {
      if (lane < stride) {
        let m1 = redV[lid];
        let m2 = redV[lid + stride];
#if ${MAX}
        // Equal scores keep the lower tag.
        let i1 = redI[lid];
        let i2 = redI[lid + stride];
        if (m2 > m1 || (m2 == m1 && m2 > THRESH && i2 < i1)) {
          redV[lid] = m2;
          redI[lid] = i2;
        }
#else
        let r = lseMerge(m1, redS[lid], m2, redS[lid + stride]);
        redV[lid] = r.x;
        redS[lid] = r.y;
#endif
      }
      workgroupBarrier();
    }
    if (lane == 0u && b < B) {
      let m0 = redV[lid];
#if ${MAX}
      scores[b] = select(select(NEG, m0, m0 > THRESH), 0.0, len == 0u);
#else
      scores[b] = select(select(NEG, m0 + log(redS[lid]), m0 > THRESH), 0.0, len == 0u);
#endif
    }
#if ${VITERBI}
    // The backtrace reads backpointers other invocations of this workgroup wrote.
    storageBarrier();
    if (lane == 0u && b < B && len > 0u) {
      var y = redI[lid];
      for (var r = len; r > 0u; r--) {
        paths[b * T + r - 1u] = y;
        if (r > 1u) {
          y = back[(b * T + r - 1u) * K + y];
        }
      }
    }
#endif
  }
}
