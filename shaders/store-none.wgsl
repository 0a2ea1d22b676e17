// store-none.wgsl: prepended to chain.wgsl for the kernels that keep only per-sequence results (log Z,
// the best path, the entropy): nothing of the intermediate steps is written.
//
// The interface every store-*.wgsl gives chain.wgsl:
//   keepStep(dir, o, v, l)   step value v = the normalised score with the emission, l = the same
//                            without it (backward: L = b - e), of cell o of direction dir

fn keepStep(dir: u32, o: u32, v: f32, l: f32) {}
