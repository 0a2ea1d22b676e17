import type { Backend, BackendName, Potentials } from './backend.js';
import { createBackend, type BackendOptions } from './backends/index.js';
import { type Allowed, type ConstraintsInput, intersect, readConstraints } from './constraints.js';
import { CRFInputError, describe } from './errors.js';
import { entropies, llhGradients, pathScores } from './grad.js';
import { type EmissionsInput, type MaskInput, type TagsInput, readEmissions, readMask, readTags } from './inputs.js';
import { type Packed, pack, packTags, unpackToLayout } from './pack.js';
import { seededRandom } from './rng.js';
import { type FromSafetensorsOptions, type ToSafetensorsOptions, readCRFWeights, writeCRFWeights } from './safetensors.js';

export type Reduction = 'none' | 'sum' | 'mean' | 'token_mean';

export interface CRFOptions extends BackendOptions {
  /** `[batch, seq, tags]` when true (the default), `[seq, batch, tags]` when false. */
  batchFirst?: boolean;
  /** `'auto'` (default), `'webgpu'`, `'wasm'` or `'js'`. */
  backend?: BackendName | 'auto';
  /** Deterministic uniform(-0.1, 0.1) initialisation. */
  seed?: number;
  /** Allowed transitions; they apply to every op, training included. */
  constraints?: ConstraintsInput;
}

export interface MaskOption {
  /** `[batch, seq]` (or `[seq, batch]`) booleans or 0/1; any pattern, gaps included. */
  mask?: MaskInput | null;
}
export interface ReductionOptions extends MaskOption {
  reduction?: Reduction;
}
export interface DecodeOptions extends MaskOption {
  /** Return the k best paths with their scores instead of the best path. */
  topK?: number;
  /** Extra constraints for this call only (on top of the instance's). */
  constraints?: ConstraintsInput;
}

/** One of the k best paths of a sequence. */
export interface ScoredPath {
  path: number[];
  /** Unnormalised score(y) of the path. */
  score: number;
}

/** pytorch-crf's state-dict names. */
export interface StateDict {
  start_transitions: number[];
  end_transitions: number[];
  transitions: number[][];
}

export interface Gradients {
  /** In the input layout; 0 at positions that are off. */
  emissions: Float32Array;
  startTransitions: Float32Array;
  endTransitions: Float32Array;
  transitions: Float32Array;
}

const REDUCTIONS: readonly Reduction[] = ['none', 'sum', 'mean', 'token_mean'];
const BACKENDS = ['auto', 'webgpu', 'wasm', 'js'] as const;

interface Call {
  p: Packed;
  T: number;
  w: Potentials;
}

/**
 * A linear-chain conditional random field with pytorch-crf's API.
 * Create with `await CRF.create(numTags, options)`.
 */
export class CRF {
  readonly numTags: number;
  readonly batchFirst: boolean;
  /** Length K. */
  readonly startTransitions: Float32Array;
  /** Length K. */
  readonly endTransitions: Float32Array;
  /** `K × K`, row-major `[from * K + to]`. */
  readonly transitions: Float32Array;
  readonly #constraints: Allowed | null;
  #impl: Backend;
  #disposed = false;

  private constructor(numTags: number, batchFirst: boolean, constraints: Allowed | null, impl: Backend) {
    this.numTags = numTags;
    this.batchFirst = batchFirst;
    this.#constraints = constraints;
    this.#impl = impl;
    this.startTransitions = new Float32Array(numTags);
    this.endTransitions = new Float32Array(numTags);
    this.transitions = new Float32Array(numTags * numTags);
  }

