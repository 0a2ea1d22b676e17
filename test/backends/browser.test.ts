// Headless Chromium: test/browser/index.html loads the built package (/dist/index.js, no bundler, the
// .wasm fetched beside it) and runs every shared oracle suite on every backend the page has. Fails, not
// skips, when Chromium is present and anything in the page fails; skips only where there is no Chromium.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumPath, pageResult, serveToChromium } from '../../scripts/chromium.js';

interface Result {
  backend: string;
  suite: string;
  ok: boolean;
  error?: string;
  ms?: number;
}
interface PageResults {
  results?: Result[];
  skipped?: string[];
  info?: { auto: string; threads: { same: boolean; reason: string; split: boolean } };
  fatal?: string;
}

const chromium = chromiumPath();
if (!chromium) console.warn('browser test skipped: no Chromium (install chromium or set PUPPETEER_EXECUTABLE_PATH)');

describe.skipIf(!chromium)('headless Chromium', () => {
  let chrome: Awaited<ReturnType<typeof serveToChromium>>;
  beforeAll(async () => {
    chrome = await serveToChromium();
  });
  afterAll(async () => {
    await chrome?.close();
  });

  it('runs every oracle suite on js, wasm (SIMD and scalar) and webgpu where there is an adapter', async () => {
    const { result, problems } = await pageResult(chrome, '/test/browser/index.html', '__results');
    const got = result as PageResults;
    expect(got.fatal, got.fatal).toBeUndefined();
    expect(problems).toEqual([]);
    const failed = got.results!.filter((r) => !r.ok).map((r) => `${r.backend} ${r.suite}: ${r.error}`);
    expect(failed, failed.join('\n\n')).toEqual([]);
    console.log(
      `browser: ${got.results!.length} suite runs passed (${[...new Set(got.results!.map((r) => r.backend))].join(', ')})${got.skipped!.length ? `; skipped ${got.skipped!.join('; ')}` : ''}`,
    );
    // js and both wasm builds ran every suite; 'auto' found compiled kernels (not the js fallback).
    for (const b of ['js', 'wasm', 'wasm-scalar']) {
      expect(got.results!.filter((r) => r.backend === b && r.ok).length, b).toBeGreaterThanOrEqual(5);
    }
    expect(['wasm', 'webgpu']).toContain(got.info!.auto);
    // threads: 2 started a Web Worker and gave the bits of one thread.
    expect(got.info!.threads.reason).toMatch(/on 2 threads/);
    expect(got.info!.threads.same).toBe(true);
    expect(got.info!.threads.split).toBe(true);
  }, 300_000);
});
