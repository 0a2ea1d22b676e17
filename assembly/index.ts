// webcrf kernels: the module's exports, which src/backends/wasm.ts calls. The JS side owns the memory
// layout: it writes the raw potentials, emissions [B,T,K] (f32, unpadded rows) and lengths [B] at offsets
// of its choosing, calls `setup` then one op with the offsets of its outputs and of a work area of
// `workBytes(...)` bytes. Each op dispatches at compile time to the SIMD (v128 lanes) or scalar (f32
// lanes) instantiation; one op per file under ops/.

export { setup, tableBytes } from './tables';
export { heapBase, OP_ENTROPY, OP_KBEST, OP_LOG_PARTITION, OP_POSTERIORS, OP_VITERBI, workBytes } from './ops/work-area';
export { logPartition } from './ops/log-partition';
export { viterbi } from './ops/viterbi';
export { posteriors } from './ops/posteriors';
export { entropy } from './ops/entropy';
export { kbest } from './ops/kbest';
export { logSpaceFallbacks, mathExp, mathLog, simd } from './diagnostics';
