/**
 * One self-updating progress line on a terminal (`[######----] 3/10 …`); on a pipe or in CI it stays
 * silent and the per-image log lines tell the story instead.
 */
export class ProgressLine {
  readonly #stream: NodeJS.WriteStream;
  readonly #enabled: boolean;
  #last = '';

  constructor(stream: NodeJS.WriteStream = process.stderr) {
    this.#stream = stream;
    this.#enabled = Boolean(stream.isTTY) && !process.env.CI;
  }

  update(done: number, total: number, detail: string): void {
    if (!this.#enabled) return;
    const width = 24;
    const filled = total === 0 ? width : Math.round((done / total) * width);
    // A pseudo-terminal whose size was never set (script, some container and editor consoles) has 0 columns.
    const columns = this.#stream.columns || 100;
    const line = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total} ${detail}`.slice(0, columns - 1);
    if (line === this.#last) return;
    this.#last = line;
    this.#stream.write(`\r\x1b[2K${line}`);
  }

  clear(): void {
    if (this.#enabled && this.#last) this.#stream.write('\r\x1b[2K');
    this.#last = '';
  }
}
