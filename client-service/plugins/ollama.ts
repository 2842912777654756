import type { QueryRequest } from '../api-schema.js';
import { monotonicMs } from '../clock.js';
import type { ConnectionPool } from '../ollama/connection-pool.js';
import {
  answersOpenAiModels,
  createConnectionPool,
  ollamaVersion,
  StreamClient,
  type StreamOutcome,
} from '../ollama/stream-client.js';
import { definePlugin } from './define-plugin.js';

/** The Ollama the service talks to, for /health and single /query requests (runs have their own pools). */
export class OllamaService {
  private readonly pool: ConnectionPool;
  private readonly client: StreamClient;

  constructor(readonly url: string) {
    this.pool = createConnectionPool(url, null);
    this.client = new StreamClient(url, this.pool);
  }

  version(): Promise<string> {
    return ollamaVersion(this.url, this.pool);
  }

  /** An OpenAI-compatible server (no /api/version) still counts as reachable when /v1/models answers. */
  answersOpenAi(): Promise<boolean> {
    return answersOpenAiModels(this.url, this.pool).catch(() => false);
  }

  query(
    request: QueryRequest & { model: string },
  ): Promise<{ outcome: StreamOutcome; scheduledMs: number; startedAtWallMs: number }> {
    const startedAtWallMs = Date.now();
    const scheduledMs = monotonicMs();
    return this.client
      .generate(request, { timeoutMs: request.requestTimeoutSeconds * 1000, collectText: true })
      .then((outcome) => ({ outcome, scheduledMs, startedAtWallMs }));
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    ollama: OllamaService;
  }
}

export const ollamaPlugin = definePlugin<{ url: string }>('ollama', [], async (app, options) => {
  const service = new OllamaService(options.url);
  app.decorate('ollama', service);
  app.addHook('onClose', () => service.close());
});
