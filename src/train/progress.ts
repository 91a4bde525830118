// Training progress display: step, train loss, last validation loss, chars/s and ETA. On a TTY one line
// redrawn in place with \r (at most ~10 times a second); otherwise plain lines every `everySeconds`, so logs
// and CI output stay readable. Other output (samples, warnings) goes through `print`, which clears the bar.

export interface ProgressFields {
  step: number;
  /** target step when known (for the bar) */
  totalSteps?: number;
  epoch: number;
  loss: number;
  valLoss?: number;
  charsPerSec: number;
  /** seconds left, when known */
  etaSeconds?: number;
  lr: number;
}

export function formatDuration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '?';
  s = Math.round(s);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export function formatRate(x: number): string {
  return x >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : x >= 1e4 ? `${(x / 1e3).toFixed(1)}k` : `${Math.round(x)}`;
}

/** One status line (no newline). */
export function formatProgress(f: ProgressFields, width = 20): string {
  let bar = '';
  if (f.totalSteps && f.totalSteps > 0) {
    const frac = Math.min(1, f.step / f.totalSteps);
    const full = Math.round(frac * width);
    bar = `[${'#'.repeat(full)}${'.'.repeat(width - full)}] `;
  }
  const steps = f.totalSteps ? `${f.step}/${f.totalSteps}` : `${f.step}`;
  const val = f.valLoss === undefined ? '-' : f.valLoss.toFixed(4);
  const eta = f.etaSeconds === undefined ? '' : ` | ETA ${formatDuration(f.etaSeconds)}`;
  return `${bar}step ${steps} | epoch ${f.epoch.toFixed(2)} | loss ${f.loss.toFixed(4)} | val ${val} | ${formatRate(f.charsPerSec)} chars/s | lr ${f.lr.toExponential(2)}${eta}`;
}

export class ProgressBar {
  private lastDraw = 0;
  private drawn = false;
  private readonly tty: boolean;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr, private readonly everySeconds = 10, private readonly enabled = true) {
    this.tty = !!stream.isTTY;
  }

  /** Draws the line if enough time has passed (or force). */
  update(f: ProgressFields, force = false): void {
    if (!this.enabled) return;
    const now = Date.now();
    const interval = this.tty ? 100 : this.everySeconds * 1000;
    if (!force && this.lastDraw !== 0 && now - this.lastDraw < interval) return;
    if (this.lastDraw === 0 && !force && !this.tty) { this.lastDraw = now; return; }
    this.lastDraw = now;
    const line = formatProgress(f);
    if (this.tty) {
      const cols = this.stream.columns || 120;
      this.stream.write(`\r${line.slice(0, cols - 1)}\x1b[K`);
      this.drawn = true;
    } else {
      this.stream.write(line + '\n');
    }
  }

  /** Prints text on its own lines (clearing the bar first on a TTY). */
  print(text: string): void {
    if (!this.enabled) return;
    this.clear();
    this.stream.write(text.endsWith('\n') ? text : text + '\n');
  }

  /** Ends the bar's line so later output starts clean. */
  clear(): void {
    if (this.tty && this.drawn) {
      this.stream.write('\r\x1b[K');
      this.drawn = false;
    }
  }

  done(f: ProgressFields): void {
    if (!this.enabled) return;
    if (this.tty) {
      this.update(f, true);
      this.stream.write('\n');
      this.drawn = false;
    } else this.update(f, true);
  }
}
