// Every oracle suite, run per backend by test/ops/oracles.test.ts in Node and by test/browser/ in a page.
import { bruteForceConstrained, bruteForceUnconstrained, perCallConstraints } from './bruteforce.js';
import { conformance } from './conformance.js';
import { entropyEdges, hostileContainers, parametersBetweenCalls, scoresAtEveryScale } from './extremes.js';
import { finiteDifferences } from './finitediff.js';
import { gapMasks } from './gaps.js';
import { partialAnnotations, partialFiniteDifferences, partialIdentities } from './partial.js';
import { sampleFrequencies } from './sample.js';

/**
 * name → async (ctx) => void; ctx = { lib, backend, backendOptions?, vectors }. Throws on a mismatch.
 * @type {Record<string, (ctx: import('./util.js').Ctx) => Promise<void>>}
 */
export const suites = {
  conformance,
  bruteForceUnconstrained,
  bruteForceConstrained,
  perCallConstraints,
  gapMasks,
  finiteDifferences,
  scoresAtEveryScale,
  entropyEdges,
  parametersBetweenCalls,
  hostileContainers,
  partialAnnotations,
  partialIdentities,
  partialFiniteDifferences,
  sampleFrequencies,
};
