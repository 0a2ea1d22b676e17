// chain.wgsl: the one recursion of a linear-chain CRF,
//   a_s[j] = e_s[j] (x) (+)_i (a_{s-1}[i] (x) trans[i][j]),   a_0[j] = start[j] (x) e_0[j],
// over the semiring the build prepends (shaders/semiring-*.wgsl: Acc, accAdd, accMerge, ... and the
// bindings it needs), keeping what the store file prepended with it asks for (shaders/store-*.wgsl).
// Run over the reversed sequence with transposed transitions and start = end it is the backward pass.
// What chain.posteriors stores for the backward direction is L_s[j] = b_s[j] - e_s[j] (end[j] at the
// last step): the marginals are exp(a + L - z) with no emission subtracted back out.
//
// The running scores are normalised at every step, so that their float32 rounding does not grow with
// T or with the size of the emissions: each row's emissions are taken relative to the row's largest
// (E), and each step's scores relative to the previous step's largest (c). Every lane of a sequence
// reads the same values, so all agree on E and c without a barrier. Every visited row's E and c go to
// norms: the host adds them to the (relative) scores in float64, and the pair kernel rebuilds the
// backward scores with the same float32 operations the recursion used.
//
// The entropy semiring carries a second running value per tag, the entropy H of the paths ending there,
// which grows by up to ln K a step; it is kept relative too: each step takes the previous row's value at
// its best tag (extraRef) out of every tag's, and the semiring writes what it took out per row
// (extraNorm) for the host to add in float64.
//
// Variants (composed at build time by scripts/build-shaders.js):
//   chain.logPartition  semiring-logsum + extra-none    store-none   log Z per sequence
//   chain.posteriors    semiring-logsum + extra-none    store-steps  a and L = b - e for every step (both directions) + log Z
//   chain.viterbi       semiring-maxplus + extra-none   store-none   backpointers, best score, backtrace on the GPU
//   chain.entropy       semiring-entropy                store-none   log Z and H(y | x) per sequence
//
// Prepended by the build: common.wgsl (Dims, NEG, THRESH, WG, floorNeg, lseAdd, lseMerge), the
// semiring, then the store file.
//
// Bindings (group 0):
//   0 dims        uniform               Dims {B, T, K, ...}: B is the chunk's batch size
//   1 emissions   storage, read         f32 [B, T, K]
//   2 lengths     storage, read         u32 [B]
//   3 potentials  storage, read         f32 [start K | end K | trans K*K], forbidden = NEG
//   4 scores      storage, read_write   f32 [B]  log Z or the best score (max) less the shifts in norms;
//                                              NEG = no allowed path
//   5 norms       storage, read_write   f32 [directions, B, T, 2]  E and c of each visited row
//   6, 7          the semiring's or the store's own (semiring-maxplus.wgsl: backpointers and paths;
//                 semiring-entropy.wgsl: H and its per-row shifts; store-steps.wgsl: a and L)
//
// Workgroup layout: WG = 256 invocations = SEQ sequences x TPS lanes (TPS a power of two).
// Lane l of a sequence owns tags l, l + TPS, ... (TILE = ceil(K / TPS) of them), so K up to
// TPS * TILE = 1024 is tiled inside one workgroup. workgroup_id.x picks a block of SEQ sequences;
// workgroup_id.y is the direction (0 forward, 1 backward; only chain.posteriors dispatches 2). The time loop runs
// inside the kernel with the running scores double-buffered in workgroup memory; one barrier per step.

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
@group(0) @binding(5) var<storage, read_write> norms: array<f32>;

var<workgroup> run: array<f32, MEM>;
var<workgroup> red: array<Acc, WG>;

// trans[i][j] forward, trans[j][i] backward.
fn transition(i: u32, j: u32, K: u32, dir: u32) -> f32 {
  return potentials[2u * K + select(i * K + j, j * K + i, dir == 1u)];
}

// The largest emission of one row (every lane of the sequence reads the same K values).
fn rowMax(o: u32, K: u32) -> f32 {
  var e = emissions[o];
  for (var i = 1u; i < K; i++) {
    e = max(e, emissions[o + i]);
  }
  return e;
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
  // Where row r's E and c go: norms[(dir * B + b) * T + r] * 2 + (0, 1).
  let normBase = (dir * B + b) * T;

  // Step 0: the first visited position (the last one backward).
  if (len > 0u) {
    let row = select(0u, len - 1u, dir == 1u);
    let o = (b * T + row) * K;
    let E = rowMax(o, K);
    for (var k = 0u; k < TILE; k++) {
      let j = lane + k * TPS;
      if (j < K) {
        let first = potentials[select(j, K + j, dir == 1u)];
        let v = floorNeg(first + (emissions[o + j] - E));
        run[base + j] = v;
        extraStore(base + j, 0.0);
        keepStep(dir, o + j, v, floorNeg(first));
      }
    }
    if (lane == 0u) {
      norms[(normBase + row) * 2u] = E;
      norms[(normBase + row) * 2u + 1u] = 0.0;
      extraNorm(b, row, 0.0);
    }
  }
  workgroupBarrier();

  for (var t = 1u; t < T; t++) {
    let prev = ((t - 1u) % 2u) * half + base;
    let cur = (t % 2u) * half + base;
    if (t < len) {
      let row = select(t, len - 1u - t, dir == 1u);
      let o = (b * T + row) * K;
      var c = NEG;
      for (var i = 0u; i < K; i++) {
        c = max(c, run[prev + i]);
      }
      c = select(c, 0.0, c <= THRESH);
      let h = extraRef(prev, K, c);
      let E = rowMax(o, K);
      for (var k = 0u; k < TILE; k++) {
        let j = lane + k * TPS;
        if (j < K) {
          var acc = accZero();
          for (var i = 0u; i < K; i++) {
            // Relative to c before the transition is added: the best tag's score is then 0 exactly and
            // keeps every digit of the transition, whatever the scores' size.
            let v = (run[prev + i] - c) + transition(i, j, K, dir);
            if (v > THRESH) {
              accAdd(&acc, v, i, extraLoad(prev + i) - h);
            }
          }
          recordArg(o + j, acc);
          let l = floorNeg(accValue(acc));
          let v = floorNeg(l + (emissions[o + j] - E));
          run[cur + j] = v;
          extraStore(cur + j, accExtra(acc));
          keepStep(dir, o + j, v, l);
        }
      }
      if (lane == 0u) {
        norms[(normBase + row) * 2u] = E;
        norms[(normBase + row) * 2u + 1u] = c;
        extraNorm(b, row, h);
      }
    }
    workgroupBarrier();
  }

  // Final sum over the last step's scores plus end potentials (forward direction only).
  if (dir == 0u) {
    let last = (select(0u, len - 1u, len > 0u) % 2u) * half + base;
    var acc = accZero();
    if (len > 0u) {
      for (var k = 0u; k < TILE; k++) {
        let j = lane + k * TPS;
        if (j < K) {
          let v = run[last + j] + potentials[K + j];
          if (v > THRESH) {
            accAdd(&acc, v, j, extraLoad(last + j));
          }
        }
      }
    }
    red[lid] = acc;
    workgroupBarrier();
    // Tree over the TPS lanes of each sequence.
    for (var stride = TPS / 2u; stride > 0u; stride = stride / 2u) {
      if (lane < stride) {
        red[lid] = accMerge(red[lid], red[lid + stride]);
      }
      workgroupBarrier();
    }
    finish(lane == 0u && b < B, b, len, red[lid]);
  }
}
