// npm run fuzz [-- --seconds 60 --seed N]: differential fuzzing of every backend Node has against the
// float64 reference. Prints the seed; a failure prints a minimal reproducer and exits 1.
// npm run fuzz -- --replay case.json: runs one printed reproducer again on every backend.
import { readFileSync } from 'node:fs';
import * as lib from 'webcrf'; // the package's own exports: Node's condition loads the .wasm from disk
import { compareCase, compareWithEnumeration, fuzz } from '../test/suites/fuzz.js';
import { nodeBackends } from './node-backends.js';

const arg = (/** @type {string} */ name, /** @type {number} */ dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const seed = arg('seed', Date.now() % 2 ** 31);
const seconds = arg('seconds', 60);
const backends = await nodeBackends(lib);
const replay = process.argv.indexOf('--replay');
if (replay >= 0) {
  const c = JSON.parse(readFileSync(process.argv[replay + 1], 'utf8'));
  const problems = [...(await compareWithEnumeration(lib, c))];
  for (const b of backends) if (b.name !== 'js') problems.push(...(await compareCase(lib, b.name, b.options, c)).map((p) => `${b.name}: ${p}`));
  console.log(problems.length ? problems.join('\n') : `replay: every backend (${backends.map((b) => b.name).join(', ')}) agrees`);
  process.exit(problems.length ? 1 : 0);
}
console.log(`fuzz: seed ${seed}, ${seconds} s, backends ${backends.map((b) => b.name).join(', ')}`);
const stats = await fuzz({ lib, backends, seed, seconds, log: console.log });
console.log(
  JSON.stringify({ seed, seconds, backends: backends.map((b) => b.name), cases: stats.cases, byScale: stats.byScale, failures: stats.failures.length }),
);
process.exit(stats.failures.length ? 1 : 0);