  /**
   * @param numTags K, a positive integer.
   * @throws CRFInputError for a bad `numTags`, an unknown backend, bad constraints or seed.
   */
  static async create(numTags: number, options: CRFOptions = {}): Promise<CRF> {
    if (typeof numTags !== 'number' || !Number.isInteger(numTags) || numTags < 1) {
      throw new CRFInputError('numTags', 'a positive integer', describe(numTags));
    }
    if (options === null || typeof options !== 'object') throw new CRFInputError('options', 'an object', describe(options));
    const { batchFirst = true, backend = 'auto', seed, constraints } = options;
    if (typeof batchFirst !== 'boolean') throw new CRFInputError('batchFirst', 'a boolean', describe(batchFirst));
    if (!BACKENDS.includes(backend as (typeof BACKENDS)[number])) {
      throw new CRFInputError('backend', `one of ${BACKENDS.join(', ')}`, describe(backend));
    }
    if (seed !== undefined && (typeof seed !== 'number' || !Number.isFinite(seed))) {
      throw new CRFInputError('seed', 'a finite number', describe(seed));
    }
    const allowed = constraints === undefined || constraints === null ? null : readConstraints(constraints, numTags);
    const impl = await createBackend(backend, numTags, options);
    const crf = new CRF(numTags, batchFirst, allowed, impl);
    const rand = seed === undefined ? Math.random : seededRandom(seed);
    for (const a of [crf.startTransitions, crf.endTransitions, crf.transitions]) {
      for (let i = 0; i < a.length; i++) a[i] = rand() * 0.2 - 0.1;
    }
    return crf;
  }

  /** The backend actually running the dynamic programs. */
  get backend(): BackendName {
    return this.#impl.name;
  }

  #potentials(extra: Allowed | null): Potentials {
    const K = this.numTags;
    const c = intersect(this.#constraints, extra);
    const f = (src: Float32Array, ok: Uint8Array | undefined) => {
      const out = new Float64Array(src.length);
      for (let i = 0; i < src.length; i++) out[i] = !ok || ok[i] ? src[i] : -Infinity;
      return out;
    };
    return { K, start: f(this.startTransitions, c?.start), end: f(this.endTransitions, c?.end), trans: f(this.transitions, c?.trans) };
  }

  #prepare(emissions: EmissionsInput, mask: MaskInput | null | undefined, extra: Allowed | null = null) {
    if (this.#disposed) throw new Error('CRF: this instance was disposed');
    const em = readEmissions(emissions, this.numTags, this.batchFirst);
    const m = readMask(mask, em.B, em.T, this.batchFirst);
    return { em, mask: m, call: { p: pack(em, m), T: em.T, w: this.#potentials(extra) } as Call };
  }

  #noPath(logZ: Float64Array, p: Packed): void {
    for (let b = 0; b < p.B; b++) {
      if (p.lengths[b] > 0 && logZ[b] === -Infinity) {
        throw new CRFInputError('constraints', 'at least one allowed path for every sequence', `none for sequence ${b} (length ${p.lengths[b]})`);
      }
    }
  }

  #options<T extends object>(o: T | undefined, arg: string): Partial<T> {
    if (o === undefined) return {};
    if (o === null || typeof o !== 'object') throw new CRFInputError(arg, 'an options object', describe(o));
    return o;
  }

