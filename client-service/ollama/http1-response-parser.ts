/**
 * Parses one HTTP/1.1 answer at a time from the bytes of a client connection, as they arrive. Written for
 * the benchmark's stream client: it copies nothing it does not have to, and it hands body bytes on as
 * views of the caller's buffer, valid only during the callback (the connection reads into one reused
 * buffer). Framing: chunked, content-length, or until the connection closes; 1xx answers are skipped.
 */

export interface ResponseHead {
  status: number;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** The connection may carry another request after this answer. */
  keepAlive: boolean;
}

export interface ResponseEvents {
  head(head: ResponseHead): void;
  /** A view of the caller's buffer: copy what you keep. */
  body(bytes: Buffer): void;
  /** The answer is complete. */
  end(): void;
}

/** The server broke HTTP/1.1: the connection cannot be trusted for anything else. */
export class Http1ProtocolError extends Error {
  readonly code = 'ERR_HTTP1_PROTOCOL';
}

const MAX_HEAD_BYTES = 64 * 1024;
const MAX_LINE_BYTES = 4 * 1024;
const CR = 13;
const LF = 10;

type State =
  | 'idle'
  | 'head'
  | 'chunkSize'
  | 'chunkData'
  | 'chunkDataEnd'
  | 'trailers'
  | 'fixed'
  | 'untilClose'
  /** The last answer said `connection: close`: nothing more may come. */
  | 'closing'
  | 'broken';

export class Http1ResponseParser {
  private state: State = 'idle';
  private events: ResponseEvents | null = null;
  private noBody = false;
  /** Bytes of a head or line that did not arrive in one read. */
  private carry: Buffer[] = [];
  private carryBytes = 0;
  private remaining = 0;
  private keepAlive = false;

  /** Expect the answer to a request just written. `noBody` for HEAD requests. */
  expect(events: ResponseEvents, options: { noBody?: boolean } = {}): void {
    if (this.state !== 'idle') throw new Error(`a response is still being read (${this.state})`);
    this.events = events;
    this.noBody = options.noBody ?? false;
    this.state = 'head';
  }

  /** True while an answer is expected or being read. */
  get busy(): boolean {
    return this.state !== 'idle' && this.state !== 'closing' && this.state !== 'broken';
  }

  /** The connection may carry another request. */
  get reusable(): boolean {
    return this.state === 'idle';
  }

  /** Feeds `bytes[start, end)`. Throws Http1ProtocolError on anything that is not HTTP/1.1. */
  push(bytes: Buffer, start = 0, end = bytes.length): void {
    let i = start;
    try {
      while (i < end) {
        switch (this.state) {
          case 'idle':
          case 'closing':
            throw new Http1ProtocolError('the server sent bytes while no answer was expected');
          case 'broken':
            return;
          case 'head':
            i = this.readHead(bytes, i, end);
            break;
          case 'chunkSize':
            i = this.readLine(bytes, i, end, (line) => this.onChunkSize(line));
            break;
          case 'chunkData': {
            const take = Math.min(this.remaining, end - i);
            this.remaining -= take;
            const view = bytes.subarray(i, i + take);
            i += take;
            if (this.remaining === 0) this.state = 'chunkDataEnd';
            this.events?.body(view);
            break;
          }
          case 'chunkDataEnd':
            i = this.readLine(bytes, i, end, (line) => {
              if (line.length > 0) throw new Http1ProtocolError('chunk data longer than its size');
              this.state = 'chunkSize';
            });
            break;
          case 'trailers':
            i = this.readLine(bytes, i, end, (line) => {
              if (line.length === 0) this.finish();
            });
            break;
          case 'fixed': {
            const take = Math.min(this.remaining, end - i);
            this.remaining -= take;
            const view = bytes.subarray(i, i + take);
            i += take;
            this.events?.body(view);
            if (this.remaining === 0) this.finish();
            break;
          }
          case 'untilClose': {
            const view = bytes.subarray(i, end);
            i = end;
            this.events?.body(view);
            break;
          }
        }
      }
    } catch (err) {
      this.state = 'broken';
      throw err;
    }
  }

  /**
   * The connection closed: 'ended' when that completed an answer read until close, 'cut' when an answer
   * was expected or half read, 'idle' otherwise.
   */
  closed(): 'ended' | 'cut' | 'idle' {
    if (this.state === 'untilClose') {
      this.finish();
      this.state = 'broken';
      return 'ended';
    }
    const cut = this.busy;
    this.state = 'broken';
    this.events = null;
    return cut ? 'cut' : 'idle';
  }

  private finish(): void {
    const events = this.events;
    this.events = null;
    this.state = this.keepAlive ? 'idle' : 'closing';
    events?.end();
  }

  private takeCarry(bytes: Buffer, start: number, end: number): Buffer {
    if (this.carryBytes === 0) return bytes.subarray(start, end);
    const joined = Buffer.concat([...this.carry, bytes.subarray(start, end)]);
    this.carry = [];
    this.carryBytes = 0;
    return joined;
  }

