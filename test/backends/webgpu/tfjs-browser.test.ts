// webcrf/tfjs on tfjs's webgpu backend in headless Chromium (SwiftShader where there is no GPU), from
// dist/ as a page imports it (test/webgpu/tfjs-page.js): a step's loss and gradients through the GPU
// route map no GPU buffer, equal the CPU route's on tfjs's cpu backend, and both equal the float64 js
// backend's forwardBackward here. Needs `npm run build`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumPath, pageResult, serveToChromium } from '../../../scripts/chromium.js';
import { CRF } from '../../../src/index.js';

type Step = Record<'emissions' | 'startTransitions' | 'endTransitions' | 'transitions', number[]> & {
  loss: number;
  summed: number;
  maps: number;
  passes: number;
  leaked: number;
  state: Record<string, number[] | number[][]>;
};
interface Result {
  skipped?: string;
  fatal?: string;
  gpu: Step;
  cpu: Step;
  inputs: { B: number; T: number; K: number; emissions: number[]; tags: number[][]; mask: number[][]; weights: number[] };
}

/** Σ_b w_b llh_b and its gradients by the float64 js backend, one sequence at a time. */
async function reference(r: Result) {
  const { B, T, K, emissions, tags, mask, weights } = r.inputs;
  const js = await CRF.create(K, { backend: 'js' });
  js.loadStateDict(r.gpu.state as never);
  const em = { data: Float32Array.from(emissions), shape: [B, T, K] };
  const want = {
    loss: 0,
    emissions: new Float64Array(B * T * K),
    startTransitions: new Float64Array(K),
    endTransitions: new Float64Array(K),
    transitions: new Float64Array(K * K),
  };
  for (let b = 0; b < B; b++) {
    const only = mask.map((row, i) => row.map((m) => (i === b ? m : 0)));
    const fb = await js.forwardBackward(em, tags, { mask: only });
    want.loss += weights[b] * fb.logLikelihood;
    fb.grads.emissions.forEach((g, i) => (want.emissions[i] += weights[b] * g));
    for (const k of ['startTransitions', 'endTransitions', 'transitions'] as const) fb.grads[k].forEach((g, i) => (want[k][i] += weights[b] * g));
  }
  const summed = await js.forward(em, tags, { mask });
  js.dispose();
  return { ...want, summed };
}

function close(got: ArrayLike<number>, want: ArrayLike<number>, name: string) {
  expect(got.length, name).toBe(want.length);
  for (let i = 0; i < want.length; i++)
    expect(Math.abs(got[i] - want[i]), `${name}[${i}]: ${got[i]} vs ${want[i]}`).toBeLessThanOrEqual(2e-5 * (1 + Math.abs(want[i])));
}

const chromium = chromiumPath();
if (!chromium) console.warn('tfjs webgpu browser test skipped: no Chromium (install chromium or set PUPPETEER_EXECUTABLE_PATH)');

describe.skipIf(!chromium)('webcrf/tfjs on tfjs’s webgpu backend, in headless Chromium', () => {
  let chrome: Awaited<ReturnType<typeof serveToChromium>>;
  beforeAll(async () => {
    chrome = await serveToChromium();
  });
  afterAll(async () => {
    await chrome?.close();
  });

  it('a training step maps no GPU buffer, and its loss and gradients are the cpu backend’s and the js backend’s', async (t) => {
    const { result, problems } = await pageResult(chrome, '/test/webgpu/tfjs-page.html', '__tfjs');
    const r = result as Result;
    expect(r.fatal, r.fatal).toBeUndefined();
    if (r.skipped) {
      console.warn(`tfjs webgpu browser test skipped: ${r.skipped}`);
      t.skip();
      return;
    }
    // tfjs warns on the console when it reads a GPU tensor synchronously; nothing else may show.
    expect(problems).toEqual([]);
    expect(r.gpu.maps, 'GPU buffers mapped between the emissions and the gradients').toBe(0);
    // All three forwards of the step (two differentiated, one summed) took the GPU route.
    expect(r.gpu.passes).toBe(3);
    expect(r.gpu.leaked).toBe(0);
    expect(r.cpu.leaked).toBe(0);
    const want = await reference(r);
    for (const [name, got] of [
      ['webgpu', r.gpu],
      ['cpu', r.cpu],
    ] as const) {
      close([got.loss, got.summed], [want.loss, want.summed], `${name} loss`);
      for (const k of ['emissions', 'startTransitions', 'endTransitions', 'transitions'] as const) close(got[k], want[k], `${name} ${k}`);
    }
  }, 300_000);
});
