// store-steps.wgsl: prepended to chain.wgsl for forward-backward: every step's normalised scores are
// kept, a forward and L = b - e backward, for the marginals (unary.wgsl) and pair counts (pairs.wgsl).
// The interface is store-none.wgsl's.
//
// Bindings it adds (group 0):
//   6 alpha       storage, read_write   f32 [B, T, K]  normalised a
//   7 beta        storage, read_write   f32 [B, T, K]  normalised L = b - e

@group(0) @binding(6) var<storage, read_write> alpha: array<f32>;
@group(0) @binding(7) var<storage, read_write> beta: array<f32>;

fn keepStep(dir: u32, o: u32, v: f32, l: f32) {
  if (dir == 0u) {
    alpha[o] = v;
  } else {
    beta[o] = l;
  }
}