  private keep(bytes: Buffer, start: number, end: number, limit: number, what: string): void {
    this.carryBytes += end - start;
    if (this.carryBytes > limit) throw new Http1ProtocolError(`${what} longer than ${limit} bytes`);
    // A copy: the caller's buffer is reused for the next read.
    this.carry.push(Buffer.from(bytes.subarray(start, end)));
  }

  /** Reads one CRLF- (or LF-) terminated line; returns where reading stopped. */
  private readLine(bytes: Buffer, start: number, end: number, onLine: (line: string) => void): number {
    const lf = bytes.indexOf(LF, start);
    if (lf === -1 || lf >= end) {
      this.keep(bytes, start, end, MAX_LINE_BYTES, 'a line');
      return end;
    }
    const line = this.takeCarry(bytes, start, lf);
    const stop = line.length > 0 && line[line.length - 1] === CR ? line.length - 1 : line.length;
    onLine(line.toString('latin1', 0, stop));
    return lf + 1;
  }

  private readHead(bytes: Buffer, start: number, end: number): number {
    const carried = this.carryBytes;
    const joined =
      carried === 0 ? bytes.subarray(start, end) : Buffer.concat([...this.carry, bytes.subarray(start, end)]);
    // The head ends at its first empty line; it may straddle the carried bytes and these.
    const found = findHeadEnd(joined, Math.max(0, carried - 3));
    if (found !== null && found.headEnd > MAX_HEAD_BYTES)
      throw new Http1ProtocolError(`the response head longer than ${MAX_HEAD_BYTES} bytes`);
    if (found === null) {
      this.keep(bytes, start, end, MAX_HEAD_BYTES, 'the response head');
      return end;
    }
    this.carry = [];
    this.carryBytes = 0;
    this.onHead(joined.toString('latin1', 0, found.headEnd));
    return start + found.after - carried;
  }

  private onHead(text: string): void {
    const lines = text.split(/\r?\n/);
    const statusLine = lines[0] ?? '';
    const match = /^HTTP\/1\.([01]) (\d{3})(?: .*)?$/.exec(statusLine);
    if (match === null)
      throw new Http1ProtocolError(`not an HTTP/1.x status line: ${statusLine.slice(0, 80)}`);
    const minor = match[1];
    const status = Number(match[2]);
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon <= 0 || line[0] === ' ' || line[0] === '\t')
        throw new Http1ProtocolError(`bad header line: ${line.slice(0, 80)}`);
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    // 1xx answers (100 Continue) come before the real one.
    if (status >= 100 && status < 200) return;
    const connection = (headers.connection ?? '').toLowerCase();
    this.keepAlive = minor === '1' ? !connection.includes('close') : connection.includes('keep-alive');
    const transferEncoding = headers['transfer-encoding']?.toLowerCase();
    const contentLength = headers['content-length'];
    const hasBody = !(this.noBody || status === 204 || status === 304);
    // An answer without a length reads until the connection closes: nothing can follow it.
    if (hasBody && transferEncoding === undefined && contentLength === undefined) this.keepAlive = false;
    this.events?.head({ status, headers, keepAlive: this.keepAlive });
    if (!hasBody) {
      this.finish();
    } else if (transferEncoding !== undefined) {
      if (!/(^|,)\s*chunked\s*$/.test(transferEncoding))
        throw new Http1ProtocolError(`unsupported transfer-encoding: ${transferEncoding}`);
      this.state = 'chunkSize';
    } else if (contentLength !== undefined) {
      if (!/^\d+$/.test(contentLength)) throw new Http1ProtocolError(`bad content-length: ${contentLength}`);
      this.remaining = Number(contentLength);
      this.state = 'fixed';
      if (this.remaining === 0) this.finish();
    } else {
      this.state = 'untilClose';
    }
  }

  private onChunkSize(line: string): void {
    const size = line.split(';', 1)[0]?.trim() ?? '';
    if (!/^[0-9a-fA-F]{1,8}$/.test(size))
      throw new Http1ProtocolError(`bad chunk size: ${line.slice(0, 40)}`);
    this.remaining = Number.parseInt(size, 16);
    this.state = this.remaining === 0 ? 'trailers' : 'chunkData';
  }
}

/** Where the head's empty line is: `headEnd` excludes it, `after` is the first body byte. */
function findHeadEnd(bytes: Buffer, from: number): { headEnd: number; after: number } | null {
  let lf = bytes.indexOf(LF, from);
  while (lf !== -1) {
    // "\n\n" or "\n\r\n": the line after this LF is empty.
    if (bytes[lf + 1] === LF) return { headEnd: lf > 0 && bytes[lf - 1] === CR ? lf - 1 : lf, after: lf + 2 };
    if (bytes[lf + 1] === CR && bytes[lf + 2] === LF)
      return { headEnd: lf > 0 && bytes[lf - 1] === CR ? lf - 1 : lf, after: lf + 3 };
    lf = bytes.indexOf(LF, lf + 1);
  }
  return null;
}
