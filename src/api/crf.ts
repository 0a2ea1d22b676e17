import type { Backend } from '../backends/backend.js';
import type { KBestResult, ViterbiResult } from '../ops/index.js';
import { createBackend } from '../backends/choose.js';
import { type Allowed, intersect, readConstraints } from '../model/constraints.js';
import { CRFInputError, describe, reading } from '../errors.js';
import { type ParamGrads, llhGradients, tagGradients } from '../model/grad.js';
import {
  type AllowedInput,
  type DenseEmissions,
  type EmissionsInput,
  type MaskInput,
  type RangeCheck,
  type TagsInput,
  claimEmissions,
  isShaped,
  readAllowed,
  readEmissions,
  readMask,
  readTags,
} from '../call/inputs.js';
import { isGpuInput, notOnWebGpu, onCpuOnly } from '../call/gpu-inputs.js';
import type * as GpuEmissionsChecks from '../call/gpu-emissions.js';
import { MAX_KBEST_CELLS, MAX_RESULT_PATHS, MAX_RESULT_TAGS, MAX_TAGS, MAX_THREADS } from '../limits.js';
import { markGradients } from './marks.js';
import { type Body, type Step, host, now, settle, step } from './drive.js';
import type { SyncCRF } from './sync.js';
import { readOptions } from '../call/options.js';
import { type Packed, pack, packAllowed, packTags, restrict, unpackToLayout } from '../call/pack.js';
import {
  LivePotentials,
  PARAMETER_NAMES,
  type ParameterArrays,
  type Potentials,
  checkParameterArrays,
  parameterLength,
  perParameter,
  potentials,
} from '../model/parameters.js';
import { listLogProbs } from '../model/probabilities.js';
import { seededRandom } from '../rng.js';
import { type Arrays, CallArrays } from '../call/call-arrays.js';
import { type StateDict, type StateDictInput, readStateDict, toStateDict } from '../model/state-dict.js';
import type { FromSafetensorsOptions } from '../interop/weights-reader.js';
import { type ToSafetensorsOptions, writeCRFWeights } from '../interop/weights-writer.js';
import { BACKENDS, CREATE_OPTIONS, DECODE_OPTIONS, POSTERIOR_OPTIONS, REDUCTIONS, REDUCTION_OPTIONS, opOptions, readSeed } from './op-options.js';
import { loadThreadRuntime } from '../backends/wasm/threads/runtime.js';
import type {
  BackendName,
  CRFOptions,
  DecodeOptions,
  ForwardBackwardResult,
  MemoryUsage,
  PartialAnnotation,
  PosteriorOptions,
  Reduction,
  ReductionOptions,
  ScoredPath,
} from './types.js';
// eslint-disable-next-line @typescript-eslint/no-unused-vars -- read by TypeDoc's {@link Gradients} and {@link MaskOption} references
import type { Gradients, MaskOption } from './types.js';

/** What CRF.create hands the private constructor, so that a plain `new CRF(K)` can be told apart. */
const CREATE = Symbol('CRF.create');
/** Viterbi's result as a k-best result with one path per sequence. */
function asKBest(v: ViterbiResult): KBestResult {
  return { paths: v.paths, scores: v.scores instanceof Float64Array ? v.scores : Float64Array.from(v.scores), k: 1 };
}

interface Call {
  p: Packed;
  T: number;
  w: Potentials;
  /** Where the call's input copies live; handed back by #done when the call settles. */
  arrays: Arrays;
  /** No mask was given: every position is on. */
  allOn: boolean;
  /**
   * Set while `p.emissions` is the caller's array, unread (DenseEmissions.borrowed), and not yet handed
   * to the backend. Whatever reads the emissions but the call's one backend step, and every error before
   * that step, claims them first (CRF #claim, #failed).
   */
  borrowed: DenseEmissions | null;
}

/**
 * What an async method would return having thrown `e`. The ops' methods return {@link settle}'s promise
 * itself (an async method would wrap it in one more, a few more turns of the microtask queue on every
 * call); what their first line throws (a method called on something that is not a CRF) rejects as before.
 */
function rejected(e: unknown): Promise<never> {
  // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- whatever was thrown, as an async function would reject with it
  return Promise.reject(e);
}

/** A path as plain numbers: `len` tags from `paths[off]` (a loop: Array.from goes through the iterator protocol, which costs a short call more than its kernel). */
function pathOf(paths: ArrayLike<number>, off: number, len: number): number[] {
  const out = new Array<number>(len);
  for (let t = 0; t < len; t++) out[t] = paths[off + t];
  return out;
}

/** The `threads` option as a count: 1 when absent, the reported cores for `'auto'`. */
async function readThreads(threads: unknown, backend: BackendName | 'auto'): Promise<number> {
  if (threads === undefined) return 1;
  if (threads === 'auto') {
    // Web Workers' runtime is imported only here (and where threads start): a page on one thread never downloads it.
    return Math.min(MAX_THREADS, Math.max(1, (await loadThreadRuntime()).cores()));
  }
  if (typeof threads !== 'number' || !Number.isInteger(threads) || threads < 1 || threads > MAX_THREADS) {
    throw new CRFInputError('threads', `an integer in [1, ${MAX_THREADS}] or 'auto'`, describe(threads));
  }
  if (backend === 'js' && threads > 1) {
    throw new CRFInputError(
      'threads',
      "1 or 'auto' with backend 'js' (the float64 reference runs on the calling thread; threads are for the WebAssembly kernels)",
      describe(threads),
    );
  }
  return threads;
}

/**
 * A linear-chain conditional random field with pytorch-crf's API.
 * Create with `await CRF.create(numTags, options)`.
 */
export class CRF {
  /** K, the number of tags. */
  readonly numTags: number;
  /** Whether inputs are `[batch, seq, …]` (true) or `[seq, batch, …]` (false). */
  readonly batchFirst: boolean;
  /**
   * Length K: the score of starting with each tag. Live: optimizers update it in place, and every call
   * checks it (finite within ±1e20, or −Infinity to forbid).
   */
  readonly startTransitions: Float32Array;
  /** Length K: the score of ending with each tag. Live: optimizers update it in place. */
  readonly endTransitions: Float32Array;
  /** `K × K`, row-major `[from * K + to]`: the score of tag `from` followed by tag `to`. Live. */
  readonly transitions: Float32Array;
  /**
   * The ops run synchronously, on the calling thread's CPU kernels: `crf.sync.forward(...)` returns
   * the log-likelihood itself rather than a promise; see {@link SyncCRF} for where each backend runs them.
   */
  readonly sync: SyncCRF;
  readonly #constraints: Allowed | null;
  readonly #potentials: LivePotentials;
  readonly #arrays = new CallArrays();
  #impl: Backend;
  /** The backend's range check of float32 emissions on its kernels, where it has one (Backend.firstOutOfRange). */
  readonly #rangeCheck: RangeCheck | undefined;
  /** The checks of GPU emissions, imported by `create` with a backend that takes them (a page on the CPU never loads them). */
  #gpuEmissionsModule: typeof GpuEmissionsChecks | null = null;
  #disposed = false;

