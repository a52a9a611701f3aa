// The upload progress bar on stderr. On a terminal one line redrawn in
// place (at most 10 times a second): bar, percent, bytes, rate, the file
// being sent. Elsewhere (a log, CI) a plain line at every 25%, so logs stay
// short. The clock and the stream are injectable.

export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(s: string): unknown;
}

function mib(n: number): string {
  return `${(n / (1 << 20)).toFixed(1)} MiB`;
}

export class UploadProgress {
  private done = 0;
  private file = '';
  private lastDraw = -Infinity;
  private lastQuarter = 0;
  private readonly t0: number;

  constructor(
    private readonly total: number,
    private readonly out: ProgressStream = process.stderr,
    private readonly now: () => number = Date.now,
  ) {
    this.t0 = now();
  }

  /** The file now being sent. */
  start(file: string): void {
    this.file = file;
    this.draw(false);
  }

  /** `n` more bytes acknowledged by the server. */
  add(n: number): void {
    this.done += n;
    this.draw(false);
  }

  /** The line as drawn now (pure but for the clock). */
  line(width = 80): string {
    const pct = this.total ? Math.min(100, Math.floor((this.done * 100) / this.total)) : 100;
    const secs = Math.max(0.001, (this.now() - this.t0) / 1000);
    const barWidth = 20;
    const fill = Math.round((pct / 100) * barWidth);
    const head = `crossguard: upload [${'#'.repeat(fill)}${'.'.repeat(barWidth - fill)}] ${String(pct).padStart(3)}% ${mib(this.done)}/${mib(this.total)} ${mib(this.done / secs)}/s`;
    const room = width - head.length - 2;
    const name = room <= 3 ? '' : this.file.length > room ? '…' + this.file.slice(-(room - 1)) : this.file;
    return (name ? `${head}  ${name}` : head).slice(0, width);
  }

  private draw(final: boolean): void {
    if (this.out.isTTY) {
      const t = this.now();
      if (!final && t - this.lastDraw < 100) return;
      this.lastDraw = t;
      this.out.write(`\r${this.line((this.out.columns ?? 80) - 1)}\x1b[K`);
      return;
    }
    const quarter = this.total ? Math.floor((this.done * 4) / this.total) : 4;
    if (final || quarter > this.lastQuarter) {
      this.lastQuarter = quarter;
      this.out.write(`${this.line(200)}\n`);
    }
  }

  /** On a terminal, wipes the drawn bar so another line can be printed; the next update draws it again. */
  clear(): void {
    if (!this.out.isTTY || this.lastDraw === -Infinity) return;
    this.out.write('\r\x1b[K');
    this.lastDraw = -Infinity;
  }

  /** Draws the last state and ends the line. */
  finish(): void {
    if (this.out.isTTY) {
      this.draw(true);
      this.out.write('\n');
      this.lastDraw = -Infinity;
    } else if (this.lastQuarter < 4) this.draw(true);
  }
}
