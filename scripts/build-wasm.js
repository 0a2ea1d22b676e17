// Builds the WASM kernels (asconfig.json's simd and scalar targets) with AssemblyScript's API, printing
// nothing unless a target fails: the optimizer's "Last converge was suboptimal." is a note about its
// own fixed-point iteration, not about the kernels. Then inlines both builds (build-inline-wasm.js).
import asc from 'assemblyscript/asc';

for (const target of ['simd', 'scalar']) {
  const out = asc.createMemoryStream();
  const err = asc.createMemoryStream();
  const { error } = await asc.main(['--config', 'asconfig.json', '--target', target], { stdout: out, stderr: err });
  if (error) {
    process.stderr.write(`asc --target ${target} failed:\n${out.toString()}${err.toString()}`);
    process.exit(1);
  }
}
await import('./build-inline-wasm.js');
