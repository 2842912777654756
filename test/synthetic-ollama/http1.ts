import { STATUS_CODES } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { SlicedWork } from './sliced-work.js';

/**
 * A minimal HTTP/1.1 server on node:net for the synthetic token server, an instrument that must know when
 * each request's first byte arrived. node:http parses and answers a request inside the socket read that
 * brought it, so under a burst every request waits for the handling of those read before it; here the
 * read only stamps and buffers, and the rest runs in short slices (SlicedWork).
 *
 * Scope: keep-alive, pipelined requests answered in order, bodies with content-length (with Expect:
 * 100-continue, which curl sends for bodies over 1 KiB), fixed-length and chunked answers. No request
 * bodies in chunked encoding (501), no upgrades.
 */

export interface HttpRequest {
  method: string;
  path: string;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: Buffer;
  /** Monotonic ms when the server first saw a byte of this request. */
  receivedAtMs: number;
}

export type RequestHandler = (req: HttpRequest, res: HttpResponse) => void;

const MAX_HEAD_BYTES = 64 * 1024;
const MAX_BODY_BYTES = 8 * 1024 * 1024;
const IDLE_TIMEOUT_MS = 60_000;

export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** One answer. Ends exactly once: by end(), json() or the connection going away. */
export class HttpResponse {
  private headSent = false;
  private chunked = false;
  private ended = false;
  private readonly doneListeners: (() => void)[] = [];

  constructor(
    private readonly socket: Socket,
    private readonly keepAlive: boolean,
    private readonly onEnded: () => void,
  ) {}

  /** True once the answer is complete or the connection is gone. */
  get finished(): boolean {
    return this.ended;
  }

  /** Called once when the answer ends or the connection closes first. */
  onDone(listener: () => void): void {
    if (this.ended) listener();
    else this.doneListeners.push(listener);
  }

  json(status: number, body: unknown): void {
    const text = JSON.stringify(body);
    this.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    if (!this.ended) this.socket.write(text);
    this.finish();
  }

  /** Sends the status line and headers now, as Ollama does, then chunks with write(). */
  startStream(status: number, contentType: string): void {
    this.chunked = true;
    this.writeHead(status, { 'content-type': contentType, 'transfer-encoding': 'chunked' });
  }

  write(text: string): void {
    if (this.ended || text.length === 0) return;
    this.socket.write(`${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`);
  }

  end(text = ''): void {
    if (this.ended) return;
    this.write(text);
    if (this.chunked) this.socket.write('0\r\n\r\n');
    this.finish();
  }

  /** Cuts the connection without finishing the answer. */
  destroy(): void {
    this.socket.destroy();
  }

  /** The connection went away before the answer ended. */
  connectionClosed(): void {
    this.settle();
  }

  private writeHead(status: number, headers: Record<string, string | number>): void {
    if (this.headSent || this.ended) return;
    this.headSent = true;
    let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
    for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
    head += `connection: ${this.keepAlive ? 'keep-alive' : 'close'}\r\n\r\n`;
    this.socket.write(head);
  }

  private finish(): void {
    if (this.ended) return;
    if (!this.keepAlive) this.socket.end();
    this.settle();
    this.onEnded();
  }

  private settle(): void {
    if (this.ended) return;
    this.ended = true;
    for (const listener of this.doneListeners.splice(0)) listener();
  }
}

class BadRequest extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

interface ParsedHead {
  method: string;
  path: string;
  headers: Record<string, string>;
  keepAlive: boolean;
  bodyLength: number;
}

function parseHead(head: string): ParsedHead {
  const lines = head.split('\r\n');
  const [method, path, version, ...extra] = (lines[0] ?? '').split(' ');
  if (
    method === undefined ||
    path === undefined ||
    extra.length > 0 ||
    !/^HTTP\/1\.[01]$/.test(version ?? '')
  )
    throw new BadRequest(400, `bad request line: ${lines[0]}`);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new BadRequest(400, `bad header line: ${line}`);
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  if (headers['transfer-encoding'] !== undefined)
    throw new BadRequest(501, 'request bodies in transfer-encoding are not supported; send content-length');
  const lengthHeader = headers['content-length'] ?? '0';
  if (!/^\d+$/.test(lengthHeader)) throw new BadRequest(400, `bad content-length: ${lengthHeader}`);
  const bodyLength = Number(lengthHeader);
  if (bodyLength > MAX_BODY_BYTES) throw new BadRequest(413, 'request body too large');
  const connection = (headers.connection ?? '').toLowerCase();
  const keepAlive =
    version === 'HTTP/1.1' ? !connection.includes('close') : connection.includes('keep-alive');
  return { method, path, headers, keepAlive, bodyLength };
}

