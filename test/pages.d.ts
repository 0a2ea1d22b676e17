// What the pages' scripts publish on window for puppeteer (scripts/chromium.js's pageResult waits for
// it): test/browser/run.js, test/webgpu/page.js, bench/webgpu-page.js.
interface Window {
  __results?: unknown;
  __webgpu?: unknown;
  __ort?: unknown;
  __tfjs?: unknown;
  __bench?: unknown;
}
