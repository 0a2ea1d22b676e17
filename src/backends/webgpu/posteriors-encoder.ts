// The posteriors op recorded into a command encoder someone else owns, with no readback and no await:
// the internal entry point for a tensor library's WebGPU backend (TensorFlow.js's), whose tensors are
// GPU buffers and whose pending command encoder orders our passes after the ops that made the inputs.
//
// Contract (internal; not exported from the package):
// - `await posteriorsEncoder(device, K)` compiles the pipelines once (the only await); `encode(encoder,
//   call)` then records everything synchronously into `encoder`: no queue.submit, no mapAsync, no
//   promise. The caller submits the encoder when it submits its own work (for TensorFlow.js: its
//   pending `backend.commandEncoder`, after `ensureCommandEncoderReady()` and `endComputePassEncoder()`;
//   a separate submit would run before tfjs's still-pending ops and read stale inputs).
// - The call: `emissions`, a GPUBuffer of B·T·K float32, dense and batch-first, STORAGE usage, finite
//   values (they are not checked here: the caller checks them, as a float32 GPU kernel cannot tell an
//   infinity); `lengths`, each sequence's on positions 0 … len−1 (CPU Int32Array; all T when absent);
//   the potentials as CPU arrays (−Infinity allowed: forbidden) or as GPUBuffers with STORAGE and
//   COPY_SRC usage holding finite float32 values (copied into the encoder, in order).
// - The outputs, GPUBuffers with STORAGE usage, each at least as large as its values: `logZ` [B] (0 for
//   an empty sequence, −1e30 where no path is allowed), `unary` [B, T, K] (0 past each length),
//   `transitions` [B, K, K] per sequence, or [K, K] summed with `weights` [B] (a GPUBuffer or CPU array:
//   Σ_b weights[b]·ξ_b, the transitions' gradient of Σ_b dy_b·log Z_b), `first` and `last` [B, K]
//   (the marginals of the first and last tag: the gradients of log Z for start and end). log Z is
//   summed in float32 on the GPU (the CPU path sums its row shifts in float64).
// - `encode` returns the scratch buffers it made; `release()` destroys them and may be called once the
//   encoder is submitted (WebGPU keeps them until the GPU is done). Nothing is chunked: a call whose
//   buffers exceed the device's binding limit throws, and the caller splits its batch.
import { WGSL } from '../../generated/shaders.js';
import { SHADERS } from '../../generated/shaders.js';
import { USAGE } from './buffers.js';
import { type Bound, type Program, program } from './execute.js';
import { layoutFor } from './op.js';
import { pipelineFor } from './pipelines.js';

type Potential = Float32Array | GPUBuffer;

export interface PosteriorsCall {
  B: number;
  T: number;
  emissions: GPUBuffer;
  lengths?: Int32Array | null;
  start: Potential;
  end: Potential;
  trans: Potential;
  /** Per-sequence weights of the summed transition counts; absent: counts per sequence. */
  weights?: Potential | null;
  out: { logZ: GPUBuffer; unary: GPUBuffer; transitions: GPUBuffer; first: GPUBuffer; last: GPUBuffer };
}

export interface PosteriorsEncoder {
  readonly K: number;
  encode(encoder: GPUCommandEncoder, call: PosteriorsCall): { release(): void };
}

const SHADER_NAMES = ['chain.posteriors', 'unary', 'pairs', 'summary', 'weighted'] as const;

