/**
 * Splits a byte stream into NDJSON lines. A chunk may end anywhere (mid-line, mid-UTF-8 sequence), so
 * the tail is kept as bytes until its newline arrives; decoding whole lines never splits a character.
 * `chunk` may be a view of a reused read buffer: nothing of it is kept without copying.
 */
export class NdjsonLineSplitter {
  private pending: Buffer | null = null;

  /** Returns the complete, non-empty lines that this chunk finished. */
  push(chunk: Buffer): string[] {
    const data = this.pending === null ? chunk : Buffer.concat([this.pending, chunk]);
    const lines: string[] = [];
    let start = 0;
    let newline = data.indexOf(10, start);
    while (newline !== -1) {
      const end = newline > start && data[newline - 1] === 13 ? newline - 1 : newline;
      if (end > start) lines.push(data.toString('utf8', start, end));
      start = newline + 1;
      newline = data.indexOf(10, start);
    }
    // A copy when the bytes are the caller's: they may be a view of a buffer reused for the next read.
    if (start >= data.length) this.pending = null;
    else this.pending = data === chunk ? Buffer.from(data.subarray(start)) : data.subarray(start);
    return lines;
  }

  /** The unterminated last line, if the stream ended without a newline. */
  flush(): string | null {
    const rest = this.pending;
    this.pending = null;
    if (rest === null) return null;
    const text = rest.toString('utf8').trim();
    return text.length === 0 ? null : text;
  }
}
