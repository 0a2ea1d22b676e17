// A Worker that uses the package as a Worker would: through the `workerd` entry, whose kernels arrive as
// CompiledWasm modules. POST a batch; it answers with what the wasm backend computed.
import { CRF } from 'webcrf';

export default {
  /** @param {Request} request */
  async fetch(request) {
    // workerd refuses runtime compilation: this is why the entry imports the .wasm as a module.
    let compileRefused = false;
    try {
      await WebAssembly.compile(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));
    } catch {
      compileRefused = true;
    }
    const { K, B, T, stateDict, emissions, tags, mask } = await request.json();
    const crf = await CRF.create(K, { backend: 'wasm' });
    crf.loadStateDict(stateDict);
    const em = { data: Float32Array.from(emissions), shape: [B, T, K] };
    const opts = { mask: { data: Uint8Array.from(mask), shape: [B, T] } };
    const result = {
      backend: crf.backend,
      compileRefused,
      logPartition: Array.from(await crf.logPartition(em, opts)),
      llh: Array.from(await crf.forward(em, { data: Int32Array.from(tags), shape: [B, T] }, { ...opts, reduction: 'none' })),
      decode: await crf.decode(em, opts),
      top3: await crf.decode(em, { ...opts, topK: 3 }),
      marginals: Array.from(await crf.marginals(em, opts)),
    };
    crf.dispose();
    return Response.json(result);
  },
};
