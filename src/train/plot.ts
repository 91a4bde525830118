// Loss curve as a standalone SVG: training loss (per logged step, lightly smoothed) and validation loss
// (per evaluation) in nats per character against the step, with axes, ticks, a legend and a marker at the
// best checkpoint (the lowest validation loss, what best/ holds). No dependencies; written into the run dir.

export interface LossPoint {
  step: number;
  loss: number;
}

function niceTicks(lo: number, hi: number, n: number): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-12; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/** Exponential moving average (bias-corrected) of train losses, for a readable curve. */
export function smooth(points: LossPoint[], beta = 0.9): LossPoint[] {
  let m = 0;
  return points.map((p, i) => {
    m = beta * m + (1 - beta) * p.loss;
    return { step: p.step, loss: m / (1 - beta ** (i + 1)) };
  });
}

/** The validation point best/ was saved at: the first one with the lowest loss (the trainer saves on a strict improvement). */
export function bestPoint(val: LossPoint[]): LossPoint | undefined {
  let best: LossPoint | undefined;
  for (const p of val) if (Number.isFinite(p.loss) && (best === undefined || p.loss < best.loss)) best = p;
  return best;
}

/**
 * Renders train (points [k]) and val (points [j]) losses as an SVG document.
 * Non-finite losses are skipped.
 */
export function lossCurveSvg(train: LossPoint[], val: LossPoint[], title = 'loss'): string {
  const W = 720, H = 400, L = 60, R = 20, T = 36, Bm = 44;
  const tr = smooth(train.filter((p) => Number.isFinite(p.loss)));
  const va = val.filter((p) => Number.isFinite(p.loss));
  const all = [...tr, ...va];
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${esc(title)}</text>`,
  ];
  if (all.length === 0) {
    parts.push(`<text x="${W / 2}" y="${H / 2}" text-anchor="middle">no data yet</text></svg>`);
    return parts.join('\n');
  }
  const x0 = Math.min(...all.map((p) => p.step)), x1 = Math.max(...all.map((p) => p.step), x0 + 1);
  let y0 = Math.min(...all.map((p) => p.loss)), y1 = Math.max(...all.map((p) => p.loss));
  if (y1 - y0 < 1e-6) { y0 -= 0.5; y1 += 0.5; }
  const px = (s: number) => L + ((s - x0) / (x1 - x0)) * (W - L - R);
  const py = (v: number) => T + (1 - (v - y0) / (y1 - y0)) * (H - T - Bm);
  parts.push(`<rect x="${L}" y="${T}" width="${W - L - R}" height="${H - T - Bm}" fill="none" stroke="#888"/>`);
  for (const v of niceTicks(y0, y1, 6)) {
    parts.push(`<line x1="${L}" x2="${W - R}" y1="${py(v).toFixed(1)}" y2="${py(v).toFixed(1)}" stroke="#eee"/>`);
    parts.push(`<text x="${L - 6}" y="${(py(v) + 4).toFixed(1)}" text-anchor="end">${v}</text>`);
  }
  for (const s of niceTicks(x0, x1, 8)) {
    parts.push(`<text x="${px(s).toFixed(1)}" y="${H - Bm + 16}" text-anchor="middle">${s}</text>`);
  }
  parts.push(`<text x="${(L + W - R) / 2}" y="${H - 8}" text-anchor="middle">step</text>`);
  const yMid = (T + H - Bm) / 2;
  parts.push(`<text x="14" y="${yMid}" text-anchor="middle" transform="rotate(-90 14 ${yMid})">loss (nats/char)</text>`);
  const path = (ps: LossPoint[]) => ps.map((p, i) => `${i ? 'L' : 'M'}${px(p.step).toFixed(1)},${py(p.loss).toFixed(1)}`).join(' ');
  if (tr.length) parts.push(`<path d="${path(tr)}" fill="none" stroke="#1f77b4" stroke-width="1.5"/>`);
  if (va.length) {
    parts.push(`<path d="${path(va)}" fill="none" stroke="#d62728" stroke-width="1.5"/>`);
    for (const p of va) parts.push(`<circle cx="${px(p.step).toFixed(1)}" cy="${py(p.loss).toFixed(1)}" r="2.5" fill="#d62728"/>`);
    const best = bestPoint(va)!;
    const bx = px(best.step).toFixed(1), by = py(best.loss).toFixed(1);
    parts.push(`<g class="best"><line x1="${bx}" x2="${bx}" y1="${T}" y2="${H - Bm}" stroke="#2ca02c" stroke-dasharray="4 3"/>` +
      `<circle cx="${bx}" cy="${by}" r="5" fill="none" stroke="#2ca02c" stroke-width="2"/>` +
      `<title>best checkpoint: step ${best.step}, validation loss ${best.loss.toFixed(4)}</title></g>`);
    parts.push(`<circle cx="${W - R - 175}" cy="${T + 46}" r="5" fill="none" stroke="#2ca02c" stroke-width="2"/><text x="${W - R - 160}" y="${T + 50}">best checkpoint: step ${best.step}, ${best.loss.toFixed(3)}</text>`);
  }
  parts.push(`<line x1="${W - R - 185}" x2="${W - R - 165}" y1="${T + 14}" y2="${T + 14}" stroke="#1f77b4" stroke-width="2"/><text x="${W - R - 160}" y="${T + 18}">train (smoothed)</text>`);
  parts.push(`<line x1="${W - R - 185}" x2="${W - R - 165}" y1="${T + 30}" y2="${T + 30}" stroke="#d62728" stroke-width="2"/><text x="${W - R - 160}" y="${T + 34}">validation</text>`);
  parts.push('</svg>');
  return parts.join('\n');
}
