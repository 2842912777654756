import { z } from 'zod';
import type { ErrorKind, OllamaApi } from '../api-schema.js';
import type { ServerCounts, StreamTimings } from '../metrics.js';
import { ConnectionPool, requestText } from './connection-pool.js';
import type { Http1Connection, OutgoingRequest } from './http1-connection.js';
import { Http1ProtocolError } from './http1-response-parser.js';
import { NdjsonLineSplitter } from './ndjson.js';

export interface GenerationRequest {
  model: string;
  api: OllamaApi;
  prompt: string;
  maxTokens?: number | undefined;
  temperature?: number | undefined;
  seed?: number | undefined;
  /** Sent as X-Request-Id so a synthetic server can pair its ground truth with our record. */
  requestId?: string | undefined;
}

export interface StreamOptions {
  timeoutMs: number;
  /** Aborts the request as `cancelled` (a run being cancelled). */
  signal?: AbortSignal | undefined;
  /** Keep the generated text (for /query); a benchmark does not need it. */
  collectText?: boolean;
}

/** The counters of Ollama's final chunk, in Ollama's own units (durations in ns). */
export interface FinalChunkCounts extends ServerCounts {
  promptEvalCount: number | null;
  promptEvalDurationNs: number | null;
  loadDurationNs: number | null;
  totalDurationNs: number | null;
  doneReason: string | null;
}

export interface StreamOutcome {
  ok: boolean;
  errorKind: ErrorKind | null;
  errorMessage: string | null;
  httpStatus: number | null;
  timings: StreamTimings;
  counts: FinalChunkCounts;
  text: string;
}

const FinalChunk = z.object({
  eval_count: z.number().int().nonnegative().optional(),
  eval_duration: z.number().nonnegative().optional(),
  prompt_eval_count: z.number().int().nonnegative().optional(),
  prompt_eval_duration: z.number().nonnegative().optional(),
  load_duration: z.number().nonnegative().optional(),
  total_duration: z.number().nonnegative().optional(),
  done_reason: z.string().optional(),
});

const ERROR_MESSAGE_CAP = 300;

let requestCounter = 0;

function cap(text: string): string {
  return text.length > ERROR_MESSAGE_CAP ? `${text.slice(0, ERROR_MESSAGE_CAP)}…` : text;
}

function emptyCounts(): FinalChunkCounts {
  return {
    evalCount: null,
    evalDurationNs: null,
    promptEvalCount: null,
    promptEvalDurationNs: null,
    loadDurationNs: null,
    totalDurationNs: null,
    doneReason: null,
  };
}

/**
 * A keep-alive pool with exactly as many connections as requests may be in flight: no hidden cap.
 * `null` means unbounded (an open loop without a concurrency limit).
 */
export function createConnectionPool(baseUrl: string, concurrency: number | null): ConnectionPool {
  return new ConnectionPool(new URL(baseUrl), { connections: concurrency, keepAliveMs: 30_000 });
}

function contentOf(api: OllamaApi, line: Record<string, unknown>): string {
  if (api === 'generate') {
    return typeof line.response === 'string' ? line.response : '';
  }
  const message = line.message;
  if (typeof message === 'object' && message !== null && 'content' in message) {
    const content = (message as { content: unknown }).content;
    return typeof content === 'string' ? content : '';
  }
  return '';
}

function requestBody(req: GenerationRequest): string {
  const options: Record<string, number> = {};
  if (req.maxTokens !== undefined) options.num_predict = req.maxTokens;
  if (req.temperature !== undefined) options.temperature = req.temperature;
  if (req.seed !== undefined) options.seed = req.seed;
  const common = { model: req.model, stream: true, options };
  return JSON.stringify(
    req.api === 'generate'
      ? { ...common, prompt: req.prompt }
      : { ...common, messages: [{ role: 'user', content: req.prompt }] },
  );
}

function errorCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = (err as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

function errorText(err: unknown): string {
  const code = errorCode(err);
  const message = err instanceof Error ? err.message : String(err);
  return code !== undefined && !message.includes(code) ? `${code}: ${message}` : message;
}

/** How one exchange on one connection ended. */
type Exchange =
  | { kind: 'answered' }
  | { kind: 'http_status'; message: string }
  | { kind: 'stream_error'; message: string }
  | { kind: 'failed'; err: Error; stale: boolean }
  | { kind: 'aborted' };

const ERROR_BODY_CAP = 4096;
const RETRYABLE_CODES = new Set(['ERR_CONNECTION_CLOSED', 'ECONNRESET', 'EPIPE']);

/** Reads the NDJSON lines of one answer into timings, counts and text. */
class AnswerReader {
  private readonly splitter = new NdjsonLineSplitter();
  streamError: string | null = null;
  text = '';

  constructor(
    private readonly api: OllamaApi,
    private readonly timings: StreamTimings,
    private readonly counts: FinalChunkCounts,
    private readonly collectText: boolean,
  ) {}

  push(bytes: Buffer, atMs: number): void {
    for (const line of this.splitter.push(bytes)) this.line(line, atMs);
  }

  flush(atMs: number): void {
    const rest = this.splitter.flush();
    if (rest !== null) this.line(rest, atMs);
  }

  private line(line: string, atMs: number): void {
    if (this.streamError !== null || this.timings.doneMs !== null) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      this.streamError = `unparsable line: ${line}`;
      return;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      this.streamError = `not a JSON object: ${line}`;
      return;
    }
    const obj = parsed as Record<string, unknown>;
    // Ollama reports a failure mid-stream as {"error": ...} with HTTP 200 already sent.
    if (obj.error !== undefined) {
      this.streamError = typeof obj.error === 'string' ? obj.error : JSON.stringify(obj.error);
      return;
    }
    const content = contentOf(this.api, obj);
    if (content.length > 0) {
      this.timings.contentChunkMs.push(atMs);
      if (this.collectText) this.text += content;
    }
    if (obj.done === true) {
      this.timings.doneMs = atMs;
      const final = FinalChunk.safeParse(obj);
      if (!final.success) {
        this.streamError = `final chunk has bad counters: ${final.error.issues[0]?.message ?? ''}`;
        return;
      }
      const c = this.counts;
      c.evalCount = final.data.eval_count ?? null;
      c.evalDurationNs = final.data.eval_duration ?? null;
      c.promptEvalCount = final.data.prompt_eval_count ?? null;
      c.promptEvalDurationNs = final.data.prompt_eval_duration ?? null;
      c.loadDurationNs = final.data.load_duration ?? null;
      c.totalDurationNs = final.data.total_duration ?? null;
      c.doneReason = final.data.done_reason ?? null;
    }
  }
}

/**
 * Streams one generation from Ollama and measures it. Never throws: every failure becomes an outcome
 * with an error kind (timeout, http_status, stream_error, connection, or cancelled).
 *
 * "Sent" is when the request is written onto its connection, not when it was asked for: waiting for a
 * free connection is the generator's own lag (reported as start lag), not the server's TTFT. Each chunk
 * is stamped when its bytes are read, before it is parsed.
 */
export class OllamaStreamClient {
  private readonly basePath: string;

  constructor(
    baseUrl: string,
    private readonly pool: ConnectionPool,
  ) {
    this.basePath = new URL(baseUrl).pathname.replace(/\/+$/, '');
  }

