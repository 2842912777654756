import { subscribe } from 'node:diagnostics_channel';
import { Agent, type Dispatcher } from 'undici';
import { z } from 'zod';
import type { ErrorKind, OllamaApi } from '../api-schema.js';
import { monotonicMs } from '../clock.js';
import type { ServerCounts, StreamTimings } from '../metrics.js';
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

/**
 * "Request sent" is when undici writes the request onto its connection, not when we asked it to: under a
 * burst the event loop may take a while to get there, and that wait is the generator's own lag (reported
 * as start lag), not the server's TTFT. undici announces the write on a diagnostics channel; requests are
 * matched by their X-Request-Id.
 *
 * The stamp is 'undici:client:sendHeaders', published just before undici's synchronous socket write, and
 * not 'undici:request:bodySent', published just after it: the two are ~0.04 ms apart (p50), and a pause
 * on either side moves the stamp. Before the write the error can only be counted against us; after it, a
 * pause made "sent" later than the server's receipt (-1.3 ms with 4 clients on a loaded machine) and the
 * client appeared to see the first token before the server wrote it.
 */
const headerWriteWaiters = new Map<string, () => void>();
let headerWritesObserved = false;

function observeHeaderWrites(): void {
  if (headerWritesObserved) return;
  headerWritesObserved = true;
  subscribe('undici:client:sendHeaders', (message) => {
    const headers = (message as { request?: { headers?: unknown } }).request?.headers;
    if (!Array.isArray(headers)) return;
    for (let i = 0; i < headers.length; i += 2) {
      if (headers[i] === 'x-request-id') {
        headerWriteWaiters.get(String(headers[i + 1]))?.();
        return;
      }
    }
  });
}

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
export function createConnectionPool(concurrency: number | null): Agent {
  return new Agent({
    connections: concurrency,
    pipelining: 1,
    // Our own per-request timer decides; undici's 300 s defaults would cut long generations silently.
    headersTimeout: 0,
    bodyTimeout: 0,
    keepAliveTimeout: 30_000,
  });
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

/**
 * Streams one generation from Ollama and measures it. Never throws: every failure becomes an outcome
 * with an error kind (timeout, http_status, stream_error, connection, or cancelled).
 */
export class OllamaStreamClient {
  private readonly origin: string;
  private readonly basePath: string;

  constructor(
    baseUrl: string,
    private readonly dispatcher: Dispatcher,
  ) {
    observeHeaderWrites();
    const url = new URL(baseUrl);
    this.origin = url.origin;
    this.basePath = url.pathname.replace(/\/+$/, '');
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
    let text = '';
    let httpStatus: number | null = null;
    const fail = (errorKind: ErrorKind, message: string): StreamOutcome => ({
      ok: false,
      errorKind,
      errorMessage: cap(message),
      httpStatus,
      timings,
      counts,
      text,
    });

    // Unique per process: runs use `<runId>-<index>`, anything else gets a counter.
    const requestId = req.requestId ?? `ibo-${process.pid}-${++requestCounter}`;
    const ownsWaiter = !headerWriteWaiters.has(requestId);
    try {
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'x-request-id': requestId,
      };
      const body = requestBody(req);
      // Until undici reports the write, "sent" is when we dispatched; the write time replaces it.
      timings.sentMs = monotonicMs();
      if (ownsWaiter) {
        headerWriteWaiters.set(requestId, () => {
          timings.sentMs = monotonicMs();
          headerWriteWaiters.delete(requestId);
        });
      }
      const response = await this.dispatcher.request({
        origin: this.origin,
        path: `${this.basePath}/api/${req.api}`,
        method: 'POST',
        headers,
        body,
        signal: controller.signal,
      });
      httpStatus = response.statusCode;
      if (response.statusCode !== 200) {
        const errorBody = await response.body.text().catch(() => '');
        return fail('http_status', `HTTP ${response.statusCode}: ${errorBody.trim()}`);
      }
      const splitter = new NdjsonLineSplitter();
      let streamError: string | null = null;
      const handleLine = (line: string, atMs: number): void => {
        if (streamError !== null || timings.doneMs !== null) return;
        let parsed: unknown;
        try {
          parsed = JSON.parse(line);
        } catch {
          streamError = `unparsable line: ${line}`;
          return;
        }
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
          streamError = `not a JSON object: ${line}`;
          return;
        }
        const obj = parsed as Record<string, unknown>;
        // Ollama reports a failure mid-stream as {"error": ...} with HTTP 200 already sent.
        if (obj.error !== undefined) {
          streamError = typeof obj.error === 'string' ? obj.error : JSON.stringify(obj.error);
          return;
        }
        const content = contentOf(req.api, obj);
        if (content.length > 0) {
          timings.contentChunkMs.push(atMs);
          if (opts.collectText) text += content;
        }
        if (obj.done === true) {
          timings.doneMs = atMs;
          const final = FinalChunk.safeParse(obj);
          if (!final.success) {
            streamError = `final chunk has bad counters: ${final.error.issues[0]?.message ?? ''}`;
            return;
          }
          counts.evalCount = final.data.eval_count ?? null;
          counts.evalDurationNs = final.data.eval_duration ?? null;
          counts.promptEvalCount = final.data.prompt_eval_count ?? null;
          counts.promptEvalDurationNs = final.data.prompt_eval_duration ?? null;
          counts.loadDurationNs = final.data.load_duration ?? null;
          counts.totalDurationNs = final.data.total_duration ?? null;
          counts.doneReason = final.data.done_reason ?? null;
        }
      };
      await new Promise<void>((resolve, reject) => {
        response.body.on('data', (chunk: Buffer) => {
          const atMs = monotonicMs();
          for (const line of splitter.push(chunk)) handleLine(line, atMs);
          // Stop reading as soon as the answer is decided; the connection goes back to the pool.
          if (streamError !== null) response.body.destroy();
        });
        response.body.on('end', () => {
          const rest = splitter.flush();
          if (rest !== null) handleLine(rest, monotonicMs());
          resolve();
        });
        response.body.on('close', resolve);
        response.body.on('error', (err: Error) => (streamError !== null ? resolve() : reject(err)));
      });
      if (streamError !== null) return fail('stream_error', streamError);
      if (timings.doneMs === null) {
        if (abortedBy !== null)
          return fail(abortedBy, abortedBy === 'timeout' ? 'request timed out' : 'cancelled');
        return fail('stream_error', 'stream ended without a final chunk (done: true)');
      }
      return { ok: true, errorKind: null, errorMessage: null, httpStatus, timings, counts, text };
    } catch (err) {
      if (abortedBy === 'timeout') return fail('timeout', `no complete answer within ${opts.timeoutMs} ms`);
      if (abortedBy === 'cancelled') return fail('cancelled', 'run cancelled');
      const code = errorCode(err);
      if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT')
        return fail('timeout', errorText(err));
      return fail('connection', errorText(err));
    } finally {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onCancel);
      if (ownsWaiter) headerWriteWaiters.delete(requestId);
    }
  }
}

const VersionAnswer = z.object({ version: z.string() });

/** GET /api/version with a short timeout; throws when Ollama does not answer. */
export async function ollamaVersion(
  baseUrl: string,
  dispatcher: Dispatcher,
  timeoutMs = 2000,
): Promise<string> {
  const url = new URL(baseUrl);
  const response = await dispatcher.request({
    origin: url.origin,
    path: `${url.pathname.replace(/\/+$/, '')}/api/version`,
    method: 'GET',
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (response.statusCode !== 200) {
    await response.body.dump();
    throw new Error(`Ollama answered /api/version with HTTP ${response.statusCode}`);
  }
  return VersionAnswer.parse(await response.body.json()).version;
}
