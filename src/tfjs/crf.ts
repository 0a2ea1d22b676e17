import * as tf from '@tensorflow/tfjs-core';
import {
  type AllowedInput,
  type BackendName,
  CRF as CoreCRF,
  type CRFOptions,
  CRFInputError,
  type DecodeOptions,
  type EmissionsInput,
  type FromSafetensorsOptions,
  type MaskInput,
  type PosteriorOptions,
  type Reduction,
  type ScoredPath,
  type StateDict,
  type StateDictInput,
  type TagsInput,
  type ToSafetensorsOptions,
} from '../index.js';
import { emissionsTensor, readLater, readNow } from './inputs.js';
import { llh } from './llh.js';
import { type WebGpuRoute, webGpuRoute } from './llh-webgpu.js';

/** An input the core takes, or a tf tensor of it. */
export type Tensorish<T> = T | tf.Tensor;

/** The mask option with tensors: a bool or int32 tf tensor `[B, T]` (or `[T, B]`), or what the core takes. */
export interface TensorMaskOption {
  /** Which positions are on: a bool or int32 tf tensor `[B, T]` (or `[T, B]`), or the core's form; all on when absent. */
  mask?: Tensorish<MaskInput> | null | undefined;
}

/** The posterior ops' options with tensors: `mask`, and `allowed` as a bool or int32 tf tensor `[B, T, K]` or what the core takes. */
export interface TensorPosteriorOptions extends TensorMaskOption {
  /** The tags allowed at each position: a bool or int32 tf tensor `[B, T, K]`, or the core's form. */
  allowed?: Tensorish<AllowedInput> | null | undefined;
}

/** `forward`'s options: `mask`, and `reduction` as the core's (default `'sum'`). */
export interface TensorReductionOptions extends TensorMaskOption {
  /** How the per-sequence log-likelihoods are reduced, as the core's: `'sum'` (default), `'mean'`, `'token_mean'` or `'none'`. */
  reduction?: Reduction | undefined;
}

/** A partial annotation whose `allowed` may be a tf tensor. */
export interface TensorPartialAnnotation {
  /** The tags each position may take: a bool or int32 tf tensor `[B, T, K]`, or the core's form. */
  allowed: Tensorish<AllowedInput>;
}

/** The CRF's three parameters as trainable tf variables, under the core's names. */
export interface CRFVariables {
  /** `[K]`: the score of starting with each tag. */
  startTransitions: tf.Variable<tf.Rank.R1>;
  /** `[K]`: the score of ending with each tag. */
  endTransitions: tf.Variable<tf.Rank.R1>;
  /** `[K, K]`, `[from, to]`. */
  transitions: tf.Variable<tf.Rank.R2>;
}

let instances = 0;

/**
 * webcrf's CRF speaking TensorFlow.js: the same CRF as `webcrf`'s, whose parameters are tf variables
 * that one tfjs optimizer trains together with the network that makes the emissions.
 *
 * {@link CRF.forward} is synchronous and differentiable: call it inside `optimizer.minimize`,
 * `tf.variableGrads` or `tf.grad`. On tfjs's `cpu` and `wasm` backends it runs the core's kernels on
 * the calling thread (`crf.sync` of the core CRF), the emissions read with `dataSync`, a copy. For a
 * CRF made on tfjs's `webgpu` backend it runs webcrf's WGSL kernels on tfjs's device with no readback
 * (tags with a prefix mask, no constraints; other calls read the emissions back, as on `webgl`). The
 * other ops are async, take tf tensors or anything the core takes, and return what the core returns.
 *
 * @example
 * const crf = await CRF.create(numTags, { seed: 1 });
 * optimizer.minimize(() => crf.forward(tagger.apply(x, { training: true }), tags, { mask }).neg());
 * const paths = await crf.decode(tagger.predict(x), { mask });
 */
export class CRF {
  readonly #core: CoreCRF;
  /**
   * The parameters, trainable: `tf.variableGrads` and optimizers find them like a layer's weights. They
   * are the truth: every op reads them. Their tf names are `webcrf<n>/<key>`, unique per instance.
   */
  readonly variables: CRFVariables;
  /** The GPU route's kernels on tfjs's device, when the CRF was made on tfjs's webgpu backend. */
  readonly #gpu: WebGpuRoute | null;

