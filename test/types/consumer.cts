// A CommonJS TypeScript project: no top-level await, so the quick start is an async function, and the
// ESM-only package is imported through require(), which Node >= 20.19 and >= 22.12 provide for ESM.
import { CRF } from 'webcrf';

async function main(): Promise<void> {
  const crf = await CRF.create(3, { seed: 1 });
  const llh: number = await crf.forward([[[0.1, 0.2, 0.3]]], [[2]]);
  const best: number[][] = await crf.decode([[[0.1, 0.2, 0.3]]]);
  console.log(llh.toFixed(3), best, crf.backend);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
