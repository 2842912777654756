import type { SseEvent, SseParser, SseParserFactory } from './sse-parser.js';

const LF = 10;
const CR = 13;
const COLON = 58;
const SPACE = 32;
const DATA = Buffer.from('data');
const EVENT = Buffer.from('event');

/**
 * A hand-written SSE parser on bytes, kept to measure eventsource-parser against (bench:client): it
 * splits lines on the bytes (LF, CRLF or a lone CR, as the spec allows) and decodes only the values of
 * `data:` and `event:` lines, whole, so a character split across reads needs no decoder. Comments, `id:`,
 * `retry:` and unknown fields are skipped; an event with no data line is not dispatched.
 */
class ByteSseParser implements SseParser {
  /** Bytes of a line that has not ended yet (a copy: the caller's buffer is reused). */
  private pending: Buffer | null = null;
  /** The previous read ended with CR: a LF starting this one belongs to it. */
  private skipLf = false;
  private data = '';
  private dataLines = 0;
  private event: string | undefined = undefined;

  constructor(private readonly onEvent: (event: SseEvent) => void) {}

  feed(chunk: Buffer): void {
    const bytes = this.pending === null ? chunk : Buffer.concat([this.pending, chunk]);
    let start = 0;
    if (this.skipLf && bytes.length > 0) {
      this.skipLf = false;
      if (bytes[0] === LF) start = 1;
    }
    let lf = bytes.indexOf(LF, start);
    let cr = bytes.indexOf(CR, start);
    while (lf !== -1 || cr !== -1) {
      const end = cr === -1 || (lf !== -1 && lf < cr) ? lf : cr;
      this.line(bytes, start, end);
      start = end + 1;
      if (end === cr) {
        if (start === bytes.length) this.skipLf = true;
        else if (bytes[start] === LF) start++;
        cr = bytes.indexOf(CR, start);
      }
      if (lf !== -1 && lf < start) lf = bytes.indexOf(LF, start);
    }
    if (start >= bytes.length) this.pending = null;
    else this.pending = bytes === chunk ? Buffer.from(bytes.subarray(start)) : bytes.subarray(start);
  }

  private line(bytes: Buffer, start: number, end: number): void {
    if (start === end) {
      if (this.dataLines > 0) this.onEvent({ event: this.event, data: this.data });
      this.data = '';
      this.dataLines = 0;
      this.event = undefined;
      return;
    }
    if (bytes[start] === COLON) return;
    let colon = bytes.indexOf(COLON, start);
    if (colon === -1 || colon > end) colon = end;
    let valueStart = colon + 1;
    if (valueStart < end && bytes[valueStart] === SPACE) valueStart++;
    if (valueStart > end) valueStart = end;
    if (isField(bytes, start, colon, DATA)) {
      const value = bytes.toString('utf8', valueStart, end);
      this.data = this.dataLines === 0 ? value : `${this.data}\n${value}`;
      this.dataLines++;
    } else if (isField(bytes, start, colon, EVENT)) {
      this.event = valueStart === end ? undefined : bytes.toString('utf8', valueStart, end);
    }
  }
}

function isField(bytes: Buffer, start: number, end: number, name: Buffer): boolean {
  return end - start === name.length && bytes.compare(name, 0, name.length, start, end) === 0;
}

export const byteSseParser: SseParserFactory = (onEvent) => new ByteSseParser(onEvent);
