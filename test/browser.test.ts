// Headless Chromium: test/browser/index.html loads the built package (/dist/index.js, no bundler, the
// .wasm fetched beside it) and runs every shared oracle suite on every backend the page has. Fails, not
// skips, when Chromium is present and anything in the page fails; skips only where there is no Chromium.
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain JS helpers shared with the demo
import { chromiumPath, launchChromium } from '../scripts/chromium.js';
// @ts-expect-error plain JS helpers shared with the demo
import { serve } from '../scripts/serve.js';

interface Result { backend: string; suite: string; ok: boolean; error?: string; ms?: number }
interface PageResults { results?: Result[]; skipped?: string[]; info?: { auto: string }; fatal?: string }

const root = fileURLToPath(new URL('..', import.meta.url));
const chromium = chromiumPath();
if (!chromium) console.warn('browser test skipped: no Chromium (install chromium or set PUPPETEER_EXECUTABLE_PATH)');

describe.skipIf(!chromium)('headless Chromium', () => {
  let server: { url: string; close(): Promise<void> };
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  beforeAll(async () => {
    server = await serve(root, 0);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.cleanup();
    await server?.close();
  });

  it('runs every oracle suite on js, wasm (SIMD and scalar) and webgpu where there is an adapter', async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e: Error) => problems.push(`pageerror: ${e.message}`));
    page.on('requestfailed', (r: { url(): string }) => problems.push(`request failed: ${r.url()}`));
    page.on('response', (r: { status(): number; url(): string }) => {
      if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
    });
    await page.goto(`${server.url}/test/browser/index.html`);
    await page.waitForFunction('window.__results !== undefined', { timeout: 240_000, polling: 200 });
    const got = (await page.evaluate('window.__results')) as PageResults;
    await page.close();
    expect(got.fatal, got.fatal).toBeUndefined();
    expect(problems).toEqual([]);
    const failed = got.results!.filter((r) => !r.ok).map((r) => `${r.backend} ${r.suite}: ${r.error}`);
    expect(failed, failed.join('\n\n')).toEqual([]);
    console.log(`browser: ${got.results!.length} suite runs passed (${[...new Set(got.results!.map((r) => r.backend))].join(', ')})${got.skipped!.length ? `; skipped ${got.skipped!.join('; ')}` : ''}`);
    // js and both wasm builds ran every suite; 'auto' found compiled kernels (not the js fallback).
    for (const b of ['js', 'wasm', 'wasm-scalar']) {
      expect(got.results!.filter((r) => r.backend === b && r.ok).length, b).toBeGreaterThanOrEqual(5);
    }
    expect(['wasm', 'webgpu']).toContain(got.info!.auto);
  }, 300_000);
});