  async generate(req: GenerationRequest, opts: StreamOptions): Promise<StreamOutcome> {
    const controller = new AbortController();
    let abortedBy: 'timeout' | 'cancelled' | null = null;
    const onCancel = (): void => {
      abortedBy ??= 'cancelled';
      controller.abort(new Error('run cancelled'));
    };
    if (opts.signal?.aborted) onCancel();
    opts.signal?.addEventListener('abort', onCancel, { once: true });
    const timer = setTimeout(() => {
      abortedBy ??= 'timeout';
      controller.abort(new Error(`no complete answer within ${opts.timeoutMs} ms`));
    }, opts.timeoutMs);

    const timings: StreamTimings = { sentMs: 0, contentChunkMs: [], doneMs: null };
    const counts = emptyCounts();
    const reader = new AnswerReader(req.api, timings, counts, opts.collectText ?? false);
    const status: { http: number | null } = { http: null };
    const outcome = (errorKind: ErrorKind | null, message: string | null): StreamOutcome => ({
      ok: errorKind === null,
      errorKind,
      errorMessage: message === null ? null : cap(message),
      httpStatus: status.http,
      timings,
      counts,
      text: reader.text,
    });
    const aborted = (): StreamOutcome =>
      abortedBy === 'timeout'
        ? outcome('timeout', `no complete answer within ${opts.timeoutMs} ms`)
        : outcome('cancelled', 'run cancelled');

    const outgoing: OutgoingRequest = {
      method: 'POST',
      path: `${this.basePath}/api/${req.api}`,
      headers: {
        'content-type': 'application/json',
        // Unique per process: runs use `<runId>-<index>`, anything else gets a counter.
        'x-request-id': req.requestId ?? `ibo-${process.pid}-${++requestCounter}`,
      },
      body: requestBody(req),
    };
    try {
      for (let attempt = 1; ; attempt++) {
        const connection = await this.pool.acquire(controller.signal);
        const result = await this.exchange(connection, outgoing, reader, timings, status, controller.signal);
        switch (result.kind) {
          case 'answered':
            if (reader.streamError !== null) return outcome('stream_error', reader.streamError);
            if (timings.doneMs === null)
              return outcome('stream_error', 'stream ended without a final chunk (done: true)');
            return outcome(null, null);
          case 'http_status':
          case 'stream_error':
            return outcome(result.kind, result.message);
          case 'aborted':
            return aborted();
          case 'failed':
            // A kept-alive connection the server had closed meanwhile: nothing of this request reached
            // an answer, so it is sent once more on a fresh connection (as browsers do).
            if (result.stale && attempt === 1) continue;
            return outcome(
              result.err instanceof Http1ProtocolError ? 'stream_error' : 'connection',
              errorText(result.err),
            );
        }
      }
    } catch (err) {
      // Only acquire() throws: the connection could not be opened, or the request was aborted first.
      if (abortedBy !== null) return aborted();
      return outcome('connection', errorText(err));
    } finally {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onCancel);
    }
  }

  /** One request on one connection; the connection goes back to the pool only after a whole answer. */
  private exchange(
    connection: Http1Connection,
    outgoing: OutgoingRequest,
    reader: AnswerReader,
    timings: StreamTimings,
    status: { http: number | null },
    signal: AbortSignal,
  ): Promise<Exchange> {
    return new Promise<Exchange>((resolve) => {
      let settled = false;
      const settle = (result: Exchange): void => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        resolve(result);
      };
      const onAbort = (): void => {
        settle({ kind: 'aborted' });
        connection.destroy();
      };
      if (signal.aborted) {
        this.pool.release(connection);
        settle({ kind: 'aborted' });
        return;
      }
      signal.addEventListener('abort', onAbort, { once: true });
      const errorBody: Buffer[] = [];
      let errorBytes = 0;
      try {
        timings.sentMs = connection.request(outgoing, {
          head: (head) => {
            status.http = head.status;
          },
          body: (bytes, atMs) => {
            if (status.http !== 200) {
              if (errorBytes < ERROR_BODY_CAP) errorBody.push(Buffer.from(bytes.subarray(0, ERROR_BODY_CAP)));
              errorBytes += bytes.length;
              return;
            }
            reader.push(bytes, atMs);
            // Stop reading as soon as the answer is decided.
            if (reader.streamError !== null) {
              settle({ kind: 'stream_error', message: reader.streamError });
              connection.destroy();
            }
          },
          end: (atMs) => {
            // Back to the pool first, so the client's next request can take it in this same turn.
            this.pool.release(connection);
            if (status.http !== 200) {
              const text = Buffer.concat(errorBody).toString('utf8').trim();
              settle({ kind: 'http_status', message: `HTTP ${status.http}: ${text}` });
              return;
            }
            reader.flush(atMs);
            settle({ kind: 'answered' });
          },
          error: (err) => {
            const code = errorCode(err);
            const stale =
              connection.requests > 1 &&
              connection.answerBytes === 0 &&
              code !== undefined &&
              RETRYABLE_CODES.has(code);
            settle({ kind: 'failed', err, stale });
          },
        });
      } catch (err) {
        connection.destroy();
        settle({ kind: 'failed', err: err as Error, stale: false });
      }
    });
  }
}

const VersionAnswer = z.object({ version: z.string() });

/** GET /api/version with a short timeout; throws when Ollama does not answer. */
export async function ollamaVersion(
  baseUrl: string,
  pool: ConnectionPool,
  timeoutMs = 2000,
): Promise<string> {
  const path = `${new URL(baseUrl).pathname.replace(/\/+$/, '')}/api/version`;
  const answer = await requestText(pool, { method: 'GET', path }, AbortSignal.timeout(timeoutMs));
  if (answer.status !== 200) throw new Error(`Ollama answered /api/version with HTTP ${answer.status}`);
  return VersionAnswer.parse(JSON.parse(answer.body)).version;
}