/** The posteriors of K tags on `device`, its pipelines compiled: see the contract above. */
export async function posteriorsEncoder(device: GPUDevice, K: number): Promise<PosteriorsEncoder> {
  const layout = layoutFor(K);
  const mem = SHADERS['chain.posteriors'].memory;
  if (mem.perTile * layout.TILE + mem.fixed > device.limits.maxComputeWorkgroupStorageSize) {
    throw new Error(`webcrf posteriors encoder: K = ${K} needs more workgroup memory than the device has`);
  }
  const constants = { TPS: layout.TPS, TILE: layout.TILE };
  const pipelines = new Map<string, GPUComputePipeline>();
  for (const s of SHADER_NAMES) pipelines.set(s, await pipelineFor(device, s, s === 'chain.posteriors' || s === 'unary' ? constants : {}));
  const rowsX = device.limits.maxComputeWorkgroupsPerDimension;
  const limit = device.limits.maxStorageBufferBindingSize;
  const grid = (n: number): [number, number] => (n <= rowsX ? [Math.max(1, n), 1] : [rowsX, Math.ceil(n / rowsX)]);

  return {
    K,
    encode(encoder, call) {
      const { B, T, out } = call;
      const KK = K * K;
      const made: GPUBuffer[] = [];
      const buffer = (bytes: number, usage: number, label: string) => {
        if (bytes > limit)
          throw new Error(`webcrf posteriors encoder: ${label} needs ${bytes} bytes, beyond the device's binding limit ${limit}: split the batch`);
        const b = device.createBuffer({ size: Math.max(16, Math.ceil(bytes / 4) * 4), usage, label: `webcrf ${label}` });
        made.push(b);
        return b;
      };
      const upload = (data: Float32Array | Uint32Array, label: string) => {
        const b = buffer(data.byteLength, USAGE.STORAGE | USAGE.COPY_DST, label);
        device.queue.writeBuffer(b, 0, data);
        return b;
      };
      const need = (b: GPUBuffer, bytes: number, name: string) => {
        if (!(b.size >= bytes)) throw new Error(`webcrf posteriors encoder: ${name} needs ${bytes} bytes, has ${b.size}`);
        return { buffer: b, size: Math.max(4, bytes) };
      };
      // The pairs kernel runs one workgroup row per sequence.
      if (B > rowsX) throw new Error(`webcrf posteriors encoder: ${B} sequences, at most ${rowsX} a call: split the batch`);
      try {
        const em = need(call.emissions, 4 * B * T * K, 'emissions');
        const lengths = upload(call.lengths ? Uint32Array.from(call.lengths) : new Uint32Array(B).fill(T), 'lengths');
        const dims = buffer(32, USAGE.UNIFORM | USAGE.COPY_DST, 'dims');
        device.queue.writeBuffer(dims, 0, new Uint32Array([B, T, K, B, 1, 0, rowsX, 0]));
        // start | end | trans, forbidden = NEG, as the chain kernel reads them.
        const potentials = buffer(4 * (2 * K + KK), USAGE.STORAGE | USAGE.COPY_DST, 'potentials');
        const parts: [Potential, number, number][] = [
          [call.start, 0, K],
          [call.end, K, K],
          [call.trans, 2 * K, KK],
        ];
        for (const [src, at, n] of parts) {
          if (src instanceof Float32Array) {
            if (src.length !== n) throw new Error(`webcrf posteriors encoder: a potential of ${src.length} values, expected ${n}`);
            device.queue.writeBuffer(
              potentials,
              4 * at,
              Float32Array.from(src, (v) => (v === -Infinity ? WGSL.NEG : v)),
            );
          } else {
            need(src, 4 * n, 'a potential');
            encoder.copyBufferToBuffer(src, 0, potentials, 4 * at, 4 * n);
          }
        }
        const scores = buffer(4 * B, USAGE.STORAGE, 'scores');
        const norms = buffer(4 * 2 * B * T * 2, USAGE.STORAGE, 'row shifts');
        const beta = buffer(4 * B * T * K, USAGE.STORAGE, 'beta');
        const unary = need(out.unary, 4 * B * T * K, 'out.unary');
        const weighted = call.weights !== undefined && call.weights !== null;
        const perSequence = weighted
          ? buffer(4 * B * KK, USAGE.STORAGE, 'transition counts per sequence')
          : need(out.transitions, 4 * B * KK, 'out.transitions');
        const constants = { TPS: layout.TPS, TILE: layout.TILE };
        const programs: Program[] = [
          program('posteriors', 'chain.posteriors', constants, [Math.ceil(B / layout.SEQ), 2], {
            dims,
            emissions: em,
            lengths,
            potentials,
            scores,
            norms,
            alpha: unary,
            beta,
          }),
          program('marginals', 'unary', constants, grid(Math.ceil((B * T) / layout.SEQ)), { dims, lengths, alpha: unary, beta }),
          program('pairs', 'pairs', {}, [Math.ceil(KK / WGSL.WG), B], {
            dims,
            lengths,
            potentials,
            unary,
            beta,
            emissions: em,
            norms,
            partialCounts: perSequence,
          }),
          program('summary', 'summary', {}, grid(Math.ceil((B * K) / WGSL.WG)), {
            dims,
            lengths,
            scores,
            norms,
            unary,
            logZ: need(out.logZ, 4 * B, 'out.logZ'),
            first: need(out.first, 4 * B * K, 'out.first'),
            last: need(out.last, 4 * B * K, 'out.last'),
          }),
        ];
        if (weighted) {
          const w = call.weights!;
          const weights: Bound = w instanceof Float32Array ? upload(w, 'weights') : need(w, 4 * B, 'weights');
          programs.push(
            program('weighted counts', 'weighted', {}, grid(Math.ceil(KK / WGSL.WG)), {
              dims,
              weights,
              perSequence,
              counts: need(out.transitions, 4 * KK, 'out.transitions'),
            }),
          );
        }
        if (B > 0) {
          const pass = encoder.beginComputePass({ label: 'webcrf posteriors' });
          for (const p of programs) {
            const pipeline = pipelines.get(p.shader)!;
            pass.setPipeline(pipeline);
            pass.setBindGroup(
              0,
              device.createBindGroup({
                label: `webcrf ${p.name}`,
                layout: pipeline.getBindGroupLayout(0),
                entries: p.buffers.map((b, binding) => ({ binding, resource: 'buffer' in b ? b : { buffer: b } })),
              }),
            );
            pass.dispatchWorkgroups(p.dispatch[0], p.dispatch[1]);
          }
          pass.end();
        }
      } catch (e) {
        for (const b of made) b.destroy();
        throw e;
      }
      return {
        release() {
          for (const b of made) b.destroy();
          made.length = 0;
        },
      };
    },
  };
}
