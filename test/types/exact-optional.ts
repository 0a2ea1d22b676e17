// A user's TypeScript under exactOptionalPropertyTypes (test/types/tsconfig.exact.json): an optional
// option may be handed a value that is sometimes undefined (`{ mask: maybeMask }`, the usual way to
// forward an optional argument) in every public options type, and the overloads keep their result types.
import {
  Adam,
  CRF,
  allowedFromTags,
  clipGradNorm,
  crossEntropy,
  maskFromTags,
  writeSafetensors,
  type AnnotationOption,
  type CRFOptions,
  type DecodeOptions,
  type FromSafetensorsOptions,
  type MaskOption,
  type PosteriorOptions,
  type ReductionOptions,
  type ToSafetensorsOptions,
  type TransitionConstraints,
} from 'webcrf';

declare function maybe<T>(v: T): T | undefined;

const emissions = [[[0.1, 0.4, -0.2]]];
const tags = [[1]];
const mask: boolean[][] | undefined = maybe(maskFromTags(tags));
const allowed = maybe(allowedFromTags([[-1]], 3, { unknown: maybe(-1) }));

const createOptions: CRFOptions = {
  batchFirst: maybe(true),
  backend: maybe('wasm'),
  seed: maybe(1),
  constraints: maybe([
    [true, true, true],
    [true, true, true],
    [true, true, true],
  ]),
  threads: maybe(2),
  webgpuMinWork: maybe(0),
};
const crf = await CRF.create(3, createOptions);
const maskOnly: MaskOption = { mask };
const annotation: AnnotationOption = { allowed };
const posterior: PosteriorOptions = { mask, allowed };
const reduction: ReductionOptions = { mask, reduction: maybe('mean') };
const decodeOptions: DecodeOptions = { mask, allowed, topK: maybe(2), constraints: maybe(undefined) };
console.log(maskOnly, annotation, posterior, reduction, decodeOptions);

const llh: number = await crf.forward(emissions, tags, { mask, reduction: maybe('sum') });
const llhAll: number | Float32Array = await crf.forward(emissions, tags, reduction);
const fb = await crf.forwardBackward(emissions, tags, { mask, reduction: maybe('token_mean') });
const fbNumber: number = fb.logLikelihood;
const best: number[][] = await crf.decode(emissions, { mask, allowed, constraints: undefined });
const either = await crf.decode(emissions, decodeOptions);
const z: Float64Array = await crf.logPartition(emissions, { mask, allowed });
const m: Float32Array = await crf.marginals(emissions, posterior);
const h: Float32Array = await crf.entropy(emissions, { mask: undefined, allowed: undefined });
console.log(llh, llhAll, fbNumber, best, either, z, m, h);

const constraints: TransitionConstraints = { transitions: [[true]], start: maybe([true]), end: maybe(undefined) };
const adam = new Adam(crf.parameters(), {
  lr: maybe(0.1),
  betas: maybe([0.9, 0.999] as const),
  eps: maybe(1e-8),
  weightDecay: maybe(0),
  amsgrad: maybe(false),
  maximize: maybe(true),
});
const { emissions: _e, ...paramGrads } = fb.grads;
adam.step(paramGrads);
const norm: number = clipGradNorm(paramGrads, 5, { normType: maybe(2) });
const ce: number = crossEntropy(emissions, tags, { ignoreIndex: maybe(-100), reduction: maybe('mean') }).loss;
const toOptions: ToSafetensorsOptions = { prefix: maybe('crf.'), metadata: maybe({ note: 'x' }) };
const fromOptions: FromSafetensorsOptions = { prefix: maybe('crf.'), backend: maybe('js') };
const again = await CRF.fromSafetensors(crf.toSafetensors(toOptions), fromOptions);
const file: Uint8Array = writeSafetensors({ w: { dtype: maybe('F32'), shape: [1], data: [1] } });
console.log(constraints, norm, ce, file.length);
again.dispose();
crf.dispose();
