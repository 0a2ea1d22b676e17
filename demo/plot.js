// Canvas drawing for the demo: a loss curve, the marginals heatmap with the Viterbi path, and a bar
// chart. Plain 2D canvas, sized for the device pixel ratio so lines stay sharp on high-DPI screens.

const INK = '#1f2937',
  MUTED = '#6b7280',
  GRID = '#e5e7eb';
export const FONT = '12px system-ui, -apple-system, "Segoe UI", sans-serif';

/**
 * Resizes the backing store to CSS size × devicePixelRatio and returns a context in CSS pixels.
 * @param {HTMLCanvasElement} canvas @param {number} cssHeight
 */
export function setup(canvas, cssHeight) {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || /** @type {HTMLElement} */ (canvas.parentElement).clientWidth;
  canvas.style.height = `${cssHeight}px`;
  canvas.width = Math.round(w * dpr);
  canvas.height = Math.round(cssHeight * dpr);
  const ctx = /** @type {CanvasRenderingContext2D} */ (canvas.getContext('2d'));
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, cssHeight);
  ctx.font = FONT;
  return { ctx, w, h: cssHeight };
}

/** @param {number} v @returns {number} */
function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  // 10·p ≥ v: one always is.
  return /** @type {number} */ ([1, 2, 2.5, 5, 10].map((m) => m * p).find((x) => x >= v));
}

/** @typedef {{ text: string, x: number, y: number, w: number, h: number }} TextBox */

/**
 * Draws `text` with the context's current alignment, upright or turned a quarter anticlockwise about
 * (x, y), and returns the box it covers in CSS pixels (from the font's measured ink).
 * @param {CanvasRenderingContext2D} ctx @param {string} text @param {number} x @param {number} y
 * @returns {TextBox}
 */
function text(ctx, text, x, y, vertical = false) {
  const m = ctx.measureText(text);
  const [l, r, a, d] = [m.actualBoundingBoxLeft, m.actualBoundingBoxRight, m.actualBoundingBoxAscent, m.actualBoundingBoxDescent];
  if (!vertical) {
    ctx.fillText(text, x, y);
    return { text, x: x - l, y: y - a, w: l + r, h: a + d };
  }
  ctx.save();
  ctx.translate(x, y);
  ctx.rotate(-Math.PI / 2);
  ctx.fillText(text, 0, 0);
  ctx.restore();
  // A quarter turn anticlockwise takes the glyphs' (u, v) to (x + v, y − u).
  return { text, x: x - a, y: y - r, w: a + d, h: l + r };
}

/**
 * The loss per epoch so far, on axes fixed to `epochs` so the curve grows left to right. Returns the
 * boxes of the texts drawn (tick labels and axis title).
 * @param {HTMLCanvasElement} canvas @param {number[]} losses @param {number} epochs
 * @returns {TextBox[]}
 */
export function drawLoss(canvas, losses, epochs) {
  const { ctx, w, h } = setup(canvas, 200);
  const top = niceMax(Math.max(...losses, 0.1));
  const ticks = [0, 1, 2, 3, 4].map((i) => (top * (1 - i / 4)).toFixed(2));
  // The left margin holds the axis title (a line of text turned upright) and the widest tick label.
  const title = 'nats / token',
    titleX = 16,
    gap = 8;
  const L = titleX + 8 + gap + Math.max(...ticks.map((t) => ctx.measureText(t).width)) + 6,
    R = 12,
    T = 12,
    Bm = 28;
  /** @type {TextBox[]} */
  const boxes = [];
  ctx.strokeStyle = GRID;
  ctx.fillStyle = MUTED;
  ctx.lineWidth = 1;
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  ticks.forEach((t, i) => {
    const y = T + ((h - T - Bm) * i) / 4;
    ctx.beginPath();
    ctx.moveTo(L, y);
    ctx.lineTo(w - R, y);
    ctx.stroke();
    boxes.push(text(ctx, t, L - 6, y));
  });
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  for (let i = 0; i <= 4; i++) boxes.push(text(ctx, String(Math.round((epochs * i) / 4)), L + ((w - L - R) * i) / 4, h - Bm + 6));
  ctx.textBaseline = 'middle';
  boxes.push(text(ctx, title, titleX, T + (h - T - Bm) / 2, true));
  if (losses.length === 0) return boxes;
  ctx.strokeStyle = '#2563eb';
  ctx.lineWidth = 2;
  ctx.beginPath();
  losses.forEach((v, i) => {
    const x = L + ((w - L - R) * (i + 1)) / epochs,
      y = T + (h - T - Bm) * (1 - v / top);
    if (i === 0) ctx.moveTo(x, y);
    else ctx.lineTo(x, y);
  });
  ctx.stroke();
  return boxes;
}

/** White → deep blue. @param {number} p */
function heat(p) {
  const a = [247, 251, 255],
    b = [8, 48, 107];
  return `rgb(${a.map((v, i) => Math.round(v + (b[i] - v) * p)).join(',')})`;
}

/**
 * Tags × time heatmap of p(y_t = j) with a path drawn over it; tags fixed by the user (`fixed`: time →
 * tag) are outlined. Returns `cellAt(x, y)`: the (t, j) under a point in CSS pixels, or null.
 * @param {HTMLCanvasElement} canvas
 * @param {{ words: string[], labels: string[], marg: ArrayLike<number>, path: number[], fixed?: Map<number, number> }} lattice
 *   `marg`: Float32Array [T * K] of one sentence's marginals.
 */
