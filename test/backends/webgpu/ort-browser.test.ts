// ONNX Runtime Web's webgpu EP in headless Chromium (SwiftShader where there is no GPU) feeding a
// webgpu CRF on ORT's own device (test/webgpu/ort-page.js): the logits stay in ORT's GPU buffer, the
// decode reads back only its result, and the paths are the float64 js backend's on the same model's
// logits, from ORT's wasm EP in the page and from the model's JavaScript oracle here
// (scripts/make-onnx-tagger.js). The browser-only snippet of docs/gpu-inputs.md runs there as written.
// Needs `npm run build` (the page loads dist/).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumPath, pageResult, serveToChromium } from '../../../scripts/chromium.js';
import { logits } from '../../../scripts/make-onnx-tagger.js';
import { CRF } from '../../../src/index.js';

interface Result {
  skipped?: string;
  fatal?: string;
  location: string;
  bufferBytes: number;
  emissionBytes: number;
  paths: number[][];
  wrappedPaths: number[][];
  cpuPaths: number[][];
  refPaths: number[][];
  logZ: number[];
  refLogZ: number[];
  gpuMaps: number[];
  cpuMaps: number[];
  ids: number[][];
  mask: number[][];
  state: Record<string, number[] | number[][]>;
  snippet: { ids: number[][]; mask: number[][]; paths: number[][]; state: Record<string, number[] | number[][]>; sameDevice: boolean };
}

/** The paths the float64 js backend decodes from the model's JavaScript logits, with `state`'s parameters. */
async function oraclePaths(ids: number[][], mask: number[][], state: Result['state']): Promise<number[][]> {
  const B = ids.length,
    T = ids[0].length;
  const crf = await CRF.create(5, { backend: 'js' });
  crf.loadStateDict(state as never);
  const paths = await crf.decode({ data: logits(ids.flat(), B, T), shape: [B, T, 5] }, { mask });
  crf.dispose();
  return paths;
}

const chromium = chromiumPath();
if (!chromium) console.warn('ORT webgpu browser test skipped: no Chromium (install chromium or set PUPPETEER_EXECUTABLE_PATH)');

describe.skipIf(!chromium)('onnxruntime-web webgpu outputs into a webgpu CRF, in headless Chromium', () => {
  let chrome: Awaited<ReturnType<typeof serveToChromium>>;
  beforeAll(async () => {
    chrome = await serveToChromium();
  });
  afterAll(async () => {
    await chrome?.close();
  });

  it('decode(ortTensor) on ORT’s device reads back only the paths, and gives the CPU decode of the same logits', async (t) => {
    const { result, problems } = await pageResult(chrome, '/test/webgpu/ort-page.html', '__ort');
    const r = result as Result;
    expect(problems).toEqual([]);
    expect(r.fatal, r.fatal).toBeUndefined();
    if (r.skipped) {
      console.warn(`ORT webgpu browser test skipped: ${r.skipped}`);
      t.skip();
      return;
    }
    expect(r.location).toBe('gpu-buffer');
    expect(r.bufferBytes).toBeGreaterThanOrEqual(r.emissionBytes);
    // The decode of the GPU tensor maps what the decode of the CPU logits maps: its result, once.
    expect(r.gpuMaps).toEqual(r.cpuMaps);
    expect(r.gpuMaps.length).toBe(1);
    expect(r.paths).toEqual(r.cpuPaths);
    expect(r.paths).toEqual(r.refPaths);
    expect(r.wrappedPaths).toEqual(r.paths);
    expect(r.paths).toEqual(await oraclePaths(r.ids, r.mask, r.state));
    r.logZ.forEach((z, b) => expect(z).toBeCloseTo(r.refLogZ[b], 4));
    // The docs' snippet ran as written on ORT's device.
    expect(r.snippet.sameDevice).toBe(true);
    expect(r.snippet.paths.map((p) => p.length)).toEqual([3, 2]);
    expect(r.snippet.paths).toEqual(await oraclePaths(r.snippet.ids, r.snippet.mask, r.snippet.state));
  }, 300_000);
});
