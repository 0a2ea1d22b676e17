// The shared oracle suites (test/suites/, also run in headless Chrome) on every backend Node has.
import { readFileSync } from 'node:fs';
import { describe, it } from 'vitest';
import * as lib from '../../src/index.js';
import { availableBackends } from '../backends.js';
import { suites } from '../suites/index.js';

const vectors = JSON.parse(readFileSync(new URL('../fixtures/pytorch-crf-vectors.json', import.meta.url), 'utf8'));

describe.each((await availableBackends()).map((b) => [b.name, b.options] as const))('oracles on %s', (backend, backendOptions) => {
  it.each(Object.keys(suites))(
    '%s',
    async (name) => {
      await suites[name]({ lib, backend, backendOptions, vectors });
    },
    300_000,
  );
});
