// A short, fixed-seed run of the differential fuzzer (`npm run fuzz` runs it for longer).
import { expect, it } from 'vitest';
import * as lib from '../../src/index.js';
import { nodeBackends } from '../../scripts/node-backends.js';
import { fuzz } from '../suites/fuzz.js';

it.each([11, 12])('every backend agrees with the float64 reference on 60 random cases (seed %i)', async (seed) => {
  const backends = await nodeBackends(lib);
  const stats = await fuzz({ lib, backends, seed, cases: 60, log: console.log });
  expect(stats.cases).toBe(60);
  expect(stats.failures).toEqual([]);
});