  private constructor(core: CoreCRF, gpu: WebGpuRoute | null) {
    this.#core = core;
    this.#gpu = gpu;
    const id = ++instances;
    this.variables = Object.freeze({
      startTransitions: tf.variable(tf.tensor1d(core.startTransitions), true, `webcrf${id}/startTransitions`),
      endTransitions: tf.variable(tf.tensor1d(core.endTransitions), true, `webcrf${id}/endTransitions`),
      transitions: tf.variable(tf.tensor2d(core.transitions, [core.numTags, core.numTags]), true, `webcrf${id}/transitions`),
    });
  }

  /**
   * A CRF with K tags, its parameters drawn as the core's `CRF.create` draws them.
   * @param numTags K, a positive integer.
   * @param options the core's {@link CRFOptions} (`batchFirst`, `seed`, `constraints`, `backend`, ...):
   *   the ops run on that backend's CPU kernels.
   * @throws `CRFInputError` as the core's `CRF.create`.
   */
  static async create(numTags: number, options: CRFOptions = {}): Promise<CRF> {
    return CRF.#wrap(await CoreCRF.create(numTags, options), options);
  }

  static async #wrap(core: CoreCRF, options: CRFOptions | null | undefined): Promise<CRF> {
    // Constraints make forbidden paths −∞, which the GPU route's finite potentials cannot carry.
    const constrained = options?.constraints !== undefined && options.constraints !== null;
    const gpu = tf.getBackend() === 'webgpu' && !constrained ? await webGpuRoute(core.numTags) : null;
    // The variables' initial values are made here: nothing of this call stays in tfjs's scope.
    let crf: CRF | null = null;
    tf.tidy(() => {
      crf = new CRF(core, gpu);
    });
    return crf!;
  }

  /** K, the number of tags. */
  get numTags(): number {
    return this.#core.numTags;
  }

  /** Whether inputs are `[batch, seq, …]` (true) or `[seq, batch, …]` (false). */
  get batchFirst(): boolean {
    return this.#core.batchFirst;
  }

  /** The backend whose CPU kernels run the ops: the core CRF's (`'wasm'`, or `'js'` where the kernels could not load). */
  get backend(): BackendName {
    return this.#core.backend;
  }

  /** Why {@link CRF.backend} is what it is (the core's sentence), and where `forward` runs on tfjs's webgpu backend. */
  get backendReason(): string {
    const reason = this.#core.backendReason;
    return this.#gpu ? `${reason}; forward records its kernels on tfjs's webgpu device, the other ops run on those CPU kernels` : reason;
  }

  /** The core CRF, unless this instance was disposed. */
  #live(): CoreCRF {
    if (this.variables.transitions.isDisposed) throw new Error('CRF: this instance was disposed');
    return this.#core;
  }

  /** The core's parameters set from the variables, before an op reads them. */
  #pull(): CoreCRF {
    const v = this.variables;
    this.#live();
    return this.#setCore([v.startTransitions.dataSync(), v.endTransitions.dataSync(), v.transitions.dataSync()]);
  }

  /**
   * The log-likelihood of `tags` (score(tags) − log Z), reduced as the core's `forward` does: a tf
   * scalar, or a `[B]` tensor for `reduction: 'none'`. Synchronous and differentiable with respect to
   * the emissions and {@link CRF.variables} (an upstream gradient that differs per sequence is honoured
   * exactly); the loss is its negative.
   * @param emissions a float32 tf tensor `[B, T, K]` (batchFirst) or `[T, B, K]`.
   * @param tags an int32 tf tensor `[B, T]` (or `[T, B]`), anything the core takes, or a partial
   *   annotation `{ allowed }` (a bool or int32 tensor `[B, T, K]`, or the core's form).
   * @param options `mask` (a bool or int32 tensor, or the core's form) and `reduction`.
   * @throws `CRFInputError` for emissions that are not a float32 tensor, tags or a mask of
   *   another dtype, and whatever the core's `forward` refuses; nothing is recorded on tfjs's tape then.
   * @throws Error when the instance was disposed.
   */
  forward(emissions: tf.Tensor, tags: Tensorish<TagsInput> | TensorPartialAnnotation, options: TensorReductionOptions = {}): tf.Tensor {
    const em = emissionsTensor(emissions);
    const o = forwardOptions(options);
    const core = this.#live();
    const labels = isAnnotation(tags) ? { allowed: readNow('allowed', tags.allowed) } : readNow('tags', tags);
    const mask = o.mask === undefined || o.mask === null ? null : flatMask(readNow('mask', o.mask));
    const v = this.variables;
    const reduction = o.reduction ?? 'sum';
    return tf.tidy(() => {
      const perSequence = llh(
        { core, emissions: em, start: v.startTransitions, end: v.endTransitions, trans: v.transitions, labels: labels, mask },
        this.#gpu,
        reduction !== 'none',
      );
      if (reduction === 'none') return perSequence;
      const sum = tf.sum(perSequence);
      if (reduction === 'sum') return sum;
      const n = reduction === 'mean' ? perSequence.shape[0] : mask ? countOn(mask) : em.size / this.numTags;
      return n === 0 ? tf.scalar(0) : tf.div(sum, n);
    });
  }

  /**
   * Viterbi decoding, as the core's `decode` (with `topK`, the k best paths).
   * @param emissions a float32 tf tensor or anything the core takes.
   * @param options as the core's, `mask` and `allowed` also as tf tensors.
   * @returns what the core returns: `number[][]`, or `ScoredPath[][]` with `topK`.
   * @throws `CRFInputError` for a tensor of the wrong dtype, and as the core's `decode`.
   */
  decode(emissions: Tensorish<EmissionsInput>, options?: TensorDecodeOptions & { topK?: undefined }): Promise<number[][]>;
  /** The k best paths per sequence, as the core's `decode` with `topK`. */
  decode(emissions: Tensorish<EmissionsInput>, options: TensorDecodeOptions & { topK: number }): Promise<ScoredPath[][]>;
  async decode(emissions: Tensorish<EmissionsInput>, options?: TensorDecodeOptions): Promise<number[][] | ScoredPath[][]> {
    const [em, o] = await this.#read(emissions, options);
    return (await this.#pullLater()).decode(em, o as DecodeOptions);
  }

  /**
   * log Z per sequence, as the core's `logPartition`.
   * @returns `Float64Array(B)`, as the core's (float64: tfjs would round it to float32).
   */
  async logPartition(emissions: Tensorish<EmissionsInput>, options?: TensorPosteriorOptions): Promise<Float64Array> {
    const [em, o] = await this.#read(emissions, options);
    return (await this.#pullLater()).logPartition(em, o as PosteriorOptions);
  }

  /** Posterior marginals, as the core's `marginals`: a flat `Float32Array` in the input layout. */
  async marginals(emissions: Tensorish<EmissionsInput>, options?: TensorPosteriorOptions): Promise<Float32Array> {
    const [em, o] = await this.#read(emissions, options);
    return (await this.#pullLater()).marginals(em, o as PosteriorOptions);
  }

  /** The entropy of each sequence's distribution over paths, as the core's `entropy`: `Float32Array(B)`. */
  async entropy(emissions: Tensorish<EmissionsInput>, options?: TensorPosteriorOptions): Promise<Float32Array> {
    const [em, o] = await this.#read(emissions, options);
    return (await this.#pullLater()).entropy(em, o as PosteriorOptions);
  }

  /** Paths drawn from p(y | x), as the core's `sample`: `number[][][]`. */
  async sample(
    emissions: Tensorish<EmissionsInput>,
    options?: TensorPosteriorOptions & { numSamples?: number | undefined; seed?: number | undefined },
  ): Promise<number[][][]> {
    const [em, o] = await this.#read(emissions, options);
    return (await this.#pullLater()).sample(em, o as PosteriorOptions);
  }

  /** The emissions and the options' mask and allowed, tensors read out (checked for their dtype). */
  async #read<O extends TensorPosteriorOptions>(emissions: Tensorish<EmissionsInput>, options: O | undefined): Promise<[EmissionsInput, O | undefined]> {
    const em = await readLater('emissions', emissions);
    if (options === null || typeof options !== 'object') return [em, options];
    const o = { ...options };
    if (o.mask !== undefined) o.mask = await readLater('mask', o.mask);
    if (o.allowed !== undefined) o.allowed = await readLater('allowed', o.allowed);
    return [em, o];
  }

  /** The parameters under pytorch-crf's names, as the core's `stateDict` (from the variables). */
  stateDict(): StateDict {
    return this.#pull().stateDict();
  }

  /**
   * Loads a state dict as the core's `loadStateDict` does, into the variables.
   * @throws `CRFInputError` as the core's; the instance is then unchanged.
   */
  loadStateDict(sd: StateDictInput): void {
    const core = this.#pull();
    core.loadStateDict(sd);
    this.#push();
  }

  /** As {@link CRF.#pull}, awaiting the variables' values (no blocking readback on a GPU backend). */
  async #pullLater(): Promise<CoreCRF> {
    const v = this.variables;
    this.#live();
    const values = await Promise.all([v.startTransitions.data(), v.endTransitions.data(), v.transitions.data()]);
    this.#live();
    return this.#setCore(values);
  }

  /** The core's start, end and transition parameters set to the variables' values. */
  #setCore([start, end, trans]: ArrayLike<number>[]): CoreCRF {
    this.#core.startTransitions.set(start);
    this.#core.endTransitions.set(end);
    this.#core.transitions.set(trans);
    return this.#core;
  }

  /** The variables set from the core's parameters. */
  #push(): void {
    const v = this.variables,
      c = this.#core;
    tf.tidy(() => {
      v.startTransitions.assign(tf.tensor1d(c.startTransitions));
      v.endTransitions.assign(tf.tensor1d(c.endTransitions));
      v.transitions.assign(tf.tensor2d(c.transitions, [c.numTags, c.numTags]));
    });
  }

  /** The weights as a safetensors file, as the core's `toSafetensors`. */
  toSafetensors(options?: ToSafetensorsOptions): Uint8Array {
    return this.#pull().toSafetensors(options);
  }

  /** A CRF with the weights of a PyTorch safetensors file, as the core's `CRF.fromSafetensors`. */
  static async fromSafetensors(bytes: Uint8Array | ArrayBuffer | ArrayBufferView, options: FromSafetensorsOptions = {}): Promise<CRF> {
    return CRF.#wrap(await CoreCRF.fromSafetensors(bytes, options), options);
  }

  /** Disposes the variables and frees the core CRF; afterwards the ops throw. */
  dispose(): void {
    for (const v of Object.values(this.variables) as tf.Variable[]) if (!v.isDisposed) v.dispose();
    this.#core.dispose();
  }
}

