import { CRFInputError } from '../errors.js';
import type { Backend, KBestResult, MemoryUsage, Posteriors, Potentials, ViterbiResult } from '../backend.js';
import type { Packed } from '../pack.js';
import { builtinWasmModule } from './wasm-source.js';

/** The kernels' exports (assembly/index.ts). Every pointer is a byte offset into `memory`. */
interface Kernels {
  memory: WebAssembly.Memory;
  OP_LOG_PARTITION: WebAssembly.Global;
  OP_VITERBI: WebAssembly.Global;
  OP_POSTERIORS: WebAssembly.Global;
  OP_KBEST: WebAssembly.Global;
  heapBase(): number;
  tableBytes(K: number): number;
  workBytes(op: number, T: number, K: number, k: number): number;
  setup(K: number, start: number, end: number, trans: number, tables: number): void;
  logPartition(B: number, T: number, em: number, lens: number, out: number, work: number): void;
  viterbi(B: number, T: number, em: number, lens: number, paths: number, scores: number, work: number): void;
  posteriors(B: number, T: number, em: number, lens: number, logZ: number, unary: number, counts: number, pair: number, work: number): void;
  kbest(B: number, T: number, k: number, em: number, lens: number, paths: number, scores: number, work: number): void;
  mathExp(src: number, dst: number, n: number): void;
  mathLog(src: number, dst: number, n: number): void;
  simd(): number;
  logSpaceFallbacks(): number;
}

const PAGE = 65536;
/** wasm32 addresses 4 GiB at most. */
const MAX_BYTES = 65536 * PAGE;

const F32_MAX = 3.4028234663852886e38;

const align = (n: number) => Math.ceil(n / 16) * 16;

/**
 * The WebAssembly backend: AssemblyScript kernels (assembly/) on one linear memory whose layout this
 * class owns. Each call places, from the module's heap base: the raw potentials, the kernels' tables,
 * the emissions (f32), the lengths, the outputs and the op's work area; memory grows once for the
 * largest call seen and is reused by every smaller one.
 */
export class WasmBackend implements Backend {
  readonly name = 'wasm' as const;
  #k: Kernels | null;
  #base: number;
  /** How many times memory grew (tests check that repeated calls do not). */
  grows = 0;

  private constructor(k: Kernels) {
    this.#k = k;
    this.#base = align(k.heapBase());
  }

  /** @param wasmModule a compiled module of the kernels; default: this runtime's built-in one. */
  static async create(opts: { wasmModule?: unknown } = {}): Promise<WasmBackend> {
    const mod = opts.wasmModule ?? (await builtinWasmModule());
    if (!(mod instanceof WebAssembly.Module)) {
      throw new TypeError(`wasmModule: expected a compiled WebAssembly.Module, got ${Object.prototype.toString.call(mod)}`);
    }
    const inst = await WebAssembly.instantiate(mod, {});
    const k = inst.exports as unknown as Kernels;
    if (typeof k.logPartition !== 'function' || !(k.memory instanceof WebAssembly.Memory)) {
      throw new TypeError('wasmModule: not a webcrf kernels module (exports missing)');
    }
    return new WasmBackend(k);
  }

  /** Whether the instantiated kernels are the SIMD build. */
  get simd(): boolean {
    return this.#kernels().simd() === 1;
  }

  /** Sequences so far whose scaled linear-space pass could lose precision and ran in log space instead. */
  get logSpaceFallbacks(): number {
    return this.#kernels().logSpaceFallbacks();
  }

  /** Current size of the linear memory in bytes. */
  get memoryBytes(): number {
    return this.#kernels().memory.buffer.byteLength;
  }

  /** Runs the vectorised exp or log over `x` (length a multiple of 4): for the accuracy tests. */
  math(fn: 'exp' | 'log', x: Float32Array): Float32Array {
    const k = this.#kernels();
    const [src, dst] = this.#reserve([x.length * 4, x.length * 4]);
    new Float32Array(k.memory.buffer, src, x.length).set(x);
    (fn === 'exp' ? k.mathExp : k.mathLog)(src, dst, x.length);
    return new Float32Array(k.memory.buffer, dst, x.length).slice();
  }

  #kernels(): Kernels {
    if (!this.#k) throw new Error('wasm backend: disposed');
    return this.#k;
  }

