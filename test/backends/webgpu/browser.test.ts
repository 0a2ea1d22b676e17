// The WebGPU kernels in headless Chromium (SwiftShader where there is no GPU): test/webgpu/page.html
// loads the built package with no bundler and runs test/webgpu/checks.js (random shapes, K = 1024,
// ±1e4 emissions, chunked batches, constraints, concurrent calls, device loss) against the js backend,
// every GPU call in a validation error scope. Skips only without Chromium or without an adapter.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumPath, pageResult, serveToChromium } from '../../../scripts/chromium.js';

interface Check {
  name: string;
  ok: boolean;
  detail?: string;
  error?: string;
  ms?: number;
}
interface PageResults {
  skipped?: string;
  adapter?: string;
  results?: Check[];
  fatal?: string;
}

const chromium = chromiumPath();
if (!chromium) console.warn('webgpu browser checks skipped: no Chromium (install chromium or set PUPPETEER_EXECUTABLE_PATH)');

describe.skipIf(!chromium)('webgpu kernels in headless Chromium', () => {
  let chrome: Awaited<ReturnType<typeof serveToChromium>>;
  beforeAll(async () => {
    chrome = await serveToChromium();
  });
  afterAll(async () => {
    await chrome?.close();
  });

  it('match the js backend (validation scopes, chunking, K = 1024, ±1e4, constraints, device loss)', async (t) => {
    const { result, problems } = await pageResult(chrome, '/test/webgpu/page.html', '__webgpu');
    const got = result as PageResults;
    expect(problems).toEqual([]);
    expect(got.fatal, got.fatal).toBeUndefined();
    if (got.skipped) {
      console.warn(`webgpu browser checks skipped: ${got.skipped}`);
      t.skip();
      return;
    }
    const failed = got.results!.filter((r) => !r.ok).map((r) => `${r.name}: ${r.error}`);
    expect(failed, failed.join('\n\n')).toEqual([]);
    expect(got.results!.length).toBeGreaterThanOrEqual(7);
    console.log(`webgpu on ${got.adapter}: ${got.results!.map((r) => `${r.name} (${r.detail}, ${r.ms} ms)`).join('; ')}`);
  }, 300_000);
});