/** The decode options with tensors. */
export interface TensorDecodeOptions extends TensorPosteriorOptions {
  /** The k best paths per sequence instead of the best one, as the core's. */
  topK?: number | undefined;
  /** Constraints for this call only, on top of the instance's, as the core's. */
  constraints?: DecodeOptions['constraints'];
}

const REDUCTIONS: readonly Reduction[] = ['none', 'sum', 'mean', 'token_mean'];

/** forward's options, checked as the core checks its own (the core itself then runs with reduction 'none'). */
function forwardOptions(options: TensorReductionOptions | null | undefined): TensorReductionOptions {
  if (options === undefined || options === null) return {};
  const usage = 'crf.forward(emissions, tags, { mask, reduction })';
  if (typeof options !== 'object' || Array.isArray(options) || options instanceof tf.Tensor) {
    throw new CRFInputError('options', `an options object, as in ${usage}`, options instanceof tf.Tensor ? 'a tf.Tensor' : typeof options);
  }
  for (const k of Object.keys(options))
    if (k !== 'mask' && k !== 'reduction') throw new CRFInputError('options', `only mask and reduction, as in ${usage}`, `the key ${k}`);
  if (options.reduction !== undefined && !REDUCTIONS.includes(options.reduction))
    throw new CRFInputError('reduction', `one of ${REDUCTIONS.join(', ')}`, String(options.reduction));
  return options;
}

function isAnnotation(x: unknown): x is TensorPartialAnnotation {
  return x !== null && typeof x === 'object' && !(x instanceof tf.Tensor) && !Array.isArray(x) && !ArrayBuffer.isView(x) && Object.hasOwn(x, 'allowed');
}

/** A mask as its flat values in the inputs' layout (the core checks shape and values before they are used). */
function flatMask(m: MaskInput): ArrayLike<number | boolean> {
  if (m !== null && typeof m === 'object' && 'data' in m && 'shape' in m) {
    const d = m.data;
    return d instanceof BigInt64Array || d instanceof BigUint64Array ? Array.from(d, Number) : d;
  }
  return Array.from(m as ArrayLike<ArrayLike<number | boolean>>, (row) => Array.from(row)).flat();
}

function countOn(m: ArrayLike<number | boolean>): number {
  let n = 0;
  for (let i = 0; i < m.length; i++) if (m[i]) n++;
  return n;
}
