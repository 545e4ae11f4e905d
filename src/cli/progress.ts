/** @module cli/progress — a progress bar on stderr, redrawn at most a few times a second. */

const REDRAW_MS = 200
const BAR_WIDTH = 30

export class ProgressBar {
  private last = 0
  private readonly started = Date.now()

  constructor(
    private readonly total: number,
    private readonly stream: NodeJS.WriteStream,
  ) {}

  update(done: number, events: number): void {
    const now = Date.now()
    if (now - this.last < REDRAW_MS) return
    this.last = now
    const frac = this.total > 0 ? Math.min(1, done / this.total) : 0
    const filled = Math.round(frac * BAR_WIDTH)
    const secs = (now - this.started) / 1000
    const mbs = secs > 0 ? done / 1e6 / secs : 0
    this.stream.write(
      `\r[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${(frac * 100).toFixed(1)}% ` +
        `${mbs.toFixed(1)} MB/s ${events} handshakes`,
    )
  }

  done(): void {
    this.stream.write('\r\x1b[K')
  }
}