  private constructor(token: unknown, numTags: number, batchFirst: boolean, constraints: Allowed | null, impl: Backend, reason: string) {
    // TypeScript's `private` does not reach plain JavaScript, where `new CRF(K)` (pytorch-crf's `CRF(K)`)
    // would build an object with no backend that fails later with an unrelated TypeError.
    if (token !== CREATE) {
      const more = arguments.length > 1 ? ', …' : '';
      throw new CRFInputError(
        'new CRF',
        'await CRF.create(numTags, options) (a CRF is made asynchronously: its kernels load first)',
        `new CRF(${arguments.length ? describe(token) : ''}${more})`,
      );
    }
    this.backendReason = reason;
    this.numTags = numTags;
    this.batchFirst = batchFirst;
    this.#constraints = constraints;
    this.#impl = impl;
    this.#rangeCheck = impl.firstOutOfRange ? (data) => impl.firstOutOfRange?.(data, numTags) : undefined;
    this.startTransitions = new Float32Array(numTags);
    this.endTransitions = new Float32Array(numTags);
    this.transitions = new Float32Array(numTags * numTags);
    this.#potentials = new LivePotentials(this, numTags);
    this.sync = Object.freeze({
      forward: (e, t, o) => now(this.#impl, this.#forward(e, t, o)),
      forwardBackward: (e, t, o) => now(this.#impl, this.#forwardBackward(e, t, o)),
      decode: (e, o) => now(this.#impl, this.#decode(e, o)),
      logPartition: (e, o) => now(this.#impl, this.#logPartition(e, o)),
      marginals: (e, o) => now(this.#impl, this.#marginals(e, o)),
      entropy: (e, o) => now(this.#impl, this.#entropy(e, o)),
      sample: (e, o) => now(this.#impl, this.#sample(e, o)),
    } satisfies Record<keyof SyncCRF, (...a: never[]) => unknown>) as SyncCRF;
    // readonly at run time too: the arrays are updated in place, never replaced (a shorter array would
    // leave the kernels reading stale memory).
    for (const k of ['numTags', 'batchFirst', 'backendReason', 'sync', ...PARAMETER_NAMES]) {
      Object.defineProperty(this, k, { writable: false, configurable: false });
    }
  }

  /**
   * Creates a CRF with K tags and parameters drawn from uniform(-0.1, 0.1), on the requested backend.
   * @param numTags K, a positive integer.
   * @param options layout, backend, seed, constraints; see {@link CRFOptions}.
   * @returns a promise of the CRF (backends load asynchronously: WebAssembly compiles, WebGPU requests a device).
   * @throws {@link CRFInputError} for a `numTags` outside [1, 4096], a `threads` that is not an integer
   *   in [1, 256] or `'auto'` (or above 1 with backend `'js'`), an options value that is not an
   *   object or has a key this function does not know (Python spellings such as `batch_first` say which
   *   name is meant), a non-boolean `batchFirst`, an unknown backend name, a seed that is not an
   *   integer in [0, 2^32), a `device` that is not a GPUDevice, or constraints that are not K × K (or
   *   whose start/end are not length K) or hold values other than true/false/0/1.
   * @throws Error when a backend named explicitly cannot run here (e.g. `'webgpu'` with no adapter);
   *   `'auto'` falls back instead.
   */
  static async create(numTags: number, options: CRFOptions = {}): Promise<CRF> {
    if (typeof numTags !== 'number' || !Number.isInteger(numTags) || numTags < 1 || numTags > MAX_TAGS) {
      throw new CRFInputError('numTags', `an integer in [1, ${MAX_TAGS}]`, describe(numTags));
    }
    const o = opOptions(options, CREATE_OPTIONS, 'await CRF.create(numTags, { batchFirst, backend, seed, constraints, threads })');
    const { batchFirst = true, backend = 'auto', seed, constraints } = o;
    if (typeof batchFirst !== 'boolean') throw new CRFInputError('batchFirst', 'a boolean', describe(batchFirst));
    if (!BACKENDS.includes(backend)) {
      throw new CRFInputError('backend', `one of ${BACKENDS.join(', ')}`, describe(backend));
    }
    if (seed !== undefined) readSeed(seed);
    const { device, wasmModule, webgpuMinWork } = o;
    if (device !== undefined) {
      // Imported only here (and where a GPU is asked for): a page that never hands over a device never downloads it.
      const { deviceProblem } = await import('../backends/webgpu/device.js');
      const why = deviceProblem(device);
      if (why) throw new CRFInputError('device', 'a GPUDevice', `${describe(device)} with ${why}`);
    }
    if (wasmModule !== undefined && !(wasmModule instanceof WebAssembly.Module)) {
      throw new CRFInputError('wasmModule', 'a compiled WebAssembly.Module', describe(wasmModule));
    }
    if (webgpuMinWork !== undefined && (typeof webgpuMinWork !== 'number' || !(webgpuMinWork >= 0))) {
      throw new CRFInputError('webgpuMinWork', 'a number ≥ 0', describe(webgpuMinWork));
    }
    const threads = await readThreads(o.threads, backend);
    const allowed = constraints === undefined || constraints === null ? null : readConstraints(constraints, numTags);
    const chosen = await createBackend(backend, o, threads);
    const crf = new CRF(CREATE, numTags, batchFirst, allowed, chosen.backend, chosen.reason);
    if (chosen.backend.gpuBindingLimit) {
      try {
        crf.#gpuEmissionsModule = await import('../call/gpu-emissions.js');
      } catch (e) {
        // A CRF never handed out: its backend (a device's buffers, worker threads) ends here.
        chosen.backend.dispose();
        throw e;
      }
    }
    const rand = seed === undefined ? Math.random : seededRandom(seed);
    for (const name of PARAMETER_NAMES) {
      const a = crf[name];
      for (let i = 0; i < a.length; i++) a[i] = rand() * 0.2 - 0.1;
    }
    return crf;
  }

  /**
   * The backend running the dynamic programs: what `'auto'` resolved to. Under `'auto'` with WebGPU in
   * reach, calls too small for a GPU round trip run on the CPU kernels and a GPU is requested the first
   * time a call is large enough, so this names the CPU backend until then; after a device loss it names
   * the CPU backend again.
   */
  get backend(): BackendName {
    return this.#impl.name;
  }

  /**
   * Why {@link CRF.backend} is what it is, in a sentence: the backend asked for, or what `'auto'` found
   * (which build of the kernels loaded, and how; or why they could not load and the float64 reference
   * runs instead, which `'auto'` also warns about once on the console).
   */
  readonly backendReason: string;

  /**
   * Reads a call's inputs into arrays this instance owns, in the precision its backend computes in, so
   * that the kernels, the gold path's score and every later step see the same values.
   */
  #readCall(emissions: EmissionsInput, mask: MaskInput | null | undefined, extra: Allowed | null = null, oneStep = false) {
    if (this.#disposed) throw new Error('CRF: this instance was disposed');
    const w: Potentials = this.#potentials.get(intersect(this.#constraints, extra));
    const arrays = this.#arrays.acquire();
    try {
      if (isGpuInput(mask, 'mask')) throw onCpuOnly('mask');
      if (isGpuInput(emissions)) {
        // Only a WebGPU backend takes them (and only with one are their checks loaded).
        const limit = this.#impl.gpuBindingLimit?.() ?? null;
        const gpu = this.#gpuEmissionsModule;
        if (limit === null || !gpu) throw notOnWebGpu(emissions, this.#impl.name);
        const g = gpu.readGpuEmissions(emissions, this.numTags, this.batchFirst, limit);
        const m = readMask(mask, g.B, g.T, this.batchFirst, arrays);
        return {
          em: g,
          mask: m,
          call: { p: gpu.packGpu(g, m, arrays.lengths(g.B), (n) => arrays.positions(n)), T: g.T, w, arrays, allOn: false, borrowed: null },
        };
      }
      const impl = this.#impl;
      // A call whose one backend step copies its emissions where its kernels read them leaves them where
      // they are: they are checked there (Backend.borrows), each range of a split call where it runs.
      const borrow = oneStep && impl.borrows ? (B: number) => impl.borrows!(B) : undefined;
      let em = readEmissions(emissions, this.numTags, this.batchFirst, impl.precision, arrays, this.#rangeCheck, borrow);
      // No mask: every position on, which packing and reading tags need not scan for.
      const allOn = mask === undefined || mask === null;
      let m: Uint8Array;
      let p: Packed;
      try {
        m = readMask(mask, em.B, em.T, this.batchFirst, arrays);
        p = pack(em, allOn ? null : m, arrays);
      } catch (e) {
        // One thread reads every emission before the mask: a bad one is the call's error.
        if (em.borrowed) claimEmissions(em, arrays, this.#rangeCheck);
        throw e;
      }
      if (em.borrowed && p.emissions !== em.data) {
        // A mask with gaps moved the rows into a copy, where a bad value's index is no longer the caller's.
        em = claimEmissions(em, arrays, this.#rangeCheck);
        p = pack(em, m, arrays);
      }
      return { em, mask: m, call: { p, T: em.T, w, arrays, allOn, borrowed: em.borrowed ? em : null } };
    } catch (e) {
      this.#arrays.release(arrays);
      throw e;
    }
  }

  /**
   * The call with its emissions on the CPU, for what computes there on them (a partial annotation):
   * GPU emissions are read back once, checked as the CPU path checks them. Every CPU input of the call
   * is read before this is awaited.
   */
  *#hosted(call: Call): Body<Packed> {
    if (call.p.gpu) call.p = yield* host(call.p);
    return call.p;
  }

  /**
   * Borrowed emissions (Call.borrowed) made the call's own, copied and checked as readEmissions would
   * have: throws its error for a bad value.
   */
  #claim(call: Call): void {
    const em = call.borrowed;
    if (!em) return;
    call.borrowed = null;
    const own = claimEmissions(em, call.arrays, this.#rangeCheck);
    call.p = { ...call.p, emissions: own.data, placed: own.checked === true, unchecked: false };
  }

  /**
   * The error of a call that failed before its backend step ran: with its emissions still borrowed, a
   * bad emission's, as the emissions are read before any other argument.
   */
  #failed(call: Call, e: unknown): unknown {
    try {
      this.#claim(call);
    } catch (bad) {
      return bad;
    }
    return e;
  }

  /** The call as its one backend step takes it: borrowed emissions are the step's from here on. */
  #lend(call: Call): Packed {
    call.borrowed = null;
    return call.p;
  }

  /** Ends a call #readCall began: its input arrays go back to the CRF for the next call. */
  #done(call: Call): void {
    this.#arrays.release(call.arrays);
  }

  #noPath(logZ: ArrayLike<number>, p: Packed, annotated = false): void {
    for (let b = 0; b < p.B; b++) {
      if (p.lengths[b] > 0 && logZ[b] === -Infinity) {
        throw annotated
          ? new CRFInputError(
              'allowed',
              'an annotation that (with the constraints) permits at least one path for every sequence',
              `none for sequence ${b} (length ${p.lengths[b]})`,
            )
          : new CRFInputError('constraints', 'at least one allowed path for every sequence', `none for sequence ${b} (length ${p.lengths[b]})`);
      }
    }
  }

  /**
   * `{ allowed }` when `labels` is a partial annotation, else null (tags); an options object there is
   * refused with the call `op` wants. Read once, under the argument's name: a revoked Proxy or a
   * throwing getter is bad input.
   */
  #partialOf(labels: TagsInput | PartialAnnotation, op: string): { allowed: AllowedInput } | null {
    return reading('tags', () => {
      if (labels === null || typeof labels !== 'object' || Array.isArray(labels) || ArrayBuffer.isView(labels)) return null;
      if (Object.hasOwn(labels, 'allowed')) return { allowed: (labels as PartialAnnotation).allowed };
      // The options where the tags go: decode's `(emissions, { mask })` carried over to forward.
      if ((Object.hasOwn(labels, 'mask') || Object.hasOwn(labels, 'reduction')) && !isShaped(labels)) {
        throw new CRFInputError(
          'tags',
          `gold tags before the options: crf.${op}(emissions, tags, { mask, reduction }), or { allowed } for a partial annotation`,
          'an options object',
        );
      }
      return null;
    });
  }

  /**
   * A call's annotation, packed: the emissions with the tags it rules out at −∞ (`p`), and the
   * sequences it leaves with a position where no tag is allowed (`dead`: they keep their emissions).
   */
  *#annotation(x: AllowedInput, mask: Uint8Array, em: { B: number; T: number }, call: Call): Body<{ bits: Uint8Array; dead: boolean[]; p: Packed }> {
    const { bits, empty } = packAllowed(call.p, readAllowed(x, mask, em.B, em.T, this.numTags, this.batchFirst), em.T);
    return { bits, dead: empty, p: restrict(yield* this.#hosted(call), bits, empty) };
  }

  /** The call restricted by an `allowed` option (a position with no allowed tag is refused). */
  *#restricted(allowed: AllowedInput | null | undefined, mask: Uint8Array, em: { B: number; T: number }, call: Call): Body<Packed> {
    if (allowed === undefined || allowed === null) return call.p;
    const a = yield* this.#annotation(allowed, mask, em, call);
    const b = a.dead.findIndex((d, i) => d && call.p.lengths[i] > 0);
    if (b >= 0) throw new CRFInputError('allowed', 'at least one allowed tag at every position that is on', `none at a position of sequence ${b}`);
    return a.p;
  }

  /**
   * What logPartition, marginals and entropy share: the call read and restricted by its `allowed`, the
   * backend's op run on it, a sequence left with no path refused, and the op's result read by `result`
   * (`empty` when the batch has no sequence).
   */
  *#posterior<R, O extends Float32Array | Float64Array>(
    op: string,
    emissions: EmissionsInput,
    options: PosteriorOptions | undefined,
    run: (p: Packed, w: Potentials) => Body<R>,
    logZOf: (r: R) => Float64Array,
    result: (r: R, p: Packed, T: number) => O,
    empty: () => O,
  ): Body<O> {
    const o = opOptions(options, POSTERIOR_OPTIONS, `crf.${op}(emissions, { mask, allowed })`);
    const { em, mask, call } = this.#readCall(emissions, o.mask, null, o.allowed === undefined || o.allowed === null);
    try {
      const p = yield* this.#restricted(o.allowed, mask, em, call);
      if (p.B === 0) return empty();
      const r = yield* run(p === call.p ? this.#lend(call) : p, call.w);
      this.#noPath(logZOf(r), p, p !== call.p);
      // Read while the call holds its input arrays (p's lengths and positions are among them).
      return result(r, p, call.T);
    } catch (e) {
      throw this.#failed(call, e);
    } finally {
      this.#done(call);
    }
  }

  #reduction(r: unknown): Reduction {
    if (r === undefined) return 'sum';
    if (!REDUCTIONS.includes(r as Reduction)) throw new CRFInputError('reduction', `one of ${REDUCTIONS.join(', ')}`, describe(r));
    return r as Reduction;
  }

  /** What the summed log-likelihood is divided by: 1, the batch size or the tokens on (0: the result is 0). */
  #divisor(p: Packed, reduction: Reduction): number {
    if (reduction === 'mean') return p.B;
    if (reduction === 'token_mean') {
      let n = 0;
      for (const l of p.lengths) n += l;
      return n;
    }
    return 1;
  }

  /**
   * Per-sequence llh (score − log Z; 0 for a sequence with no position on), reduced. llh is a log
   * probability, ≤ 0; log Z from the float32 kernels may come out below the gold path's score (by their
   * rounding, about 1e-7 of the scores' size), so the difference is capped at 0.
   */
  #reduce(num: ArrayLike<number>, logZ: ArrayLike<number>, p: Packed, reduction: Reduction): number | Float32Array {
    const llh = (b: number) => (p.lengths[b] ? Math.min(0, num[b] - logZ[b]) : 0);
    if (reduction === 'none') return Float32Array.from({ length: p.B }, (_, b) => llh(b));
    let sum = 0;
    for (let b = 0; b < p.B; b++) sum += llh(b);
    const d = this.#divisor(p, reduction);
    return d === 0 ? 0 : d === 1 ? sum : sum / d;
  }

  /** The factor each sequence's llh carries in the reduced loss. */
  #weight(p: Packed, reduction: Reduction): number {
    const d = this.#divisor(p, reduction);
    return d === 0 ? 0 : 1 / d;
  }

  /** forwardBackward's result from the log-likelihoods' two terms and the gradients. */
  #gradientResult(
    num: ArrayLike<number>,
    logZ: Float64Array,
    call: { p: Packed },
    reduction: Reduction,
    g: ParamGrads,
  ): ForwardBackwardResult<number | Float32Array> {
    return { logLikelihood: this.#reduce(num, logZ, call.p, reduction), grads: markGradients(g) };
  }

  /**
   * Log-likelihood of `tags`: score(tags) − log Z, per sequence, reduced as pytorch-crf does (the loss
   * is its negative). Gold tags that break the constraints have log-likelihood -Infinity; a sequence
   * with no position on has 0.
   * @param emissions `[B, T, K]` (batchFirst) or `[T, B, K]`: nested arrays or `{ data, shape }`.
   * @param tags `[B, T]` or `[T, B]` integers in [0, K); values at positions that are off are ignored
   *   (so -1 or -100 padding works). Or a partial annotation `{ allowed }` ({@link PartialAnnotation}):
   *   the log-likelihood of the paths it permits, −Infinity for a sequence it permits none in.
   * @param options `mask` and `reduction` (default `'sum'`); see {@link ReductionOptions}.
   * @returns the reduced log-likelihood: a number for `'sum'` (the default), `'mean'` and `'token_mean'`.
   * @throws {@link CRFInputError} for emissions of the wrong rank, ragged, not finite or beyond ±1e20,
   *   with last dimension ≠ K, zero timesteps or more than 2^28 values; tags or mask whose shape differs
   *   from the emissions' first two dimensions; a tag outside [0, K) where the mask is on; a mask value
   *   other than 0/1/true/false; an unknown reduction or option; a parameter that is NaN, +Infinity or
   *   beyond ±1e20 (argument `transitions`, `startTransitions` or `endTransitions`); constraints that
   *   leave a sequence no allowed path (argument `constraints`).
   * @throws Error when the instance was disposed.
   */
  forward(
    emissions: EmissionsInput,
    tags: TagsInput | PartialAnnotation,
    options?: ReductionOptions & { reduction?: 'sum' | 'mean' | 'token_mean' | undefined },
  ): Promise<number>;
  /**
   * Per-sequence log-likelihoods (`reduction: 'none'`), as pytorch-crf's `reduction='none'`.
   * @param emissions `[B, T, K]` (batchFirst) or `[T, B, K]`.
   * @param tags `[B, T]` or `[T, B]`; values at positions that are off are ignored.
   * @param options `mask`, and `reduction: 'none'`.
   * @returns `Float32Array(B)`: score(tags) − log Z per sequence (0 for one with no position on).
   * @throws {@link CRFInputError} as the reduced form.
   */
  forward(emissions: EmissionsInput, tags: TagsInput | PartialAnnotation, options: ReductionOptions & { reduction: 'none' }): Promise<Float32Array>;
  /**
   * The log-likelihood with a reduction only known at run time.
   * @param emissions `[B, T, K]` (batchFirst) or `[T, B, K]`.
   * @param tags `[B, T]` or `[T, B]`; values at positions that are off are ignored.
   * @param options `mask` and `reduction`; see {@link ReductionOptions}.
   * @returns a number, or a `Float32Array(B)` for `reduction: 'none'`.
   * @throws {@link CRFInputError} as the reduced form.
   */
  forward(emissions: EmissionsInput, tags: TagsInput | PartialAnnotation, options?: ReductionOptions): Promise<number | Float32Array>;
  forward(emissions: EmissionsInput, tags: TagsInput | PartialAnnotation, options?: ReductionOptions): Promise<number | Float32Array> {
    try {
      return settle(this.#impl, this.#forward(emissions, tags, options));
    } catch (e) {
      return rejected(e);
    }
  }

  *#forward(emissions: EmissionsInput, tags: TagsInput | PartialAnnotation, options?: ReductionOptions): Body<number | Float32Array> {
    const o = opOptions(options, REDUCTION_OPTIONS, 'crf.forward(emissions, tags, { mask, reduction })');
    const reduction = this.#reduction(o.reduction);
    if (isGpuInput(tags, 'tags')) throw onCpuOnly('tags');
    const { em, mask, call } = this.#readCall(emissions, o.mask, null, true);
    try {
      const partial = this.#partialOf(tags, 'forward');
      if (partial) {
        this.#claim(call);
        const a = yield* this.#annotation(partial.allowed, mask, em, call);
        if (call.p.B === 0) return this.#reduce(new Float64Array(0), new Float64Array(0), call.p, reduction);
        const logZ = yield* step('logPartition', call.p, call.w);
        this.#noPath(logZ, call.p);
        // log Σ over the permitted paths: the restricted log Z (−∞ where none is permitted).
        const num = yield* step('logPartition', a.p, call.w);
        a.dead.forEach((d, b) => {
          if (d) num[b] = -Infinity;
        });
        return this.#reduce(num, logZ, call.p, reduction);
      }
      const t = packTags(call.p, readTags(tags as TagsInput, call.allOn ? null : mask, em.B, em.T, this.numTags, this.batchFirst, call.arrays), em.T);
      if (call.p.B === 0) return this.#reduce(new Float64Array(0), new Float64Array(0), call.p, reduction);
      const { logZ, score } = yield* step('logLikelihood', this.#lend(call), call.w, { tags: t, T: call.p.T });
      this.#noPath(logZ, call.p);
      return this.#reduce(score, logZ, call.p, reduction);
    } catch (e) {
      throw this.#failed(call, e);
    } finally {
      this.#done(call);
    }
  }

  /**
   * The log-likelihood (as {@link CRF.forward}) and its analytic gradients with respect to the emissions
   * and the parameters: ∂llh/∂e[t][j] = [y_t = j] − p(y_t = j), and the same with pair marginals for
   * the transitions. For `reduction: 'none'` the gradients are those of the sum.
   * @param emissions `[B, T, K]` (batchFirst) or `[T, B, K]`.
   * @param tags `[B, T]` or `[T, B]`; values at positions that are off are ignored.
   * @param options `mask` and `reduction`; see {@link ReductionOptions}.
   * @returns `logLikelihood` as {@link CRF.forward} returns it, and {@link Gradients} of it.
   * @throws {@link CRFInputError} as {@link CRF.forward}.
   * @throws Error when the instance was disposed.
   */
  forwardBackward(
    emissions: EmissionsInput,
    tags: TagsInput | PartialAnnotation,
    options?: ReductionOptions & { reduction?: 'sum' | 'mean' | 'token_mean' | undefined },
  ): Promise<ForwardBackwardResult<number>>;
  /**
   * Per-sequence log-likelihoods (`reduction: 'none'`) and the gradients of their sum.
   * @param emissions `[B, T, K]` (batchFirst) or `[T, B, K]`.
   * @param tags `[B, T]` or `[T, B]`; values at positions that are off are ignored.
   * @param options `mask`, and `reduction: 'none'`.
   * @returns `logLikelihood` as a `Float32Array(B)`, and {@link Gradients} of their sum.
   * @throws {@link CRFInputError} as {@link CRF.forward}.
   */
  forwardBackward(
    emissions: EmissionsInput,
    tags: TagsInput | PartialAnnotation,
    options: ReductionOptions & { reduction: 'none' },
  ): Promise<ForwardBackwardResult<Float32Array>>;
  /**
   * The log-likelihood and its gradients with a reduction only known at run time.
   * @param emissions `[B, T, K]` (batchFirst) or `[T, B, K]`.
   * @param tags `[B, T]` or `[T, B]`; values at positions that are off are ignored.
   * @param options `mask` and `reduction`; see {@link ReductionOptions}.
   * @returns `logLikelihood` (a number, or `Float32Array(B)` for `'none'`) and {@link Gradients}.
   * @throws {@link CRFInputError} as {@link CRF.forward}.
   */
  forwardBackward(
    emissions: EmissionsInput,
    tags: TagsInput | PartialAnnotation,
    options?: ReductionOptions,
  ): Promise<ForwardBackwardResult<number | Float32Array>>;
  forwardBackward(
    emissions: EmissionsInput,
    tags: TagsInput | PartialAnnotation,
    options?: ReductionOptions,
  ): Promise<ForwardBackwardResult<number | Float32Array>> {
    try {
      return settle(this.#impl, this.#forwardBackward(emissions, tags, options));
    } catch (e) {
      return rejected(e);
    }
  }

  *#forwardBackward(
    emissions: EmissionsInput,
    tags: TagsInput | PartialAnnotation,
    options?: ReductionOptions,
  ): Body<ForwardBackwardResult<number | Float32Array>> {
    const o = opOptions(options, REDUCTION_OPTIONS, 'crf.forwardBackward(emissions, tags, { mask, reduction })');
    const reduction = this.#reduction(o.reduction);
    if (isGpuInput(tags, 'tags')) throw onCpuOnly('tags');
    const { em, mask, call } = this.#readCall(emissions, o.mask, null, true);
    try {
      const annotation = this.#partialOf(tags, 'forwardBackward');
      if (annotation) this.#claim(call);
      const partial = annotation ? yield* this.#annotation(annotation.allowed, mask, em, call) : null;
      const t = partial
        ? null
        : packTags(call.p, readTags(tags as TagsInput, call.allOn ? null : mask, em.B, em.T, this.numTags, this.batchFirst, call.arrays), em.T);
      const K = this.numTags;
      if (call.p.B === 0) {
        return {
          logLikelihood: this.#reduce(new Float64Array(0), new Float64Array(0), call.p, reduction),
          grads: markGradients({ emissions: new Float32Array(0), ...perParameter((name) => new Float32Array(parameterLength(name, K))) }),
        };
      }
      const weight = this.#weight(call.p, reduction);
      if (!partial) {
        // Gold tags: the gradients op writes the emission gradient in its forward–backward sweep.
        const fb = yield* step('gradients', this.#lend(call), call.w, { tags: t!, T: call.p.T, weight });
        this.#noPath(fb.logZ, call.p);
        return this.#gradientResult(fb.score, fb.logZ, call, reduction, tagGradients(call.p, t!, fb, weight, call.T, this.batchFirst));
      }
      const post = yield* step('posteriors', call.p, call.w);
      this.#noPath(post.logZ, call.p);
      // The restricted posteriors. A sequence the annotation permits no path in (no tag at a position,
      // or none that the constraints let through) has llh −∞ and adds nothing to the gradients: it runs
      // unrestricted in this pass, so its two expectations cancel.
      const dead = partial.dead.slice();
      let postR = yield* step('posteriors', partial.p, call.w);
      let late = false;
      postR.logZ.forEach((z, b) => {
        if (z === -Infinity && !dead[b] && call.p.lengths[b] > 0) late = dead[b] = true;
      });
      if (late) postR = yield* step('posteriors', restrict(call.p, partial.bits, dead), call.w);
      const num = Float64Array.from(postR.logZ, (z, b) => (dead[b] ? -Infinity : z));
      return this.#gradientResult(num, post.logZ, call, reduction, llhGradients(call.p, postR, post, weight, call.T, this.batchFirst));
    } catch (e) {
      throw this.#failed(call, e);
    } finally {
      this.#done(call);
    }
  }

  /**
   * Viterbi decoding: the best tag sequence of each sequence's on positions.
   * @param emissions `[B, T, K]` (batchFirst) or `[T, B, K]`.
   * @param options `mask`, and `constraints` for this call only (on top of the instance's).
   * @returns `number[][]`: per sequence, the tags of its on positions (`[]` for a sequence with none).
   * @throws {@link CRFInputError} for bad emissions or mask (as {@link CRF.forward}), bad constraints, or
   *   constraints that leave a sequence no allowed path.
   * @throws Error when the instance was disposed.
   */
  decode(emissions: EmissionsInput, options?: DecodeOptions & { topK?: undefined }): Promise<number[][]>;
  /**
   * The k best paths per sequence (AllenNLP's `viterbi_tags(top_k=k)`), best first, with their scores.
   * @param emissions `[B, T, K]` (batchFirst) or `[T, B, K]`.
   * @param options `topK` (an integer ≥ 1), `mask`, `constraints`; see {@link DecodeOptions}.
   * @returns per sequence up to k {@link ScoredPath}s, best first, each with its score and log-probability
   *   (the call runs the forward algorithm for log Z besides the k-best search); fewer when the sequence
   *   has fewer allowed paths.
   * @throws {@link CRFInputError} as the one-best form, and for a `topK` that is not an integer ≥ 1 or
   *   whose k-best table (T·K·k cells, 2^24 at most) or result (2^20 paths, 2^24 tags) would exceed the
   *   bounds; the message gives the largest k allowed.
   * @throws Error when the instance was disposed.
   */
  decode(emissions: EmissionsInput, options: DecodeOptions & { topK: number }): Promise<ScoredPath[][]>;
  /**
   * Decoding with options only known at run time: the one-best paths without `topK`, the k-best lists
   * with it.
   * @param emissions `[B, T, K]` (batchFirst) or `[T, B, K]`.
   * @param options `mask`, `topK`, `constraints`; see {@link DecodeOptions}.
   * @returns `number[][]` without `topK`, `ScoredPath[][]` with it.
   * @throws {@link CRFInputError} as the forms above.
   */
  decode(emissions: EmissionsInput, options?: DecodeOptions): Promise<number[][] | ScoredPath[][]>;
  decode(emissions: EmissionsInput, options?: DecodeOptions): Promise<number[][] | ScoredPath[][]> {
    try {
      return settle(this.#impl, this.#decode(emissions, options));
    } catch (e) {
      return rejected(e);
    }
  }

  *#decode(emissions: EmissionsInput, options?: DecodeOptions): Body<number[][] | ScoredPath[][]> {
    const o = opOptions(options, DECODE_OPTIONS, 'crf.decode(emissions, { mask, topK, constraints, allowed })');
    if (o.topK !== undefined && (typeof o.topK !== 'number' || !Number.isInteger(o.topK) || o.topK < 1)) {
      throw new CRFInputError('topK', 'an integer ≥ 1', describe(o.topK));
    }
    const extra = o.constraints === undefined || o.constraints === null ? null : readConstraints(o.constraints, this.numTags);
    const annotated = o.allowed !== undefined && o.allowed !== null;
    // Only a plain decode is one backend step over the emissions as given (Call.borrowed).
    const { em, mask, call } = this.#readCall(emissions, o.mask, extra, !annotated && o.topK === undefined);
    try {
      // Without an annotation no generator is made for #restricted: a short call feels each one.
      const p = annotated ? yield* this.#restricted(o.allowed, mask, em, call) : call.p;
      if (p.B === 0) return [];
      if (o.topK !== undefined) {
        const k = this.#kBestSize(p, o.topK);
        // log p(y | x) needs log Z over the paths the instance's constraints allow, whatever this call
        // restricts (the restricted paths are some of those).
        const model = extra ? this.#potentials.get(this.#constraints) : call.w;
        // One path per sequence beyond the k-best table's bound is the Viterbi path: no table needed.
        const list: Step = k === 0 ? { op: 'viterbi', p, w: call.w, args: [] } : { op: 'kBest', p, w: call.w, args: [{ k }] };
        const [best, logZ] = (yield [list, { op: 'logPartition', p: call.p, w: model, args: [] }]) as [ViterbiResult | KBestResult, Float64Array];
        const r = k === 0 ? asKBest(best) : (best as KBestResult);
        // Each sequence's best score heads its list: -Infinity there means no allowed path at all.
        this.#noPath(
          Float64Array.from({ length: p.B }, (_, b) => r.scores[b * r.k]),
          p,
          annotated,
        );
        const out: ScoredPath[][] = [];
        const logProbs = new Float64Array(r.k);
        for (let b = 0; b < p.B; b++) {
          let n = 0;
          while (n < r.k && r.scores[b * r.k + n] !== -Infinity) n++;
          listLogProbs(r.scores, b * r.k, n, logZ[b], logProbs);
          const list: ScoredPath[] = [];
          for (let r2 = 0; r2 < n; r2++) {
            const off = (b * r.k + r2) * p.T;
            list.push({ path: pathOf(r.paths, off, p.lengths[b]), score: r.scores[b * r.k + r2], logProb: logProbs[r2] });
          }
          out.push(list);
        }
        return out;
      }
      const r = yield* step('viterbi', p === call.p ? this.#lend(call) : p, call.w);
      this.#noPath(r.scores, p, annotated);
      // One sequence of full length: a plain array of paths is already its path, and the call's own.
      if (p.B === 1 && Array.isArray(r.paths) && r.paths.length === p.lengths[0]) return [r.paths];
      const out: number[][] = [];
      for (let b = 0; b < p.B; b++) out.push(pathOf(r.paths, b * p.T, p.lengths[b]));
      return out;
    } catch (e) {
      throw this.#failed(call, e);
    } finally {
      this.#done(call);
    }
  }

  /**
   * The list size a k-best call runs with: topK, but no more than the K^length paths the longest
   * sequence has (a longer list would only cost memory); refused when the table or the result would
   * exceed their bounds, so that a call's memory is bounded before anything is allocated.
   */
  #kBestSize(p: Packed, topK: number): number {
    let longest = 0;
    for (let b = 0; b < p.B; b++) longest = Math.max(longest, p.lengths[b]);
    const k = Math.min(topK, this.numTags ** longest);
    const Kp = Math.ceil(this.numTags / 4) * 4;
    const most = Math.floor(Math.min(MAX_KBEST_CELLS / (p.T * Kp), MAX_RESULT_PATHS / p.B, MAX_RESULT_TAGS / (p.B * p.T)));
    if (k === 1 && most < 1) return 0;
    if (k > most) {
      throw new CRFInputError(
        'topK',
        `at most ${Math.max(1, most)} for ${p.B} sequences of up to ${p.T} steps and ${this.numTags} tags (the k-best table, T·K·k with K rounded up to a multiple of 4, is capped at 2^24 cells; the result at 2^20 paths and 2^24 tags)`,
        describe(topK),
      );
    }
    return k;
  }

  /**
   * TorchCRF's name for {@link CRF.decode} without `topK`.
   * @param emissions `[B, T, K]` (batchFirst) or `[T, B, K]`.
   * @param mask `[B, T]` or `[T, B]`; all on when absent.
   * @returns the best path per sequence, as {@link CRF.decode}.
   * @throws {@link CRFInputError} as {@link CRF.decode}.
   */
  async viterbiDecode(emissions: EmissionsInput, mask?: MaskInput | null): Promise<number[][]> {
    // decode's options object handed here: the mask is this method's second argument itself.
    if (mask !== null && typeof mask === 'object' && !Array.isArray(mask) && !Object.hasOwn(mask, 'data')) {
      const named = DECODE_OPTIONS.filter((k) => Object.hasOwn(mask, k));
      if (named.length > 0) {
        throw new CRFInputError(
          'mask',
          'the mask itself, by position: viterbiDecode(emissions, mask) (or decode(emissions, { mask, ... }))',
          `an options object { ${named.join(', ')} }`,
        );
      }
    }
    return this.decode(emissions, { mask });
  }

  /**
   * The log partition function log Z = log Σ_y exp score(y) per sequence, over allowed paths (the
   * forward algorithm).
   * @param emissions `[B, T, K]` (batchFirst) or `[T, B, K]`.
   * @param options `mask`; see {@link MaskOption}.
   * @returns `Float64Array(B)`, log Z as the backend summed it (float64: at scores of 1e7 a float32 would
   *   round it by up to a nat); 0 for a sequence with no position on.
   * @throws {@link CRFInputError} for bad emissions or mask, or constraints that leave a sequence no
   *   allowed path.
   * @throws Error when the instance was disposed.
   */
  logPartition(emissions: EmissionsInput, options?: PosteriorOptions): Promise<Float64Array> {
    try {
      return settle(this.#impl, this.#logPartition(emissions, options));
    } catch (e) {
      return rejected(e);
    }
  }

  *#logPartition(emissions: EmissionsInput, options?: PosteriorOptions): Body<Float64Array> {
    return yield* this.#posterior(
      'logPartition',
      emissions,
      options,
      (p, w) => step('logPartition', p, w),
      (logZ) => logZ,
      (logZ) => logZ,
      () => new Float64Array(0),
    );
  }

  /**
   * Posterior marginals p(y_t = j | x) (forward–backward).
   * @param emissions `[B, T, K]` (batchFirst) or `[T, B, K]`.
   * @param options `mask`; see {@link MaskOption}.
   * @returns a flat `Float32Array` in the input layout (`[B, T, K]` or `[T, B, K]`): each on position's
   *   K values sum to 1; 0 at positions that are off.
   * @throws {@link CRFInputError} as {@link CRF.logPartition}.
   * @throws Error when the instance was disposed.
   */
  marginals(emissions: EmissionsInput, options?: PosteriorOptions): Promise<Float32Array> {
    try {
      return settle(this.#impl, this.#marginals(emissions, options));
    } catch (e) {
      return rejected(e);
    }
  }

  *#marginals(emissions: EmissionsInput, options?: PosteriorOptions): Body<Float32Array> {
    return yield* this.#posterior(
      'marginals',
      emissions,
      options,
      (p, w) => step('posteriors', p, w),
      (post) => post.logZ,
      (post, p, T) => unpackToLayout(p, post.unary, T, this.batchFirst),
      () => new Float32Array(0),
    );
  }

