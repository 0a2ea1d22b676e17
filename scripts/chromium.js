// Headless Chromium for the browser tests and the demo check: Debian's build (puppeteer's own download
// is not used), WebGPU enabled (SwiftShader where there is no GPU), no background network traffic.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from './serve.js';

export function chromiumPath() {
  const p = process.env.PUPPETEER_EXECUTABLE_PATH || '/usr/bin/chromium';
  return existsSync(p) ? p : null;
}

/** @returns {Promise<import('puppeteer-core').Browser & { cleanup(): Promise<void> }>} */
export async function launchChromium() {
  const executablePath = chromiumPath();
  if (!executablePath) throw new Error("no Chromium: install Debian's chromium or set PUPPETEER_EXECUTABLE_PATH");
  const { default: puppeteer } = await import('puppeteer-core');
  const userDataDir = mkdtempSync(join(tmpdir(), 'webcrf-chrome-'));
  // cleanup is set just below.
  const browser = /** @type {import('puppeteer-core').Browser & { cleanup(): Promise<void> }} */ (
    await puppeteer.launch({
      executablePath,
      headless: true,
      userDataDir,
      args: [
        '--no-sandbox',
        '--enable-unsafe-webgpu',
        '--enable-features=Vulkan',
        '--use-angle=swiftshader',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-dev-shm-usage',
      ],
    })
  );
  browser.cleanup = async () => {
    await browser.close();
    rmSync(userDataDir, { recursive: true, force: true });
  };
  return browser;
}

/**
 * The repository root served on 127.0.0.1 (scripts/serve.js) and a headless Chromium to load its pages:
 * what the browser tests and the Chromium bench start from. `close()` ends both.
 * @returns {Promise<{ url: string, browser: Awaited<ReturnType<typeof launchChromium>>, close(): Promise<void> }>}
 */
export async function serveToChromium() {
  const server = await serve(fileURLToPath(new URL('..', import.meta.url)), 0);
  let browser;
  try {
    browser = await launchChromium();
  } catch (e) {
    await server.close();
    throw e;
  }
  return {
    url: server.url,
    browser,
    close: async () => {
      await browser.cleanup();
      await server.close();
    },
  };
}

/**
 * Collects what goes wrong on a page as lines: uncaught errors, failed requests, HTTP errors, and with
 * `consoleErrors` also console.error calls. A test expects the list to stay empty.
 * @param {import('puppeteer-core').Page} page
 * @param {{ consoleErrors?: boolean }} [opts]
 * @returns {string[]}
 */
export function watchPage(page, { consoleErrors = false } = {}) {
  /** @type {string[]} */
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${/** @type {{ message?: string } | undefined} */ (e)?.message ?? e}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`.trimEnd()));
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  if (consoleErrors)
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console.error: ${m.text()}`);
    });
  return problems;
}

/**
 * Loads `path` of the served repository in a new page, waits until the page's script sets
 * `window[name]`, closes the page, and returns that value with the page's problems (watchPage).
 * @param {{ url: string, browser: import('puppeteer-core').Browser }} chrome what serveToChromium gave
 * @param {string} path
 * @param {string} name
 * @param {{ timeout?: number, polling?: number }} [opts]
 * @returns {Promise<{ result: any, problems: string[] }>}
 */
export async function pageResult(chrome, path, name, { timeout = 240_000, polling = 200 } = {}) {
  const page = await chrome.browser.newPage();
  const problems = watchPage(page);
  await page.goto(`${chrome.url}${path}`);
  await page.waitForFunction(`window.${name} !== undefined`, { timeout, polling });
  const result = await page.evaluate(`window.${name}`);
  await page.close();
  return { result, problems };
}
