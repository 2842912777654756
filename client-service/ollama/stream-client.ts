import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { OpenAiApi } from '../api-schema.js';
import { openAiAnswerReaders, openAiPath, openAiRequestBody } from '../openai/openai-answer-reader.js';
import type { SseParserFactory } from '../openai/sse-parser.js';
import { ollamaAnswerReader } from './answer-reader.js';
import { ConnectionPool, requestText } from './connection-pool.js';
import { StreamRequest } from './stream-request.js';
import {
  type AnswerReaderFactory,
  type GenerationRequest,
  ollamaRequestBody,
  type StreamOptions,
  type StreamOutcome,
} from './stream-types.js';

export type { FinalChunkCounts, GenerationRequest, StreamOptions, StreamOutcome } from './stream-types.js';

let requestCounter = 0;

/** The path Ollama's API hangs under ('' for http://host:11434, '/ollama' behind a prefix). */
function basePathOf(baseUrl: string): string {
  return new URL(baseUrl).pathname.replace(/\/+$/, '');
}

/**
 * A keep-alive pool with exactly as many connections as requests may be in flight: no hidden cap.
 * `null` means unbounded (an open loop without a concurrency limit).
 */
export function createConnectionPool(baseUrl: string, concurrency: number | null): ConnectionPool {
  return new ConnectionPool(new URL(baseUrl), { connections: concurrency, keepAliveMs: 30_000 });
}

export interface StreamClientOptions {
  /** How OpenAI answers are split into server-sent events; eventsource-parser unless a bench compares. */
  sseParser?: SseParserFactory;
}

/** Where one request goes, what it says, and who reads its answer. */
interface Exchange {
  path: string;
  body: string;
  reader: AnswerReaderFactory;
}

/**
 * Streams generations and measures them, from Ollama (NDJSON) or an OpenAI-compatible server (SSE), over
 * the same connections and the same stamped reads. generate() never rejects: every failure becomes an
 * outcome with an error kind (timeout, http_status, stream_error, connection, or cancelled).
 *
 * "Sent" is when the request is written onto its connection, not when it was asked for: waiting for a
 * free connection is the generator's own lag (reported as start lag), not the server's TTFT. Each chunk
 * is stamped when its bytes are read, before it is parsed (StreamRequest, Http1Connection).
 */
export class StreamClient {
  private readonly basePath: string;
  private readonly inFlight = new Set<StreamRequest>();
  private readonly openAiReaders: Record<OpenAiApi, AnswerReaderFactory>;

  constructor(
    baseUrl: string,
    private readonly pool: ConnectionPool,
    options: StreamClientOptions = {},
  ) {
    this.basePath = basePathOf(baseUrl);
    this.openAiReaders = openAiAnswerReaders(options.sseParser);
  }

  private exchange(req: GenerationRequest): Exchange {
    if (req.protocol === 'openai') {
      const api = req.openaiApi ?? 'completions';
      return {
        path: `${this.basePath}${openAiPath(api)}`,
        body: openAiRequestBody(req),
        reader: this.openAiReaders[api],
      };
    }
    const api = req.api ?? 'generate';
    return {
      path: `${this.basePath}/api/${api}`,
      body: ollamaRequestBody(req),
      reader: ollamaAnswerReader(api),
    };
  }

  generate(req: GenerationRequest, opts: StreamOptions): Promise<StreamOutcome> {
    const exchange = this.exchange(req);
    return new Promise<StreamOutcome>((resolve) => {
      const signal = opts.signal;
      const onAbort = (): void => request.abort('cancelled');
      const request = new StreamRequest(
        this.pool,
        {
          method: 'POST',
          path: exchange.path,
          headers: {
            'content-type': 'application/json',
            // Unique per process: runs use `<runId>-<index>`, anything else gets a counter.
            ...requestIdHeaders(req.protocol, req.requestId ?? `ibo-${process.pid}-${++requestCounter}`),
          },
          body: exchange.body,
        },
        exchange.reader,
        opts.collectText ?? false,
        opts.timeoutMs,
        (settled, outcome) => {
          this.inFlight.delete(settled);
          signal?.removeEventListener('abort', onAbort);
          resolve(outcome);
        },
      );
      this.inFlight.add(request);
      if (signal?.aborted) {
        request.abort('cancelled');
        return;
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      request.start();
    });
  }

  /** Cancels every request in flight at once (a run being cancelled); each ends as `cancelled`. */
  cancelAll(): void {
    for (const request of [...this.inFlight]) request.abort('cancelled');
  }
}

const VersionAnswer = z.object({ version: z.string() });

/** GET /api/version with a short timeout; throws when Ollama does not answer. */
/**
 * Whether the server answers the OpenAI-compatible `/v1/models` (vLLM, SGLang, llama.cpp, and Ollama too):
 * how /health tells a reachable server that has no Ollama `/api/version`.
 */
export async function answersOpenAiModels(
  baseUrl: string,
  pool: ConnectionPool,
  timeoutMs = 2000,
): Promise<boolean> {
  const path = `${basePathOf(baseUrl)}/v1/models`;
  const answer = await requestText(pool, { method: 'GET', path }, AbortSignal.timeout(timeoutMs));
  return answer.status === 200;
}

/**
 * The request's id, in headers: `x-ibo-request-id` always carries it as it is (what the project's own
 * instruments match on), and `x-request-id` carries it for the server's logs. Ollama takes any text there;
 * OpenAI-compatible servers may insist on a UUID: llama-cpp-python answers 400 to anything else
 * (starlette-context validates it), and vLLM uses the header as its own request id. For them it is a UUID
 * derived from the id (SHA-1, shaped as version 5), so a request can still be found in the server's log.
 */
export function requestIdHeaders(
  protocol: GenerationRequest['protocol'],
  id: string,
): { 'x-ibo-request-id': string; 'x-request-id': string } {
  return { 'x-ibo-request-id': id, 'x-request-id': requestIdHeader(protocol, id) };
}

export function requestIdHeader(protocol: GenerationRequest['protocol'], id: string): string {
  if (protocol !== 'openai') return id;
  const hex = createHash('sha1').update(id).digest('hex');
  const variant = ((Number.parseInt(hex.slice(16, 17), 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export async function ollamaVersion(
  baseUrl: string,
  pool: ConnectionPool,
  timeoutMs = 2000,
): Promise<string> {
  const path = `${basePathOf(baseUrl)}/api/version`;
  const answer = await requestText(pool, { method: 'GET', path }, AbortSignal.timeout(timeoutMs));
  if (answer.status !== 200) throw new Error(`Ollama answered /api/version with HTTP ${answer.status}`);
  return VersionAnswer.parse(JSON.parse(answer.body)).version;
}