const HEAD_END = Buffer.from('\r\n\r\n');

/** One client connection: buffers bytes with their arrival time and answers its requests one at a time. */
class Connection {
  private buffer: Buffer = Buffer.alloc(0);
  /** Arrival stamps of the buffered bytes: `end` is the offset just past the chunk that arrived `atMs`. */
  private arrivals: { end: number; atMs: number }[] = [];
  private current: HttpResponse | null = null;
  private queued = false;
  private closed = false;
  private continueSent = false;

  constructor(
    private readonly socket: Socket,
    private readonly handler: RequestHandler,
    private readonly work: SlicedWork,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      // The earliest moment this process can know the bytes are here: stamp first, everything else later.
      const atMs = nowMs();
      this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
      this.arrivals.push({ end: this.buffer.length, atMs });
      this.schedule();
    });
    socket.on('error', () => undefined); // 'close' follows
    socket.on('close', () => {
      this.closed = true;
      this.current?.connectionClosed();
      this.current = null;
    });
    socket.setTimeout(IDLE_TIMEOUT_MS, () => {
      if (this.current === null) socket.destroy();
    });
  }

  destroy(): void {
    this.socket.destroy();
  }

  private schedule(): void {
    if (this.queued || this.closed) return;
    this.queued = true;
    this.work.push(this.processBuffered);
  }

  private readonly processBuffered = (): void => {
    this.queued = false;
    // One request per job keeps slices short; the next request of this connection is queued behind it.
    if (this.closed || this.current !== null) return;
    let request: { head: ParsedHead; body: Buffer; receivedAtMs: number } | null;
    try {
      request = this.takeRequest();
    } catch (err) {
      const bad = err instanceof BadRequest ? err : new BadRequest(400, String(err));
      new HttpResponse(this.socket, false, () => undefined).json(bad.status, { error: bad.message });
      this.closed = true;
      return;
    }
    if (request === null) return;
    const { head, body, receivedAtMs } = request;
    const response = new HttpResponse(this.socket, head.keepAlive, () => {
      this.current = null;
      if (head.keepAlive) this.schedule();
      else this.closed = true;
    });
    this.current = response;
    this.handler(
      { method: head.method, path: head.path, headers: head.headers, body, receivedAtMs },
      response,
    );
  };

  private takeRequest(): { head: ParsedHead; body: Buffer; receivedAtMs: number } | null {
    // Tolerate empty lines between requests (RFC 9112 §2.2).
    let start = 0;
    while (this.buffer[start] === 0x0d || this.buffer[start] === 0x0a) start++;
    if (start > 0) this.consume(start);
    const headEnd = this.buffer.indexOf(HEAD_END);
    if (headEnd < 0) {
      if (this.buffer.length > MAX_HEAD_BYTES) throw new BadRequest(431, 'request head too large');
      return null;
    }
    const head = parseHead(this.buffer.toString('latin1', 0, headEnd));
    const total = headEnd + HEAD_END.length + head.bodyLength;
    if (this.buffer.length < total) {
      if (!this.continueSent && head.headers.expect?.toLowerCase() === '100-continue') {
        this.continueSent = true;
        this.socket.write('HTTP/1.1 100 Continue\r\n\r\n');
      }
      return null;
    }
    this.continueSent = false;
    const receivedAtMs = this.arrivals[0]?.atMs ?? nowMs();
    const body = Buffer.from(this.buffer.subarray(headEnd + HEAD_END.length, total));
    this.consume(total);
    if (this.buffer.length > 0) this.schedule();
    return { head, body, receivedAtMs };
  }

  private consume(bytes: number): void {
    this.buffer = this.buffer.subarray(bytes);
    this.arrivals = this.arrivals
      .filter((a) => a.end > bytes)
      .map((a) => ({ end: a.end - bytes, atMs: a.atMs }));
  }
}

/** A node:net server speaking the HTTP/1.1 subset above; `close()` also cuts open connections. */
export class Http1Server {
  private readonly server: Server;
  private readonly connections = new Set<Connection>();
  private readonly work = new SlicedWork(0.2, nowMs);

  constructor(handler: RequestHandler) {
    this.server = createServer({ noDelay: true }, (socket) => {
      const connection = new Connection(socket, handler, this.work);
      this.connections.add(connection);
      socket.on('close', () => this.connections.delete(connection));
    });
  }

  /** Work that must not delay the stamping of arriving requests (token writes) goes through here. */
  defer(job: () => void): void {
    this.work.push(job);
  }

  async listen(port: number, host: string): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ port, host, backlog: 4096 }, resolve);
    });
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('no TCP address');
    return address.port;
  }

  async close(): Promise<void> {
    for (const connection of this.connections) connection.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