  /** Offsets for regions of the given byte sizes (16-byte aligned), growing memory if they do not fit. */
  #reserve(sizes: number[]): number[] {
    const k = this.#kernels();
    const out: number[] = [];
    let at = this.#base;
    for (const s of sizes) {
      out.push(at);
      at = align(at + s);
    }
    const have = k.memory.buffer.byteLength;
    if (at > have) {
      if (at > MAX_BYTES) {
        throw new RangeError(`wasm backend: this call needs ${at} bytes of WebAssembly memory, more than the 4 GiB a wasm32 module can address; split the batch`);
      }
      k.memory.grow(Math.ceil((at - have) / PAGE));
      this.grows++;
    }
    return out;
  }

  /**
   * Lays out one call: potentials, tables, emissions and lengths, then `outputs` and the work area.
   * Returns the offsets of the outputs and of the work area, after running `setup`.
   */
  #prepare(p: Packed, w: Potentials, outputs: number[], work: number) {
    const k = this.#kernels();
    const { B, T, K } = p;
    const n = B * T * K;
    // 16 bytes of slack after the emissions: a lane load of the last row's tail reads past K.
    const [start, end, trans, tables, em, lens, ...rest] = this.#reserve([
      K * 4, K * 4, K * K * 4, k.tableBytes(K) >>> 0, n * 4 + 16, B * 4, ...outputs, work,
    ]);
    const buf = k.memory.buffer;
    new Float32Array(buf, start, K).set(w.start);
    new Float32Array(buf, end, K).set(w.end);
    new Float32Array(buf, trans, K * K).set(w.trans);
    const src = p.emissions.length === n ? p.emissions : p.emissions.subarray(0, n);
    if (src instanceof Float64Array) {
      // Finite in float64 but infinite in float32 would turn into NaN in the kernels.
      for (let i = 0; i < n; i++) {
        if (Math.abs(src[i]) > F32_MAX) {
          throw new CRFInputError('emissions', `values within float32 range (±3.4e38) on the ${this.name} backend, or backend 'js'`, `${src[i]} (packed index ${i})`);
        }
      }
    }
    const e = new Float32Array(buf, em, n + 4);
    e.set(src);
    e.fill(0, n);
    new Int32Array(buf, lens, B).set(p.lengths);
    k.setup(K, start, end, trans, tables);
    return { k, em, lens, out: rest.slice(0, outputs.length), work: rest[outputs.length] };
  }

  async logPartition(p: Packed, w: Potentials): Promise<Float64Array> {
    if (p.B === 0) return new Float64Array(0);
    const { B, T, K } = p;
    const k0 = this.#kernels();
    const { k, em, lens, out: [z], work } = this.#prepare(p, w, [B * 8], (k0.workBytes(k0.OP_LOG_PARTITION.value, T, K, 0) >>> 0));
    k.logPartition(B, T, em, lens, z, work);
    return new Float64Array(k.memory.buffer, z, B).slice();
  }

  async posteriors(p: Packed, w: Potentials): Promise<Posteriors> {
    const { B, T, K } = p;
    if (B === 0) return { logZ: new Float64Array(0), unary: new Float32Array(0), transCounts: new Float64Array(K * K), pairScore: new Float64Array(0) };
    const Kp = (K + 3) & ~3;
    const k0 = this.#kernels();
    const { k, em, lens, out: [z, unary, counts, pair], work } = this.#prepare(
      p, w, [B * 8, B * T * K * 4, Kp * Kp * 8, B * 8], (k0.workBytes(k0.OP_POSTERIORS.value, T, K, 0) >>> 0),
    );
    k.posteriors(B, T, em, lens, z, unary, counts, pair, work);
    const buf = k.memory.buffer;
    const padded = new Float64Array(buf, counts, Kp * Kp);
    const transCounts = new Float64Array(K * K);
    for (let i = 0; i < K; i++) transCounts.set(padded.subarray(i * Kp, i * Kp + K), i * K);
    return {
      logZ: new Float64Array(buf, z, B).slice(),
      unary: new Float32Array(buf, unary, B * T * K).slice(),
      transCounts,
      pairScore: new Float64Array(buf, pair, B).slice(),
    };
  }

  async viterbi(p: Packed, w: Potentials): Promise<ViterbiResult> {
    const { B, T, K } = p;
    if (B === 0) return { paths: new Int32Array(0), scores: new Float64Array(0) };
    const k0 = this.#kernels();
    const { k, em, lens, out: [paths, scores], work } = this.#prepare(p, w, [B * T * 4, B * 8], (k0.workBytes(k0.OP_VITERBI.value, T, K, 0) >>> 0));
    k.viterbi(B, T, em, lens, paths, scores, work);
    const buf = k.memory.buffer;
    return { paths: new Int32Array(buf, paths, B * T).slice(), scores: new Float64Array(buf, scores, B).slice() };
  }

  async kBest(p: Packed, w: Potentials, topK: number): Promise<KBestResult> {
    const { B, T, K } = p;
    if (B === 0) return { paths: new Int32Array(0), scores: new Float64Array(0), k: topK };
    const k0 = this.#kernels();
    const { k, em, lens, out: [paths, scores], work } = this.#prepare(
      p, w, [B * topK * T * 4, B * topK * 8], (k0.workBytes(k0.OP_KBEST.value, T, K, topK) >>> 0),
    );
    k.kbest(B, T, topK, em, lens, paths, scores, work);
    const buf = k.memory.buffer;
    return { paths: new Int32Array(buf, paths, B * topK * T).slice(), scores: new Float64Array(buf, scores, B * topK).slice(), k: topK };
  }

  memoryUsage(): MemoryUsage {
    return { wasmBytes: this.#k ? this.#k.memory.buffer.byteLength : 0, gpuBytes: 0 };
  }

  /** Drops the instance, and with it the linear memory (the engine frees it once unreferenced). */
  dispose(): void {
    this.#k = null;
  }
}
