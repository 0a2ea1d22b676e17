// The yardsticks bench/run.js sets beside webcrf, each run in this process's shapes and ops when it can
// run here, or skipped with the reason:
//   pytorch-crf  bench/pytorch_crf.py, on PyTorch's CPU backend with one thread. Needs a python3 with
//                torch (Debian's python3-torch) and PYTORCH_CRF_SRC pointing at a checkout of
//                https://github.com/kmkurn/pytorch-crf (it is not vendored); PYTHON picks the python.
//   native-c     bench/native/crf.c compiled with `cc -O3 -march=native -ffast-math` (CC picks the
//                compiler): log Z in scaled space and Viterbi, one sequence after another.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));

/**
 * @typedef {{ backend: string, op: string, B: number, T: number, K: number, tokensPerSec: number, msPerCall: number, calls: number }} Row
 * @typedef {{ name: string, rows: Row[], skipped: string | null }} PeerResult
 */

/** @param {string} out */
const jsonLines = (out) =>
  out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => /** @type {Row} */ (JSON.parse(l)));

/** A python3 that imports torch, or null. */
function python() {
  for (const py of [process.env.PYTHON, 'python3', '/usr/bin/python3'].filter(Boolean)) {
    const r = spawnSync(/** @type {string} */ (py), ['-c', 'import torch'], { encoding: 'utf8' });
    if (r.status === 0) return /** @type {string} */ (py);
  }
  return null;
}

/**
 * @param {number[][]} shapes
 * @param {string[]} ops
 * @param {number} minMs
 * @returns {PeerResult}
 */
export function pytorchCrf(shapes, ops, minMs) {
  const name = 'pytorch-crf';
  if (!process.env.PYTORCH_CRF_SRC) return { name, rows: [], skipped: 'PYTORCH_CRF_SRC is not set (a checkout of kmkurn/pytorch-crf)' };
  const py = python();
  if (!py) return { name, rows: [], skipped: 'no python3 with torch (Debian: apt-get install python3-torch; or set PYTHON)' };
  const args = [join(here, 'pytorch_crf.py'), shapes.map((s) => s.join('x')).join(','), ops.join(','), String(minMs)];
  const r = spawnSync(py, args, { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) return { name, rows: [], skipped: `bench/pytorch_crf.py failed: ${(r.stderr || r.stdout).trim().split('\n').pop()}` };
  return { name, rows: jsonLines(r.stdout), skipped: null };
}

/**
 * @param {number[][]} shapes
 * @param {string[]} ops
 * @param {number} minMs
 * @returns {PeerResult}
 */
export function nativeC(shapes, ops, minMs) {
  const name = 'native-c';
  const cc = process.env.CC ?? 'cc';
  const exe = join(mkdtempSync(join(tmpdir(), 'webcrf-bench-')), 'crf');
  const built = spawnSync(cc, ['-O3', '-march=native', '-ffast-math', '-o', exe, join(here, 'native', 'crf.c'), '-lm'], { encoding: 'utf8' });
  if (built.error || built.status !== 0) return { name, rows: [], skipped: `no C compiler (${cc}: ${built.error?.message ?? built.stderr.trim()})` };
  const r = spawnSync(exe, [shapes.map((s) => s.join('x')).join(','), String(minMs)], { encoding: 'utf8' });
  if (r.status !== 0) return { name, rows: [], skipped: `bench/native/crf.c exited with ${r.status}` };
  return { name, rows: jsonLines(r.stdout).filter((row) => ops.includes(row.op)), skipped: null };
}