export function drawLattice(canvas, { words, labels, marg, path, fixed = new Map() }) {
  const T = words.length,
    K = labels.length;
  const L = 64,
    R = 70,
    Tm = 8,
    Bm = 58,
    cell = 34;
  const { ctx, w } = setup(canvas, Tm + K * cell + Bm);
  const cw = Math.min(76, (w - L - R) / T);
  const x0 = L,
    y0 = Tm;
  for (let t = 0; t < T; t++) {
    for (let j = 0; j < K; j++) {
      ctx.fillStyle = heat(marg[t * K + j]);
      ctx.fillRect(x0 + t * cw, y0 + j * cell, cw - 1, cell - 1);
    }
  }
  ctx.strokeStyle = '#16a34a';
  ctx.lineWidth = 3;
  for (const [t, j] of fixed) ctx.strokeRect(x0 + t * cw + 1.5, y0 + j * cell + 1.5, cw - 4, cell - 4);
  ctx.fillStyle = INK;
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  labels.forEach((l, j) => ctx.fillText(l, x0 - 8, y0 + j * cell + cell / 2));
  ctx.save();
  ctx.textAlign = 'right';
  words.forEach((wd, t) => {
    ctx.save();
    ctx.translate(x0 + t * cw + cw / 2, y0 + K * cell + 6);
    ctx.rotate(-Math.PI / 4);
    ctx.fillText(wd, 0, 0);
    ctx.restore();
  });
  ctx.restore();
  /** @type {(t: number) => [number, number]} */
  const pt = (t) => [x0 + t * cw + cw / 2, y0 + path[t] * cell + cell / 2];
  for (const [width, colour] of /** @type {[number, string][]} */ ([
    [6, 'rgba(255,255,255,0.9)'],
    [2.5, '#f97316'],
  ])) {
    ctx.strokeStyle = colour;
    ctx.lineWidth = width;
    ctx.lineJoin = 'round';
    ctx.beginPath();
    path.forEach((_, t) => (t ? ctx.lineTo(...pt(t)) : ctx.moveTo(...pt(t))));
    ctx.stroke();
  }
  ctx.fillStyle = '#f97316';
  path.forEach((_, t) => {
    ctx.beginPath();
    ctx.arc(...pt(t), 4.5, 0, 2 * Math.PI);
    ctx.fill();
  });
  // colour scale
  const sx = x0 + T * cw + 16,
    sh = K * cell;
  for (let i = 0; i < sh; i++) {
    ctx.fillStyle = heat(1 - i / sh);
    ctx.fillRect(sx, y0 + i, 12, 1);
  }
  ctx.fillStyle = MUTED;
  ctx.textAlign = 'left';
  ctx.fillText('1', sx + 16, y0 + 4);
  ctx.fillText('0', sx + 16, y0 + sh - 4);
  return {
    /** @param {number} x @param {number} y */
    cellAt(x, y) {
      const t = Math.floor((x - x0) / cw),
        j = Math.floor((y - y0) / cell);
      return t >= 0 && t < T && j >= 0 && j < K ? { t, j } : null;
    },
  };
}

/**
 * Grouped bars on a log scale (throughputs differ by orders of magnitude between backends).
 * @param {HTMLCanvasElement} canvas
 * @param {{ label: string, bars: { series: string, value: number }[] }[]} groups
 * @param {Record<string, string>} colours series → colour. @param {string} unit
 * @param {Record<string, string>} [names] series → legend text, where it is not the series' own name
 */
export function drawBars(canvas, groups, colours, unit, names = {}) {
  const { ctx, w, h } = setup(canvas, 260);
  const L = 60,
    R = 12,
    T = 24,
    Bm = 46;
  const vals = groups.flatMap((g) => g.bars.map((b) => b.value)).filter((v) => v > 0);
  if (vals.length === 0) return;
  const lo = Math.floor(Math.log10(Math.min(...vals))) - 0.3,
    hi = Math.ceil(Math.log10(Math.max(...vals)));
  const y = (/** @type {number} */ v) => T + (h - T - Bm) * (1 - (Math.log10(v) - lo) / (hi - lo));
  ctx.strokeStyle = GRID;
  ctx.fillStyle = MUTED;
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  for (let e = Math.ceil(lo); e <= hi; e++) {
    ctx.beginPath();
    ctx.moveTo(L, y(10 ** e));
    ctx.lineTo(w - R, y(10 ** e));
    ctx.stroke();
    ctx.fillText(e >= 6 ? `${10 ** (e - 6)}M` : e >= 3 ? `${10 ** (e - 3)}k` : String(10 ** e), L - 6, y(10 ** e));
  }
  ctx.textAlign = 'left';
  ctx.textBaseline = 'top';
  ctx.fillText(unit, 4, 4);
  const gw = (w - L - R) / groups.length;
  groups.forEach((g, gi) => {
    const n = g.bars.length,
      bw = Math.min(28, (gw * 0.8) / Math.max(n, 1));
    const gx = L + gi * gw + (gw - bw * n) / 2;
    g.bars.forEach((b, bi) => {
      if (!(b.value > 0)) return;
      ctx.fillStyle = colours[b.series];
      ctx.fillRect(gx + bi * bw, y(b.value), bw - 2, h - Bm - y(b.value));
    });
    ctx.fillStyle = INK;
    ctx.textAlign = 'center';
    g.label.split('\n').forEach((line, i) => ctx.fillText(line, L + gi * gw + gw / 2, h - Bm + 6 + i * 15));
  });
  let lx = w - R;
  ctx.textBaseline = 'middle';
  ctx.textAlign = 'right';
  for (const s of Object.keys(colours).reverse()) {
    if (!groups.some((g) => g.bars.some((b) => b.series === s))) continue;
    const name = names[s] ?? s;
    ctx.fillStyle = INK;
    ctx.fillText(name, lx, 10);
    lx -= ctx.measureText(name).width + 6;
    ctx.fillStyle = colours[s];
    ctx.fillRect(lx - 10, 5, 10, 10);
    lx -= 22;
  }
}
