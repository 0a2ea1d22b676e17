// The shared oracle suites (brute force, conformance vectors, gaps, finite differences) on the scalar
// build of the kernels, handed in through `wasmModule` as an engine without SIMD would get it.
import { readFileSync } from 'node:fs';
import { describe, it } from 'vitest';
import * as lib from '../../../src/index.js';
import { kernels } from '../../wasm-helpers.js';
import { suites } from '../../suites/index.js';

const vectors = JSON.parse(readFileSync(new URL('../../fixtures/pytorch-crf-vectors.json', import.meta.url), 'utf8'));

describe('oracles on the scalar wasm build', () => {
  it.each(Object.keys(suites))('%s', async (name) => {
    await suites[name]({ lib, backend: 'wasm', backendOptions: { wasmModule: await kernels('scalar') }, vectors });
  });
});
