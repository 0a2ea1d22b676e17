// gather.wgsl: emissions the caller already holds on the GPU, copied into the packed batch-first
// [B, T, K] float32 layout the other kernels read (masked positions compacted away, [T, B, K] turned
// batch-first, one chunk of sequences at a time), and checked as the CPU path checks every value it
// reads, masked-off ones included: a value that is not within ±MAX_MAGNITUDE (NaN and ±Infinity too) is
// recorded, the lowest such index of the caller's flat layout in fault[0], for the host to refuse the
// call with. The check is on the bits: WGSL implementations may assume no NaN or infinity ever occurs,
// so a float compare could be folded away.
//
// One pipeline, three modes (params.mode): 0 gathers the n packed values; 2 checks the caller's n
// values; 1, one workgroup, copies the bits of the refused value (if any) into fault[1], for the message.
//
// Prepended by the build: common.wgsl (Dims, NEG, THRESH, WG, floorNeg, lseAdd, lseMerge).
//
// Bindings (group 0):
//   0 params   uniform               Gather {n, K, rowsX, mode, maxBits}
//   1 source   storage, read         u32 [...]: the caller's float32 values, as bits
//   2 rows     storage, read         u32 [B * T]: the caller's row of each packed row, NONE for padding
//   3 packed   storage, read_write   f32 [B, T, K]: the emissions the chain kernels read
//   4 fault    storage, read_write   atomic<u32> [2]: lowest refused index (NONE if none), its bits
//
// Workgroup layout: WG = 256 invocations, one value each over the flattened range [0, n); the 2-D
// dispatch (rowsX, ...) works around the per-dimension limit.

const NONE: u32 = 0xffffffffu;

struct Gather {
  n: u32,
  K: u32,
  rowsX: u32,
  mode: u32,
  maxBits: u32,
}

@group(0) @binding(0) var<uniform> params: Gather;
@group(0) @binding(1) var<storage, read> source: array<u32>;
@group(0) @binding(2) var<storage, read> rows: array<u32>;
@group(0) @binding(3) var<storage, read_write> packed: array<f32>;
@group(0) @binding(4) var<storage, read_write> fault: array<atomic<u32>, 2>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  if (params.mode == 1u) {
    if (lid == 0u) {
      let at = atomicLoad(&fault[0]);
      if (at != NONE) {
        atomicStore(&fault[1], source[at]);
      }
    }
    return;
  }
  let i = (wid.y * params.rowsX + wid.x) * WG + lid;
  if (i >= params.n) {
    return;
  }
  if (params.mode == 2u) {
    if ((source[i] & 0x7fffffffu) > params.maxBits) {
      atomicMin(&fault[0], i);
    }
    return;
  }
  let K = params.K;
  let row = rows[i / K];
  if (row == NONE) {
    packed[i] = 0.0;
    return;
  }
  packed[i] = bitcast<f32>(source[row * K + i % K]);
}
