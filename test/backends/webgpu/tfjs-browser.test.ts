// webcrf/tfjs on tfjs's webgpu backend in headless Chromium (SwiftShader where there is no GPU), from
// dist/ as a page imports it (test/webgpu/tfjs-page.js): a step's loss and gradients through the GPU
// route map no GPU buffer, equal the CPU route's on tfjs's cpu backend, and both equal the float64 js
// backend's forwardBackward here. Needs `npm run build`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumPath, pageResult, serveToChromium } from '../../../scripts/chromium.js';
import { expectClose as close, llhReference } from '../../helpers.js';

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
    const { B, T, K, emissions, tags, mask, weights } = r.inputs;
    const em = { data: Float32Array.from(emissions), shape: [B, T, K] };
    const want = {
      ...(await llhReference(r.gpu.state as never, em, tags, mask, { weights })),
      summed: (await llhReference(r.gpu.state as never, em, tags, mask)).value,
    };
    for (const [name, got] of [
      ['webgpu', r.gpu],
      ['cpu', r.cpu],
    ] as const) {
      close([got.loss, got.summed], [want.value, want.summed], `${name} loss`);
      for (const k of ['emissions', 'startTransitions', 'endTransitions', 'transitions'] as const) close(got[k], want[k], `${name} ${k}`);
    }
  }, 300_000);
});
