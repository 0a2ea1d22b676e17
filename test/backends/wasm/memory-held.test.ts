// What a CRF holds between calls is what memoryUsage() says, and what the docs say is given back is:
// after one-off calls past the memory kept between calls, after dispose() (the instance still
// referenced), in worker threads, and for instances dropped without dispose(). Measured in a child
// `node --expose-gc` process (test/child/memory.js), whose memory is the CRF's alone.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const CHILD = fileURLToPath(new URL('../../child/memory.js', import.meta.url));
const ENTRY = new URL('../../../dist/node.js', import.meta.url).href;
const MiB = 2 ** 20;
/** What the process may hold beyond what memoryUsage() counts (the child's own small allocations). */
const SLACK_MIB = 0.25;

function child<T>(scenario: string, ...args: string[]): Promise<T> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--expose-gc', CHILD, ENTRY, scenario, ...args],
      { encoding: 'utf8', timeout: 60_000, maxBuffer: 16 * MiB },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`${scenario}: ${err.message}\n${stderr}`));
        else resolve(JSON.parse(stdout) as T);
      },
    );
  });
}

interface Step {
  op: string;
  heldMiB: number;
  countedMiB: number;
}

describe('memory held between calls', () => {
  it('a one-off call past the memory kept is given back, and memoryUsage() says so (logPartition and marginals of 2^25 values, then dispose)', async () => {
    const steps = await child<Step[]>('one-off');
    expect(steps.map((s) => s.op)).toEqual(['logPartition', 'marginals', 'dispose']);
    for (const s of steps) {
      expect(Math.abs(s.heldMiB - s.countedMiB), JSON.stringify(s)).toBeLessThanOrEqual(SLACK_MIB);
      expect(s.heldMiB, JSON.stringify(s)).toBeLessThan(1);
    }
  }, 60_000);

  it("a call refused after its emissions' range check keeps nothing of them (the check's note of what it left in place holds them weakly)", async () => {
    const steps = await child<(Step & { message?: string })[]>('refused');
    expect(steps.map((s) => s.op)).toEqual(['logPartition', 'refused forward']);
    expect(steps[1].message).toMatch(/^tags: /);
    for (const s of steps) expect(Math.abs(s.heldMiB - s.countedMiB), JSON.stringify(s)).toBeLessThanOrEqual(SLACK_MIB);
  }, 60_000);

  it('dispose() gives back the memory of a call within the kept bound while the instance is still referenced', async () => {
    const r = await child<{ kept: Step; disposed: Step & { numTags: number } }>('dispose');
    // 64 MiB of emissions: kept between calls, and counted.
    expect(r.kept.countedMiB).toBeGreaterThan(64);
    expect(Math.abs(r.kept.heldMiB - r.kept.countedMiB)).toBeLessThanOrEqual(SLACK_MIB);
    expect(r.disposed.numTags).toBe(8);
    expect(r.disposed.countedMiB).toBe(0);
    expect(r.disposed.heldMiB).toBeLessThanOrEqual(SLACK_MIB);
  }, 60_000);

  it('a worker thread that ran a split call past the memory kept gives it back, and memoryUsage() agrees', async () => {
    const r = await child<{ reason: string; freed: boolean; heldMiB: number; countedMiB: number }>('worker');
    expect(r.reason).toMatch(/on 2 threads/);
    // Before, the worker kept about 256 MiB (its half of the emissions and its kernels' memory) through
    // any number of later calls while memoryUsage() reported none of it.
    expect(r.freed, JSON.stringify(r)).toBe(true);
    expect(r.heldMiB).toBeLessThan(64);
    expect(Math.abs(r.countedMiB)).toBeLessThan(4);
  }, 60_000);

  it('what the process holds is what memoryUsage() counts, after every call of a random mix and after dispose (js, wasm)', async () => {
    for (const seed of ['1', '2']) {
      const steps = await child<(Step & { backend: string })[]>('mixed', seed);
      expect(steps.length).toBe(18);
      for (const s of steps) expect(Math.abs(s.heldMiB - s.countedMiB), JSON.stringify(s)).toBeLessThanOrEqual(SLACK_MIB);
      for (const s of steps.filter((x) => x.op === 'dispose')) expect(s.countedMiB).toBe(0);
    }
  }, 60_000);
});

describe('worker threads of dropped instances', () => {
  it.skipIf(process.platform !== 'linux')(
    'a CRF with threads dropped without dispose() ends its workers when it is collected',
    async () => {
      const r = await child<{ reason: string; ended: boolean; extraThreads: number; heldMiB: number; cycles: number }>('dropped');
      expect(r.reason).toMatch(/on 2 threads/);
      // Before, each dropped CRF left its worker (an OS thread and some 8 MB) for the life of the process.
      expect(r.ended, JSON.stringify(r)).toBe(true);
      expect(r.extraThreads).toBeLessThanOrEqual(1);
      expect(r.heldMiB).toBeLessThan(5 * r.cycles);
    },
    60_000,
  );
});
