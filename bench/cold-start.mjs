// A fresh application's first decode, as its entry module (a file, as an application's is) sees it:
// import webcrf, CRF.create, one decode. Node's module loader has started and read a file before this
// line, as it has for any application; what comes after is what webcrf costs it. bench/latency.js's
// coldStart runs it in fresh processes:
//
//   node bench/cold-start.mjs <backend> <B> <T> <K>
const [backend, B, T, K] = [process.argv[2], ...process.argv.slice(3).map(Number)];
const t0 = performance.now();
const lib = await import('webcrf');
const t1 = performance.now();
const crf = await lib.CRF.create(K, { backend: /** @type {import('webcrf').BackendName} */ (backend), seed: 7 });
const t2 = performance.now();
const data = Float32Array.from({ length: B * T * K }, (_, i) => Math.sin(i * 12.9898) * 4);
const t3 = performance.now();
await crf.decode({ data, shape: [B, T, K] });
const t4 = performance.now();
console.log(JSON.stringify({ importMs: t1 - t0, createMs: t2 - t1, firstCallMs: t4 - t3, totalMs: t4 - t0 - (t3 - t2) }));
