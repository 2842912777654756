import { z } from 'zod';
import { ConnectionPool, requestText } from './connection-pool.js';
import { StreamRequest } from './stream-request.js';
import {
  type GenerationRequest,
  requestBody,
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

/**
 * Streams generations from Ollama and measures them. generate() never rejects: every failure becomes an
 * outcome with an error kind (timeout, http_status, stream_error, connection, or cancelled).
 *
 * "Sent" is when the request is written onto its connection, not when it was asked for: waiting for a
 * free connection is the generator's own lag (reported as start lag), not the server's TTFT. Each chunk
 * is stamped when its bytes are read, before it is parsed (StreamRequest, Http1Connection).
 */
export class OllamaStreamClient {
  private readonly basePath: string;
  private readonly inFlight = new Set<StreamRequest>();

  constructor(
    baseUrl: string,
    private readonly pool: ConnectionPool,
  ) {
    this.basePath = basePathOf(baseUrl);
  }

  generate(req: GenerationRequest, opts: StreamOptions): Promise<StreamOutcome> {
    return new Promise<StreamOutcome>((resolve) => {
      const signal = opts.signal;
      const onAbort = (): void => request.abort('cancelled');
      const request = new StreamRequest(
        this.pool,
        {
          method: 'POST',
          path: `${this.basePath}/api/${req.api}`,
          headers: {
            'content-type': 'application/json',
            // Unique per process: runs use `<runId>-<index>`, anything else gets a counter.
            'x-request-id': req.requestId ?? `ibo-${process.pid}-${++requestCounter}`,
          },
          body: requestBody(req),
        },
        req.api,
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
