// webcrf kernels: the module's exports, which src/backends/wasm/backend.ts calls. The JS side owns the
// memory layout: it writes the raw potentials, emissions [B,T,K] (f32, unpadded rows) and lengths [B] at
// offsets of its choosing, calls `setup` then one op with the offsets of its outputs and of a work area
// of `<op>WorkBytes(T, K, n)` bytes (the op's own layout, ops/work-area.ts). Each op dispatches at
// compile time to the SIMD (v128 lanes) or scalar (f32 lanes) instantiation; one op per file under ops/.

export { setup, tableBytes } from './tables';
export { heapBase } from './ops/work-area';
export { logPartition, logPartitionWorkBytes } from './ops/log-partition';
export { logLikelihood, logLikelihoodWorkBytes } from './ops/log-likelihood';
export { viterbi, viterbiWorkBytes } from './ops/viterbi';
export { gradients, gradientsWorkBytes, posteriors, posteriorsWorkBytes } from './ops/posteriors';
export { entropy, entropyWorkBytes } from './ops/entropy';
export { kBest, kBestWorkBytes } from './ops/k-best';
export { sample, sampleWorkBytes } from './ops/sample';
export { logSpaceFallbacks, mathExp, mathLog, simd } from './diagnostics';
export { firstOutOfRange } from './checks';