  #reduction(r: unknown): Reduction {
    if (r === undefined) return 'sum';
    if (!REDUCTIONS.includes(r as Reduction)) throw new CRFInputError('reduction', `one of ${REDUCTIONS.join(', ')}`, describe(r));
    return r as Reduction;
  }

  #reduce(llh: Float64Array, p: Packed, reduction: Reduction): number | Float32Array {
    if (reduction === 'none') return Float32Array.from(llh);
    let sum = 0;
    for (const v of llh) sum += v;
    if (reduction === 'sum') return sum;
    if (reduction === 'mean') return p.B === 0 ? 0 : sum / p.B;
    let n = 0;
    for (const l of p.lengths) n += l;
    return n === 0 ? 0 : sum / n;
  }

  /** The factor each sequence's llh carries in the reduced loss. */
  #weight(p: Packed, reduction: Reduction): number {
    if (reduction === 'mean') return p.B === 0 ? 0 : 1 / p.B;
    if (reduction === 'token_mean') {
      let n = 0;
      for (const l of p.lengths) n += l;
      return n === 0 ? 0 : 1 / n;
    }
    return 1;
  }

  /**
   * Log-likelihood of `tags`: score(tags) − log Z, per sequence, reduced as pytorch-crf does.
   * Gold tags that break the constraints have log-likelihood -Infinity.
   * @param emissions `[B, T, K]` (batchFirst) or `[T, B, K]`.
   * @param tags `[B, T]` or `[T, B]`; values at positions that are off are ignored.
   * @returns a number, or a Float32Array(B) for `reduction: 'none'`.
   */
  async forward(emissions: EmissionsInput, tags: TagsInput, options?: ReductionOptions): Promise<number | Float32Array> {
    const o = this.#options(options, 'options');
    const reduction = this.#reduction(o.reduction);
    const { em, mask, call } = this.#prepare(emissions, o.mask);
    const t = packTags(call.p, readTags(tags, mask, em.B, em.T, this.numTags, this.batchFirst), em.T);
    if (call.p.B === 0) return this.#reduce(new Float64Array(0), call.p, reduction);
    const logZ = await this.#impl.logPartition(call.p, call.w);
    this.#noPath(logZ, call.p);
    const num = pathScores(call.p, t, call.w);
    return this.#reduce(num.map((s, b) => (call.p.lengths[b] ? s - logZ[b] : 0)), call.p, reduction);
  }

  /**
   * The log-likelihood and its gradients with respect to the emissions and the parameters.
   * For `reduction: 'none'` the gradients are those of the sum.
   */
  async forwardBackward(
    emissions: EmissionsInput, tags: TagsInput, options?: ReductionOptions,
  ): Promise<{ logLikelihood: number | Float32Array; grads: Gradients }> {
    const o = this.#options(options, 'options');
    const reduction = this.#reduction(o.reduction);
    const { em, mask, call } = this.#prepare(emissions, o.mask);
    const t = packTags(call.p, readTags(tags, mask, em.B, em.T, this.numTags, this.batchFirst), em.T);
    const K = this.numTags;
    if (call.p.B === 0) {
      return {
        logLikelihood: this.#reduce(new Float64Array(0), call.p, reduction),
        grads: { emissions: new Float32Array(0), startTransitions: new Float32Array(K), endTransitions: new Float32Array(K), transitions: new Float32Array(K * K) },
      };
    }
    const post = await this.#impl.posteriors(call.p, call.w);
    this.#noPath(post.logZ, call.p);
    const num = pathScores(call.p, t, call.w);
    const g = llhGradients(call.p, t, post, this.#weight(call.p, reduction));
    return {
      logLikelihood: this.#reduce(num.map((s, b) => (call.p.lengths[b] ? s - post.logZ[b] : 0)), call.p, reduction),
      grads: {
        emissions: unpackToLayout(call.p, g.emissions, call.T, this.batchFirst),
        startTransitions: Float32Array.from(g.startTransitions),
        endTransitions: Float32Array.from(g.endTransitions),
        transitions: Float32Array.from(g.transitions),
      },
    };
  }

  /**
   * Viterbi decoding: the best tag sequence of each sequence's on positions.
   * With `topK`, the k best paths and their scores per sequence, best first.
   */
  async decode(emissions: EmissionsInput, options?: DecodeOptions & { topK?: undefined }): Promise<number[][]>;
  async decode(emissions: EmissionsInput, options: DecodeOptions & { topK: number }): Promise<ScoredPath[][]>;
  async decode(emissions: EmissionsInput, options?: DecodeOptions): Promise<number[][] | ScoredPath[][]> {
    const o = this.#options(options, 'options');
    if (o.topK !== undefined && (typeof o.topK !== 'number' || !Number.isInteger(o.topK) || o.topK < 1)) {
      throw new CRFInputError('topK', 'an integer ≥ 1', describe(o.topK));
    }
    const extra = o.constraints === undefined || o.constraints === null ? null : readConstraints(o.constraints, this.numTags);
    const { call } = this.#prepare(emissions, o.mask, extra);
    const { p } = call;
    if (p.B === 0) return [];
    if (o.topK !== undefined) {
      const r = await this.#impl.kBest(p, call.w, o.topK);
      const out: ScoredPath[][] = [];
      for (let b = 0; b < p.B; b++) {
        const list: ScoredPath[] = [];
        for (let r2 = 0; r2 < r.k && r.scores[b * r.k + r2] !== -Infinity; r2++) {
          const off = (b * r.k + r2) * p.T;
          list.push({ path: Array.from(r.paths.subarray(off, off + p.lengths[b])), score: r.scores[b * r.k + r2] });
        }
        if (list.length === 0) this.#noPath(Float64Array.of(...Array.from({ length: p.B }, (_, i) => (i === b ? -Infinity : 0))), p);
        out.push(list);
      }
      return out;
    }
    const r = await this.#impl.viterbi(p, call.w);
    this.#noPath(r.scores, p);
    const out: number[][] = [];
    for (let b = 0; b < p.B; b++) out.push(Array.from(r.paths.subarray(b * p.T, b * p.T + p.lengths[b])));
    return out;
  }

  /** TorchCRF's name for {@link CRF.decode}. */
  async viterbiDecode(emissions: EmissionsInput, mask?: MaskInput | null): Promise<number[][]> {
    return this.decode(emissions, { mask });
  }

  /** log Z per sequence (0 for a sequence with no position on). */
  async logPartition(emissions: EmissionsInput, options?: MaskOption): Promise<Float32Array> {
    const o = this.#options(options, 'options');
    const { call } = this.#prepare(emissions, o.mask);
    if (call.p.B === 0) return new Float32Array(0);
    const logZ = await this.#impl.logPartition(call.p, call.w);
    this.#noPath(logZ, call.p);
    return Float32Array.from(logZ);
  }

  /** Posterior marginals p(y_t = j) in the input layout; 0 at positions that are off. */
  async marginals(emissions: EmissionsInput, options?: MaskOption): Promise<Float32Array> {
    const o = this.#options(options, 'options');
    const { call } = this.#prepare(emissions, o.mask);
    if (call.p.B === 0) return new Float32Array(0);
    const post = await this.#impl.posteriors(call.p, call.w);
    this.#noPath(post.logZ, call.p);
    return unpackToLayout(call.p, post.unary, call.T, this.batchFirst);
  }

  /** H(y | x) per sequence, in nats. */
  async entropy(emissions: EmissionsInput, options?: MaskOption): Promise<Float32Array> {
    const o = this.#options(options, 'options');
    const { call } = this.#prepare(emissions, o.mask);
    if (call.p.B === 0) return new Float32Array(0);
    const post = await this.#impl.posteriors(call.p, call.w);
    this.#noPath(post.logZ, call.p);
    return Float32Array.from(entropies(call.p, post, call.w));
  }

  /** The live parameter arrays (what an optimizer updates in place). */
  parameters(): { startTransitions: Float32Array; endTransitions: Float32Array; transitions: Float32Array } {
    return { startTransitions: this.startTransitions, endTransitions: this.endTransitions, transitions: this.transitions };
  }

  /** The parameters under pytorch-crf's names, as plain arrays. */
  stateDict(): StateDict {
    const K = this.numTags;
    return {
      start_transitions: Array.from(this.startTransitions),
      end_transitions: Array.from(this.endTransitions),
      transitions: Array.from({ length: K }, (_, i) => Array.from(this.transitions.subarray(i * K, (i + 1) * K))),
    };
  }

  /**
   * Loads pytorch-crf names (`start_transitions`, `end_transitions`, `transitions`) or TorchCRF names
   * (`start_trans`, `end_trans`, `trans_matrix`). Every value is checked before any is written.
   */
  loadStateDict(sd: Record<string, unknown>): void {
    if (sd === null || typeof sd !== 'object') throw new CRFInputError('stateDict', 'an object', describe(sd));
    const K = this.numTags;
    const names = 'start_transitions' in sd || 'end_transitions' in sd || 'transitions' in sd
      ? ['start_transitions', 'end_transitions', 'transitions']
      : ['start_trans', 'end_trans', 'trans_matrix'];
    for (const k of Object.keys(sd)) {
      if (!names.includes(k)) throw new CRFInputError('stateDict', `only the keys ${names.join(', ')}`, `unexpected key ${JSON.stringify(k)}`);
    }
    // Accepts a flat array of n numbers or, for the matrix, K rows of K (nested arrays or typed arrays).
    const read = (name: string, matrix: boolean): Float32Array => {
      if (!(name in sd)) throw new CRFInputError('stateDict', `key ${name}`, 'it missing');
      const want = matrix ? `shape [${K}, ${K}]` : `shape [${K}]`;
      const v = sd[name] as ArrayLike<unknown>;
      const n = matrix ? K * K : K;
      if (v === null || typeof v !== 'object' || typeof v.length !== 'number') throw new CRFInputError(`stateDict.${name}`, want, describe(v));
      const flat: unknown[] = [];
      if (matrix && v.length === K && typeof v[0] === 'object') {
        for (let i = 0; i < K; i++) {
          const r = v[i] as ArrayLike<unknown>;
          if (r === null || typeof r !== 'object' || r.length !== K) throw new CRFInputError(`stateDict.${name}`, want, `row ${i}: ${describe(r)}`);
          for (let j = 0; j < K; j++) flat.push(r[j]);
        }
      } else if (v.length === n) {
        for (let i = 0; i < n; i++) flat.push(v[i]);
      } else {
        throw new CRFInputError(`stateDict.${name}`, want, describe(v));
      }
      const out = new Float32Array(n);
      flat.forEach((x, i) => {
        if (typeof x !== 'number' || !Number.isFinite(x)) throw new CRFInputError(`stateDict.${name}`, `finite numbers in ${want} (at ${i})`, describe(x));
        out[i] = x;
      });
      return out;
    };
    const s = read(names[0], false);
    const e = read(names[1], false);
    const t = read(names[2], true);
    this.startTransitions.set(s);
    this.endTransitions.set(e);
    this.transitions.set(t);
  }

  /**
   * A CRF with the weights of a PyTorch safetensors file: pytorch-crf's `start_transitions`,
   * `end_transitions`, `transitions` or TorchCRF's `start_trans`, `end_trans`, `trans_matrix`, in F32,
   * F64, F16 or BF16, optionally under a prefix such as `crf.` (a whole model's state dict). The number
   * of tags comes from the shapes. The file is checked whole before anything is read.
   * @param bytes the file's bytes (e.g. `await (await fetch(url)).arrayBuffer()`).
   * @param options `prefix` plus any {@link CRFOptions} (backend, batchFirst, constraints, ...).
   * @throws CRFInputError for a malformed file, missing, ambiguous or mis-shaped weights, or bad options.
   */
  static async fromSafetensors(bytes: Uint8Array | ArrayBuffer | ArrayBufferView, options: FromSafetensorsOptions = {}): Promise<CRF> {
    if (options === null || typeof options !== 'object') throw new CRFInputError('options', 'an object', describe(options));
    const { prefix, ...rest } = options;
    const w = readCRFWeights(bytes, prefix);
    const crf = await CRF.create(w.numTags, rest);
    crf.loadStateDict(w.stateDict);
    return crf;
  }

  /**
   * The weights as a safetensors file (float32, pytorch-crf names, optionally prefixed), for
   * `safetensors.torch.load_file` and `load_state_dict` on the Python side.
   * @throws CRFInputError for bad options.
   */
  toSafetensors(options?: ToSafetensorsOptions): Uint8Array {
    return writeCRFWeights(this.parameters(), this.numTags, options);
  }

  /** Frees the backend's resources (GPU buffers); the instance is unusable afterwards. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#impl.dispose();
  }
}
