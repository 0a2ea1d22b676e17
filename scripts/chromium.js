// Headless Chromium for the browser tests and the demo check: Debian's build (puppeteer's own download
// is not used), WebGPU enabled (SwiftShader where there is no GPU), no background network traffic.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function chromiumPath() {
  const p = process.env.PUPPETEER_EXECUTABLE_PATH || '/usr/bin/chromium';
  return existsSync(p) ? p : null;
}

/** @returns {Promise<import('puppeteer-core').Browser & { cleanup(): Promise<void> }>} */
export async function launchChromium() {
  const executablePath = chromiumPath();
  if (!executablePath) throw new Error('no Chromium: install Debian\'s chromium or set PUPPETEER_EXECUTABLE_PATH');
  const { default: puppeteer } = await import('puppeteer-core');
  const userDataDir = mkdtempSync(join(tmpdir(), 'webcrf-chrome-'));
  const browser = await puppeteer.launch({
    executablePath,
    headless: true,
    userDataDir,
    args: ['--no-sandbox', '--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-angle=swiftshader',
      '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
      '--disable-dev-shm-usage'],
  });
  browser.cleanup = async () => {
    await browser.close();
    rmSync(userDataDir, { recursive: true, force: true });
  };
  return browser;
}
