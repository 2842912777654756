import type { FastifyInstance } from 'fastify';
import type { HealthResponse } from '../api-schema.js';

export const SERVICE_VERSION = '0.1.0';

/**
 * Always 200 while the service runs; `status` says whether the inference server answers too: Ollama's
 * /api/version, or for an OpenAI-compatible server (vLLM, SGLang, llama.cpp) its /v1/models, whose
 * version is then unknown (null).
 */
export async function healthRoutes(app: FastifyInstance): Promise<void> {
  app.get('/health', async (): Promise<HealthResponse> => {
    try {
      const version = await app.ollama.version();
      return {
        status: 'ok',
        version: SERVICE_VERSION,
        ollama: { url: app.ollama.url, reachable: true, version, error: null },
      };
    } catch (err) {
      if (await app.ollama.answersOpenAi())
        return {
          status: 'ok',
          version: SERVICE_VERSION,
          ollama: { url: app.ollama.url, reachable: true, version: null, error: null },
        };
      return {
        status: 'degraded',
        version: SERVICE_VERSION,
        ollama: { url: app.ollama.url, reachable: false, version: null, error: (err as Error).message },
      };
    }
  });
}
