// The WebGPU kernels in headless Chromium (SwiftShader where there is no GPU): test/webgpu/page.html
// loads the built package with no bundler and runs test/webgpu/checks.js (random shapes, K = 1024,
// ±1e4 emissions, chunked batches, constraints, concurrent calls, device loss) against the js backend,
// every GPU call in a validation error scope. Skips only without Chromium or without an adapter.
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain JS helpers shared with the demo
import { chromiumPath, launchChromium } from '../scripts/chromium.js';
// @ts-expect-error plain JS helpers shared with the demo
import { serve } from '../scripts/serve.js';

interface Check { name: string; ok: boolean; detail?: string; error?: string; ms?: number }
interface PageResults { skipped?: string; adapter?: string; results?: Check[]; fatal?: string }

const root = fileURLToPath(new URL('..', import.meta.url));
const chromium = chromiumPath();
if (!chromium) console.warn('webgpu browser checks skipped: no Chromium (install chromium or set PUPPETEER_EXECUTABLE_PATH)');

describe.skipIf(!chromium)('webgpu kernels in headless Chromium', () => {
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

  it('match the js backend (validation scopes, chunking, K = 1024, ±1e4, constraints, device loss)', async (t) => {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e: Error) => problems.push(`pageerror: ${e.message}`));
    page.on('response', (r: { status(): number; url(): string }) => {
      if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
    });
    await page.goto(`${server.url}/test/webgpu/page.html`);
    await page.waitForFunction('window.__webgpu !== undefined', { timeout: 240_000, polling: 200 });
    const got = (await page.evaluate('window.__webgpu')) as PageResults;
    await page.close();
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
