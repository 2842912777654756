import { isIP, connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { monotonicMs } from '../clock.js';
import { Http1ResponseParser, type ResponseEvents, type ResponseHead } from './http1-response-parser.js';

/**
 * One keep-alive HTTP/1.1 client connection, made for measuring streams. Every read is stamped on the
 * monotonic clock before anything else is done with it, and a request is stamped just before its one
 * synchronous socket write. Plain connections read into one buffer shared by all of them (a read is
 * handled to the end before the next one starts), so a stream of tokens allocates no Buffer per read:
 * with hundreds of streams, the garbage collector's pauses, which delay every stamp behind them, stay
 * short (measured: undici's per-stream state made 15–30 ms scavenges at 256 streams).
 */

export interface ResponseHandlers {
  head(head: ResponseHead, atMs: number): void;
  /** A view of a reused buffer, valid only during the call: copy what you keep. */
  body(bytes: Buffer, atMs: number): void;
  end(atMs: number): void;
  /** The connection failed or closed before the answer was complete; it is destroyed. */
  error(err: Error): void;
}

export interface OutgoingRequest {
  method: string;
  /** Path and query, starting with "/". */
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

/** The server closed the connection before the answer was complete. */
export class ConnectionClosedError extends Error {
  readonly code = 'ERR_CONNECTION_CLOSED';
}

const SHARED_READ_BUFFER = Buffer.allocUnsafe(64 * 1024);
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HTTP_METHOD = /^[A-Z]+$/;
/** An origin-form target: no spaces, no control characters. */
const REQUEST_TARGET = /^\/[\x21-\x7e]*$/;

export interface OpenOptions {
  signal?: AbortSignal | undefined;
  /** Called once when the connection is gone, whatever the reason. */
  onClose?: (connection: Http1Connection) => void;
}

export class Http1Connection {
  private readonly parser = new Http1ResponseParser();
  private handlers: ResponseHandlers | null = null;
  private readAtMs = 0;
  private failure: Error | null = null;
  private gone = false;
  private destroyedHere = false;
  /** Requests written on this connection so far. */
  requests = 0;
  /** Bytes of the current answer received so far (0: the server has said nothing yet). */
  answerBytes = 0;

  private readonly events: ResponseEvents = {
    head: (head) => this.handlers?.head(head, this.readAtMs),
    body: (bytes) => this.handlers?.body(bytes, this.readAtMs),
    end: () => {
      const handlers = this.handlers;
      this.handlers = null;
      handlers?.end(this.readAtMs);
    },
  };

  private constructor(
    private readonly socket: Socket,
    private readonly host: string,
  ) {
    // Only armed while idle (idleFor): a connection waiting for a request that long is closed.
    socket.on('timeout', () => {
      if (this.handlers === null) this.destroy();
    });
  }

  /** Connects to the origin of `url` (http or https). Rejects with the socket's error (ECONNREFUSED…). */
  static open(url: URL, options: OpenOptions = {}): Promise<Http1Connection> {
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    // URL keeps IPv6 literals in brackets; sockets want them bare.
    const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
    let connection: Http1Connection | null = null;
    const onRead = (bytes: Buffer, start: number, end: number): void => connection?.onData(bytes, start, end);
    const socket =
      url.protocol === 'https:'
        ? tlsConnect({
            host: hostname,
            port,
            ALPNProtocols: ['http/1.1'],
            ...(isIP(hostname) === 0 ? { servername: hostname } : {}),
          })
        : netConnect({
            host: hostname,
            port,
            onread: {
              buffer: SHARED_READ_BUFFER,
              callback: (bytes: number, buffer: Uint8Array) => {
                onRead(buffer as Buffer, 0, bytes);
                return true;
              },
            },
          });
    if (url.protocol === 'https:') socket.on('data', (chunk: Buffer) => onRead(chunk, 0, chunk.length));
    socket.setNoDelay(true);
    const created = new Http1Connection(socket, url.host);
    connection = created;
    return new Promise<Http1Connection>((resolve, reject) => {
      const signal = options.signal;
      const onAbort = (): void => {
        socket.destroy();
        reject(signal?.reason ?? new Error('aborted'));
      };
      if (signal?.aborted) {
        onAbort();
        return;
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      socket.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', () => {
        signal?.removeEventListener('abort', onAbort);
        resolve(created);
      });
      socket.on('error', (err) => {
        created.failure ??= err;
        signal?.removeEventListener('abort', onAbort);
        reject(err);
      });
      socket.on('close', () => {
        created.onClosed();
        options.onClose?.(created);
      });
    });
  }

  /** True when another request may be written now. */
  get reusable(): boolean {
    // destroy() takes effect at once; 'close' (and `gone`) only comes on a later turn.
    return !this.gone && !this.socket.destroyed && this.handlers === null && this.parser.reusable;
  }

  /**
   * Writes one request and returns the monotonic ms just before the write. The answer comes to
   * `handlers`; exactly one of end() and error() is called.
   */
  request(req: OutgoingRequest, handlers: ResponseHandlers): number {
    if (!this.reusable) throw new Error('the connection is busy or closed');
    if (!HTTP_METHOD.test(req.method) || !REQUEST_TARGET.test(req.path))
      throw new Error(`bad request line: ${JSON.stringify(`${req.method} ${req.path}`)}`);
    let head = `${req.method} ${req.path} HTTP/1.1\r\nhost: ${this.host}\r\n`;
    for (const [name, value] of Object.entries(req.headers ?? {})) {
      if (!HEADER_NAME.test(name) || !HEADER_VALUE.test(value))
        throw new Error(`header ${JSON.stringify(name)} has characters HTTP does not allow`);
      head += `${name}: ${value}\r\n`;
    }
    const body = req.body ?? '';
    if (body.length > 0 || req.method === 'POST' || req.method === 'PUT')
      head += `content-length: ${Buffer.byteLength(body)}\r\n`;
    this.handlers = handlers;
    this.requests++;
    this.answerBytes = 0;
    this.parser.expect(this.events, { noBody: req.method === 'HEAD' });
    const sentAtMs = monotonicMs();
    this.socket.write(`${head}\r\n${body}`);
    return sentAtMs;
  }

  /** Keep the connection for `ms` while it waits for a request; 0 cancels. */
  idleFor(ms: number): void {
    this.socket.setTimeout(ms);
  }

  destroy(): void {
    this.destroyedHere = true;
    this.socket.destroy();
  }

  private onData(bytes: Buffer, start: number, end: number): void {
    // The earliest this process can know these bytes are here: stamp first.
    this.readAtMs = monotonicMs();
    this.answerBytes += end - start;
    try {
      this.parser.push(bytes, start, end);
    } catch (err) {
      this.fail(err as Error);
    }
  }

  private onClosed(): void {
    if (this.gone) return;
    this.gone = true;
    const outcome = this.parser.closed();
    const handlers = this.handlers;
    this.handlers = null;
    if (handlers === null) return;
    // 'ended' was reported by the parser already: an answer read until close ends with the connection.
    if (outcome === 'ended') return;
    handlers.error(
      this.failure ??
        new ConnectionClosedError(
          this.destroyedHere
            ? 'the connection was closed here before the answer was complete'
            : 'the server closed the connection before the answer was complete',
        ),
    );
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.socket.destroy();
  }
}
