import type { ErrorKind } from '../api-schema.js';
import type { StreamTimings } from '../metrics.js';
import type { ConnectionPool } from './connection-pool.js';
import type { Http1Connection, OutgoingRequest, ResponseHandlers } from './http1-connection.js';
import type { ResponseHead } from './http1-response-parser.js';
import { Http1ProtocolError } from './http1-response-parser.js';
import {
  type AnswerReader,
  type AnswerReaderFactory,
  cap,
  emptyCounts,
  errorCode,
  errorText,
  type FinalChunkCounts,
  type StreamOutcome,
} from './stream-types.js';

const ERROR_BODY_CAP = 4096;
const RETRYABLE_CODES = new Set(['ERR_CONNECTION_CLOSED', 'ECONNRESET', 'EPIPE']);

/**
 * One generation request from start to outcome, as one object: it is the connection's response
 * handler itself, and it holds its timer, its connection and what it read. Hundreds are alive at once,
 * each for as long as a generation lasts, so each one's size is what the garbage collector copies at
 * every scavenge; and a scavenge pauses every stamp behind it. No AbortController, no listener on a
 * shared signal and no promise per exchange: a run cancels through its client (cancelAll).
 */
export class StreamRequest implements ResponseHandlers {
  readonly timings: StreamTimings = { sentMs: 0, contentChunkMs: [], doneMs: null };
  readonly counts: FinalChunkCounts = emptyCounts();
  private readonly reader: AnswerReader;
  private httpStatus: number | null = null;
  private connection: Http1Connection | null = null;
  /** Set while waiting for a free connection, to give up the wait. */
  private waitController: AbortController | null = null;
  private timer: NodeJS.Timeout | null = null;
  private attempts = 0;
  private errorBody: Buffer[] | null = null;
  private errorBytes = 0;
  private settled = false;

  constructor(
    private readonly pool: ConnectionPool,
    private readonly outgoing: OutgoingRequest,
    readerFactory: AnswerReaderFactory,
    collectText: boolean,
    private readonly timeoutMs: number,
    private readonly onSettled: (request: StreamRequest, outcome: StreamOutcome) => void,
  ) {
    this.reader = readerFactory(this.timings, this.counts, collectText);
  }

  start(): void {
    this.timer = setTimeout(this.onTimeout, this.timeoutMs);
    this.send();
  }

  /** Ends the request now as `cancelled` or `timeout`, whatever it was doing. */
  abort(kind: 'timeout' | 'cancelled'): void {
    if (this.settled) return;
    this.waitController?.abort(new Error(kind));
    this.connection?.destroy();
    this.finish(
      kind,
      kind === 'timeout' ? `no complete answer within ${this.timeoutMs} ms` : 'run cancelled',
    );
  }

  head(head: ResponseHead): void {
    this.httpStatus = head.status;
    if (head.status !== 200) this.errorBody = [];
  }

  body(bytes: Buffer, atMs: number): void {
    if (this.settled) return;
    if (this.errorBody !== null) {
      if (this.errorBytes < ERROR_BODY_CAP)
        this.errorBody.push(Buffer.from(bytes.subarray(0, ERROR_BODY_CAP)));
      this.errorBytes += bytes.length;
      return;
    }
    this.reader.push(bytes, atMs);
    // Stop reading as soon as the answer is decided.
    if (this.reader.streamError !== null) {
      this.connection?.destroy();
      this.finish('stream_error', this.reader.streamError);
    }
  }

  end(atMs: number): void {
    const connection = this.connection;
    this.connection = null;
    // Back to the pool first, so the client's next request can take it in this same turn.
    if (connection !== null) this.pool.release(connection);
    if (this.settled) return;
    if (this.errorBody !== null) {
      const text = Buffer.concat(this.errorBody).toString('utf8').trim();
      this.finish('http_status', `HTTP ${this.httpStatus}: ${text}`);
      return;
    }
    this.reader.end(atMs);
    if (this.reader.streamError !== null) this.finish('stream_error', this.reader.streamError);
    else this.finish(null, null);
  }

  error(err: Error): void {
    const connection = this.connection;
    this.connection = null;
    if (this.settled) return;
    const code = errorCode(err);
    // A kept-alive connection the server had closed meanwhile: nothing of this request reached an answer,
    // so it is sent once more on a fresh connection (as browsers do).
    const stale =
      connection !== null &&
      connection.requests > 1 &&
      connection.answerBytes === 0 &&
      this.attempts === 1 &&
      code !== undefined &&
      RETRYABLE_CODES.has(code);
    if (stale) {
      this.send();
      return;
    }
    this.finish(err instanceof Http1ProtocolError ? 'stream_error' : 'connection', errorText(err));
  }

  private readonly onTimeout = (): void => {
    this.timer = null;
    this.abort('timeout');
  };

  private send(): void {
    this.attempts++;
    // Usually a connection is free (a closed loop has one per client): no promise, no wait.
    const idle = this.pool.tryAcquire();
    if (idle !== null) {
      this.write(idle);
      return;
    }
    this.waitController = new AbortController();
    this.pool.acquire(this.waitController.signal).then(
      (connection) => {
        this.waitController = null;
        if (this.settled) this.pool.release(connection);
        else this.write(connection);
      },
      (err: unknown) => {
        this.waitController = null;
        if (!this.settled) this.finish('connection', errorText(err));
      },
    );
  }

  private write(connection: Http1Connection): void {
    this.connection = connection;
    try {
      this.timings.sentMs = connection.request(this.outgoing, this);
    } catch (err) {
      this.connection = null;
      connection.destroy();
      this.finish('connection', errorText(err));
    }
  }

  private finish(errorKind: ErrorKind | null, message: string | null): void {
    if (this.settled) return;
    this.settled = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.onSettled(this, {
      ok: errorKind === null,
      errorKind,
      errorMessage: message === null ? null : cap(message),
      httpStatus: this.httpStatus,
      timings: this.timings,
      counts: this.counts,
      text: this.reader.text,
    });
  }
}