  /**
   * The entropy H(y | x) of the distribution over paths, per sequence, in nats.
   * @param emissions `[B, T, K]` (batchFirst) or `[T, B, K]`.
   * @param options `mask`; see {@link MaskOption}.
   * @returns `Float32Array(B)`; 0 for a sequence with no position on.
   * @throws {@link CRFInputError} as {@link CRF.logPartition}.
   * @throws Error when the instance was disposed.
   */
  entropy(emissions: EmissionsInput, options?: PosteriorOptions): Promise<Float32Array> {
    try {
      return settle(this.#impl, this.#entropy(emissions, options));
    } catch (e) {
      return rejected(e);
    }
  }

  *#entropy(emissions: EmissionsInput, options?: PosteriorOptions): Body<Float32Array> {
    return yield* this.#posterior(
      'entropy',
      emissions,
      options,
      (p, w) => step('entropy', p, w),
      (r) => r.logZ,
      (r, p) => {
        // The entropy of a distribution over at most K^L paths lies in [0, L·ln K]; rounding may not leave it.
        const out = new Float32Array(p.B);
        for (let b = 0; b < p.B; b++) out[b] = Math.min(Math.max(0, r.entropy[b]), p.lengths[b] * Math.log(this.numTags));
        return out;
      },
      () => new Float32Array(0),
    );
  }

  /**
   * Paths drawn from p(y | x), the CRF's distribution over each sequence's allowed paths (forward
   * filtering, backward sampling: each draw is exact, not an approximation). The draws come from a
   * generator keyed by `seed`, each sequence's index in the batch, the sample and the step, so the same
   * seed and inputs give the same paths on a backend, with or without threads.
   * @param emissions `[B, T, K]` (batchFirst) or `[T, B, K]`.
   * @param options `mask` and `allowed` (as {@link CRF.logPartition}: only paths it permits are drawn);
   *   `numSamples`, paths per sequence (an integer ≥ 1, default 1); `seed`, an integer in [0, 2^32)
   *   (default: a random one per call).
   * @returns `number[][][]`: per sequence, `numSamples` paths, each the tags of its on positions (`[]`
   *   for a sequence with none).
   * @throws {@link CRFInputError} for bad emissions, mask or `allowed` (as {@link CRF.logPartition}), a
   *   `numSamples` that is not an integer in [1, 2^20] or whose result (B·numSamples paths, 2^20 at most,
   *   of B·numSamples·T tags, 2^24 at most) would exceed the bounds (the message gives the largest
   *   allowed), a `seed` that is not an integer in [0, 2^32), or constraints or an annotation that leave a
   *   sequence no allowed path.
   * @throws Error when the instance was disposed.
   */
  sample(emissions: EmissionsInput, options?: PosteriorOptions & { numSamples?: number | undefined; seed?: number | undefined }): Promise<number[][][]> {
    try {
      return settle(this.#impl, this.#sample(emissions, options));
    } catch (e) {
      return rejected(e);
    }
  }

  *#sample(emissions: EmissionsInput, options?: PosteriorOptions & { numSamples?: number | undefined; seed?: number | undefined }): Body<number[][][]> {
    const o = opOptions(options, ['mask', 'allowed', 'numSamples', 'seed'], 'crf.sample(emissions, { mask, allowed, numSamples, seed })');
    const { numSamples = 1, seed = Math.floor(Math.random() * 2 ** 32) } = o;
    if (typeof numSamples !== 'number' || !Number.isInteger(numSamples) || numSamples < 1 || numSamples > MAX_RESULT_PATHS) {
      throw new CRFInputError('numSamples', `an integer in [1, ${MAX_RESULT_PATHS}]`, describe(numSamples));
    }
    readSeed(seed);
    const { em, mask, call } = this.#readCall(emissions, o.mask);
    try {
      const p = yield* this.#restricted(o.allowed, mask, em, call);
      if (p.B === 0) return [];
      const most = Math.floor(Math.min(MAX_RESULT_PATHS / p.B, MAX_RESULT_TAGS / (p.B * p.T)));
      if (numSamples > most) {
        throw new CRFInputError(
          'numSamples',
          most >= 1
            ? `at most ${most} for ${p.B} sequences of up to ${p.T} steps (the result is capped at 2^20 paths and 2^24 tags)`
            : `a smaller batch: ${p.B} sequences of up to ${p.T} steps leave no room for one sample each (the result is capped at 2^24 tags)`,
          describe(numSamples),
        );
      }
      const r = yield* step('sample', p, call.w, { numSamples, seed, first: 0 });
      this.#noPath(r.logZ, p, p !== call.p);
      const out: number[][][] = [];
      for (let b = 0; b < p.B; b++) {
        const paths: number[][] = [];
        for (let n = 0; n < numSamples; n++) paths.push(pathOf(r.paths, (b * numSamples + n) * p.T, p.lengths[b]));
        out.push(paths);
      }
      return out;
    } finally {
      this.#done(call);
    }
  }

  /**
   * Bytes this instance holds between calls outside the JavaScript heap: what stays allocated after its
   * calls have settled and garbage has been collected. `wasmBytes`: the WebAssembly memory, the calling
   * thread's and (with `threads`) every worker's as it reported after its last call; it grows to the
   * largest call seen and is reused, up to 128 MiB per thread. A call that needs more hands its memory
   * back when it finishes: on the calling thread the engine frees it at its next garbage collection,
   * and a worker that held it is replaced by a fresh one once it has been idle for a second.
   * `gpuBytes`: the GPU buffers, pooled ones included. `cacheBytes`: typed arrays kept to be reused,
   * the input copies' arrays (up to 8 MiB for each of the float32 and float64 emissions copies and
   * 2 MiB for each other kind of input, and with `threads`, the copy of its range each worker hands
   * back, up to 8 MiB per worker) and the potentials computed from the parameters. Not counted: the
   * parameters, the results handed back, and each worker's own runtime.
   * These figures stay flat across repeated calls; after {@link CRF.dispose} all are 0 and the memory
   * is freed at the next collection, whether or not the instance is still referenced.
   */
  memoryUsage(): MemoryUsage {
    const m = this.#impl.memoryUsage();
    return { wasmBytes: m?.wasmBytes ?? 0, gpuBytes: m?.gpuBytes ?? 0, cacheBytes: (m?.cacheBytes ?? 0) + this.#arrays.bytes + this.#potentials.bytes };
  }

  /**
   * The live parameter arrays (not copies): what an optimizer such as {@link Adam} updates in place.
   * Keys match those of {@link Gradients}.
   */
  parameters(): {
    /** Length K; the same array as {@link CRF.startTransitions}. */
    startTransitions: Float32Array;
    /** Length K; the same array as {@link CRF.endTransitions}. */
    endTransitions: Float32Array;
    /** `K × K`, `[from * K + to]`; the same array as {@link CRF.transitions}. */
    transitions: Float32Array;
  } {
    return perParameter((name) => this[name]);
  }

  /**
   * The parameters under pytorch-crf's names, copied into plain arrays; see {@link StateDict}.
   * @throws {@link CRFInputError} naming a parameter whose buffer was transferred away.
   */
  stateDict(): StateDict {
    return toStateDict(this, this.numTags);
  }

  /**
   * Loads pytorch-crf names (`start_transitions`, `end_transitions`, `transitions`) or TorchCRF names
   * (`start_trans`, `end_trans`, `trans_matrix`). Every value is checked before any is written.
   * @param sd the vectors as length-K arrays or typed arrays; the matrix as K rows of K or a flat
   *   array of K² (row-major `[from * K + to]`). Values are stored as float32: each must be within
   *   ±1e20 after rounding, or −Infinity, which forbids that start, end or transition as a constraint
   *   does (and does not survive JSON; {@link CRF.toSafetensors} keeps it).
   * @throws {@link CRFInputError} (argument `stateDict…`) for a missing or unexpected key, a wrong
   *   length or shape, or a value that is NaN, +Infinity or beyond ±1e20 in float32 (1e39 becomes
   *   Infinity), or naming a parameter whose buffer was transferred away; the instance is then unchanged.
   */
  loadStateDict(sd: StateDictInput): void {
    this.#load(readStateDict(sd, this.numTags));
  }

  /** Copies checked values into the live arrays (which are never replaced), once all three can take them. */
  #load(values: ParameterArrays): void {
    checkParameterArrays(this, this.numTags);
    for (const name of PARAMETER_NAMES) this[name].set(values[name]);
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
    const { prefix, ...rest } = readOptions(options, 'options', ['prefix', ...CREATE_OPTIONS]);
    // The bytes as they are now: the caller may reuse the buffer while the parser loads. (What cannot
    // be copied, such as a detached buffer, goes to the reader as it is, which names the problem.)
    let now: typeof bytes = bytes;
    try {
      if (ArrayBuffer.isView(bytes)) now = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength).slice();
      else if (bytes instanceof ArrayBuffer) now = bytes.slice(0);
    } catch {
      now = bytes;
    }
    // Loaded here, not with the module: a page that never reads a file never downloads the parser.
    const { readCRFWeights } = await import('../interop/weights-reader.js');
    const w = readCRFWeights(now, prefix);
    const crf = await CRF.create(w.numTags, rest);
    crf.#load(w.parameters);
    return crf;
  }

  /**
   * The weights as a safetensors file (float32, pytorch-crf names, optionally prefixed), for
   * `safetensors.torch.load_file` and `load_state_dict` on the Python side.
   * @throws CRFInputError for bad options.
   */
  toSafetensors(options?: ToSafetensorsOptions): Uint8Array {
    // A file fromSafetensors would refuse (a NaN written into a live array) is refused here instead.
    potentials(this, this.numTags, null);
    return writeCRFWeights(this.parameters(), this.numTags, options);
  }

  /**
   * Frees what the instance holds (GPU buffers, WebAssembly memory, worker threads, the arrays it
   * reuses; see {@link CRF.memoryUsage}); afterwards the ops (forward, decode, …) throw. Calling it
   * again does nothing. An instance dropped without it is freed when it is garbage-collected, its
   * worker threads included.
   */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#impl.dispose();
    this.#arrays.clear();
    this.#potentials.clear();
  }
}
