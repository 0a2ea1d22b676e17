// The demo page in headless Chromium, loaded from the built package as a user loads it (and tfjs from
// node_modules/): it must train its tfjs tagger under webcrf/tfjs's CRF, decode, draw the lattice and
// run the (quick) benchmark without a single page error. A screenshot goes to test/artifacts/demo.png
// for a person to look at.
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumPath, serveToChromium, watchPage } from '../../scripts/chromium.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const LABELS = ['O', 'B-PER', 'I-PER', 'B-LOC', 'I-LOC'];
const haveChromium = chromiumPath() !== null;
if (!haveChromium) console.warn("demo test skipped: no Chromium (install Debian's chromium or set PUPPETEER_EXECUTABLE_PATH)");

describe.skipIf(!haveChromium)('demo page', () => {
  let chrome: Awaited<ReturnType<typeof serveToChromium>>;
  let page: import('puppeteer-core').Page;
  let problems: string[] = [];

  beforeAll(async () => {
    if (!existsSync(join(root, 'dist/index.js'))) throw new Error('dist/index.js is missing: run npm run build (npm test does)');
    chrome = await serveToChromium();
    page = await chrome.browser.newPage();
    await page.setViewport({ width: 1280, height: 900 });
    problems = watchPage(page, { consoleErrors: true });
    await page.goto(`${chrome.url}/demo/?quick=1`);
    await page.waitForFunction(() => ['trained', 'error'].includes(document.body.dataset.state ?? ''), { timeout: 60_000 });
  });

  /** An expression over `tf`, the page's own tfjs module (the import map names one URL for it). A string:
   * the test's transform would rewrite a dynamic import in a function handed to the page. */
  const pageTf = (expr: string) => page.evaluate(`import('@tensorflow/tfjs').then((tf) => ${expr})`);

  afterAll(async () => {
    await chrome?.close();
  });

  it('trains, and the CRF beats the tagger it sits on', async () => {
    const d = await page.evaluate((): Record<string, string | undefined> => ({
      ...document.body.dataset,
      error: document.getElementById('error')!.textContent,
    }));
    expect(d.error).toBe('');
    expect(d.state).toBe('trained');
    // The held-out set has names the tagger never saw; only the transitions can place them.
    expect(Number(d.accuracy)).toBeGreaterThan(0.9);
    expect(Number(d.f1)).toBeGreaterThan(0.8);
    expect(Number(d.accuracy)).toBeGreaterThanOrEqual(Number(d.taggerAccuracy));
    const status = await page.$eval('#train-status', (e) => e.textContent);
    expect(status).toMatch(/epoch (\d+) \/ \1 · /);
  });

  it('trains the tfjs tagger on tfjs cpu, says so, and its loss falls', async () => {
    const got = await page.evaluate(() => ({
      losses: JSON.parse(document.body.dataset.losses!) as number[],
      tfjs: document.getElementById('tfjs-info')!.textContent,
      status: document.getElementById('train-status')!.textContent!,
    }));
    expect(got.tfjs).toBe('tfjs cpu');
    expect(got.status).toContain('tfjs Adam');
    expect(await pageTf('tf.getBackend()')).toBe('cpu');
    // A uniform tagger and CRF start near log K nats per token; a trained one far below it.
    expect(got.losses[0]).toBeGreaterThan(0.5 * Math.log(LABELS.length));
    expect(got.losses.every(Number.isFinite)).toBe(true);
    expect(Math.max(...got.losses.slice(-5))).toBeLessThan(got.losses[0] / 10);
  });

  it('leaks no tensor: tfjs holds as many after every step, and as many again after the decodes and the lattice', async () => {
    const got = {
      perStep: JSON.parse(await page.evaluate(() => document.body.dataset.tensors!)) as number[],
      now: await pageTf('tf.memory().numTensors'),
    };
    expect(got.perStep.length).toBeGreaterThan(5);
    expect(new Set(got.perStep)).toEqual(new Set([got.perStep[0]]));
    expect(got.now).toBe(got.perStep[0]);
  });

  it('names the backends it found and the one auto chose', async () => {
    const env = await page.evaluate(() => ({
      gpu: document.getElementById('gpu-info')!.textContent,
      simd: document.getElementById('simd-info')!.textContent,
      auto: document.getElementById('auto-info')!.textContent,
      backends: [...document.querySelectorAll('#backends li')].map((li) => li.textContent),
    }));
    expect(env.gpu).not.toMatch(/checking/);
    expect(env.simd).toMatch(/^(supported|not supported)$/);
    expect(env.auto).toMatch(/^(webgpu|wasm|js) \(for K = 5\)$/);
    expect(env.backends).toHaveLength(3);
    expect(env.backends).toContain('js: available');
  });

  it('marks a software WebGPU adapter as such, by the adapter the browser reports', async () => {
    const got = await page.evaluate(async () => {
      const a = await navigator.gpu?.requestAdapter();
      return {
        info: a ? `${a.info.architecture} ${a.info.description} ${a.info.device}` : '',
        mark: document.querySelector('#gpu-info .software')?.textContent ?? null,
      };
    });
    if (/swiftshader|llvmpipe|lavapipe|warp/i.test(got.info)) expect(got.mark).toBe('software adapter: CPU emulation, not a GPU');
    else expect(got.mark).toBeNull();
  });

  it('draws the loss plot with no text box over another and all inside the canvas', async () => {
    const got = await page.$eval('#loss', (c) => ({
      boxes: JSON.parse((c as HTMLCanvasElement).dataset.textBoxes!) as { text: string; x: number; y: number; w: number; h: number }[],
      w: c.clientWidth,
      h: c.clientHeight,
    }));
    // 5 y ticks, 5 x ticks, the axis title.
    expect(got.boxes).toHaveLength(11);
    expect(got.boxes.map((b) => b.text)).toContain('nats / token');
    for (const b of got.boxes) {
      expect(b.w * b.h, b.text).toBeGreaterThan(0);
      expect(b.x >= 0 && b.y >= 0 && b.x + b.w <= got.w && b.y + b.h <= got.h, JSON.stringify(b)).toBe(true);
    }
    const overlaps = got.boxes.flatMap((a, i) =>
      got.boxes
        .slice(i + 1)
        .filter((b) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h)
        .map((b) => `${a.text} / ${b.text}`),
    );
    expect(overlaps).toEqual([]);
  });

  it('sets tag chips in a face where the tag O is wider than the digit 0, and names each tag on hover', async () => {
    const got = await page.$$eval('#decoded .tag', (tags) => {
      const ctx = document.createElement('canvas').getContext('2d')!;
      const o = tags.find((t) => t.textContent === 'O')!;
      const cs = getComputedStyle(o);
      ctx.font = `${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;
      return {
        ratio: ctx.measureText('O').width / ctx.measureText('0').width,
        titles: [...new Set(tags.map((t) => `${t.textContent}|${(t as HTMLElement).title}`))],
      };
    });
    // Equal widths would mean a monospace face, where O and 0 differ only by a slash or a dot at 11 px.
    expect(got.ratio).toBeGreaterThan(1.1);
    for (const t of got.titles) {
      const [label, title] = t.split('|');
      expect(title.startsWith(`${label}: `), t).toBe(true);
    }
  });

  it('shows a short benchmark card before the benchmark runs, with a placeholder instead of an empty chart', async () => {
    const got = await page.evaluate(() => ({
      card: document.getElementById('bench-section')!.getBoundingClientRect().height,
      chart: document.getElementById('bench-chart')!.getBoundingClientRect().height,
      placeholder: document.getElementById('bench-placeholder')!.textContent,
    }));
    expect(got.chart).toBe(0);
    expect(got.card).toBeLessThan(250);
    expect(got.placeholder).toMatch(/^Not run yet/);
  });

  it("shows held-out sentences with the gold, the tagger's and the CRF's tag per token", async () => {
    const rows = await page.$$eval('#decoded .sentence', (ss) =>
      ss.map((s) =>
        [...s.querySelectorAll('.tok:not(.legend)')].map((t) => ({
          word: t.querySelector('.word')!.textContent,
          tags: [...t.querySelectorAll('.tag')].map((x) => x.textContent),
        })),
      ),
    );
    expect(rows.length).toBe(8);
    for (const row of rows) {
      expect(row.length).toBeGreaterThanOrEqual(5);
      for (const tok of row) {
        expect(tok.word).toMatch(/\S/);
        expect(tok.tags).toHaveLength(3);
        for (const t of tok.tags) expect(LABELS).toContain(t);
      }
    }
  });

  it('draws the marginals heatmap with the Viterbi path, and lists the top-5 paths best first', async () => {
    const px = await page.$eval('#heatmap', (c) => {
      const canvas = c as HTMLCanvasElement;
      const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
      let inked = 0,
        path = 0,
        dark = 0;
      for (let i = 0; i < data.length; i += 4) {
        const [r, g, b, a] = [data[i], data[i + 1], data[i + 2], data[i + 3]];
        if (a > 0 && !(r > 245 && g > 245 && b > 245)) inked++;
        if (a > 200 && Math.abs(r - 249) < 12 && Math.abs(g - 115) < 20 && Math.abs(b - 22) < 20) path++; // #f97316
        if (a > 200 && r < 40 && g < 80 && b > 80) dark++; // high-probability cells
      }
      return { inked, path, dark, total: data.length / 4 };
    });
    expect(px.inked / px.total).toBeGreaterThan(0.05);
    expect(px.path).toBeGreaterThan(100);
    expect(px.dark).toBeGreaterThan(100);

    const top = await page.$$eval('#topk li', (lis) =>
      lis.map((li) => ({
        tags: [...li.querySelectorAll('.tag')].map((t) => t.textContent),
        text: li.querySelector('.num')!.textContent!,
      })),
    );
    expect(top).toHaveLength(5);
    const scores = top.map((t) => Number(/score (-?[\d.]+)/.exec(t.text)![1]));
    const probs = top.map((t) => Number(/p ([\d.]+)/.exec(t.text)![1]));
    for (let i = 1; i < 5; i++) expect(scores[i]).toBeLessThanOrEqual(scores[i - 1]);
    for (const p of probs) expect(p).toBeGreaterThan(0);
    expect(probs.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(1.0001);
    const lengths = new Set(top.map((t) => t.tags.length));
    expect(lengths.size).toBe(1);
    for (const t of top) for (const tag of t.tags) expect(LABELS).toContain(tag);
    expect(new Set(top.map((t) => t.tags.join(' '))).size).toBe(5);
  });

  it('fixes a clicked tag: the Viterbi path and the top 5 re-decode through it, and clicking again frees it', async () => {
    const box = (await page.$('#heatmap'))!;
    // The first token's column, the last tag's row (I-LOC): geometry of demo/plot.js (left margin 64,
    // top 8, rows of 34 px). ElementHandle.click scrolls it into view first.
    const K = LABELS.length;
    await box.click({ offset: { x: 64 + 4, y: 8 + (K - 1) * 34 + 17 } });
    await page.waitForFunction(() => document.body.dataset.lattice === '1', { timeout: 60_000 });
    const fixed = await page.$eval('#lattice-fixed', (e) => e.textContent!);
    expect(fixed).toMatch(/^fixed: \S+ = I-LOC · p\(fixed tags\) = [\d.]+$/);
    const top = await page.$$eval('#topk li', (lis) => lis.map((li) => [...li.querySelectorAll('.tag')].map((t) => t.textContent)));
    expect(top.length).toBeGreaterThan(0);
    for (const tags of top) expect(tags[0]).toBe('I-LOC');
    await page.click('#lattice-clear');
    await page.waitForFunction(() => document.body.dataset.lattice === '0', { timeout: 60_000 });
    expect(await page.$eval('#lattice-fixed', (e) => e.textContent!)).toMatch(/^no tag fixed/);
  });

  it('runs the benchmark on every available backend and reports finite, positive tokens/s', async () => {
    await page.click('#bench-run');
    await page.waitForFunction(() => ['done', 'error'].includes(document.body.dataset.bench ?? ''), { timeout: 25_000 });
    const bench = await page.evaluate(() => ({
      state: document.body.dataset.bench,
      rows: [...document.querySelectorAll('#bench-table tbody tr')].map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent!)),
      available: [...document.querySelectorAll('#backends li.ok')].map((li) => li.textContent!.split(':')[0]),
      software: document.querySelector('#gpu-info .software') !== null,
      softwareNote: !document.getElementById('bench-software')!.hidden,
      placeholder: !document.getElementById('bench-placeholder')!.hidden,
    }));
    expect(bench.rows.filter((r) => r.length !== 7)).toEqual([]);
    expect(bench.state).toBe('done');
    // quick sizes: 2 sizes × 2 ops per available backend
    expect(bench.rows).toHaveLength(bench.available.length * 4);
    expect(new Set(bench.rows.map((r) => r[4].split(' ')[0]))).toEqual(new Set(bench.available));
    // webgpu figures from a software adapter say so, in the table and above the chart.
    const gpuRows = bench.rows.filter((r) => r[4].startsWith('webgpu')).map((r) => r[4]);
    for (const name of gpuRows) expect(name).toBe(bench.software ? 'webgpu (software)' : 'webgpu');
    expect(bench.softwareNote).toBe(bench.software && gpuRows.length > 0);
    expect(bench.placeholder).toBe(false);
    for (const [op, , , , , ms, tps] of bench.rows) {
      expect(['decode', 'forward']).toContain(op);
      const perSec = Number(tps.replace(/,/g, ''));
      expect(Number.isFinite(perSec) && perSec > 0).toBe(true);
      expect(Number(ms)).toBeGreaterThan(0);
    }
    const inked = await page.$eval('#bench-chart', (c) => {
      const canvas = c as HTMLCanvasElement;
      const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
      let n = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++;
      return n;
    });
    expect(inked).toBeGreaterThan(1000);
  });

  it('holds no more tensors after the lattice was re-decoded and the benchmark ran', async () => {
    const got = {
      perStep: JSON.parse(await page.evaluate(() => document.body.dataset.tensors!)) as number[],
      now: await pageTf('tf.memory().numTensors'),
    };
    expect(got.now).toBe(got.perStep[0]);
  });

  it('raised no page errors, console errors or failed requests; saves a screenshot', async () => {
    mkdirSync(join(root, 'test/artifacts'), { recursive: true });
    await page.screenshot({ path: join(root, 'test/artifacts/demo.png') as `${string}.png`, fullPage: true });
    expect(problems).toEqual([]);
  });
});
