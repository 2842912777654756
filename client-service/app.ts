import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import type { ErrorResponse } from './api-schema.js';
import type { Config } from './config.js';
import { HttpError } from './http-errors.js';
import { authPlugin } from './plugins/auth.js';
import { ollamaPlugin } from './plugins/ollama.js';
import { runsPlugin } from './plugins/runs.js';
import { serviceMetricsPlugin } from './plugins/service-metrics.js';
import { healthRoutes } from './routes/health.js';
import { legacyBenchmarkRoutes } from './routes/legacy-benchmark.js';
import { metricsRoutes } from './routes/metrics.js';
import { queryRoutes } from './routes/query.js';
import { runRoutes } from './routes/runs.js';

/** Fastify's own 4xx codes that concern the body, so the 400 can name the field. */
const BODY_ERROR_CODES = new Set([
  'FST_ERR_CTP_INVALID_JSON_BODY',
  'FST_ERR_CTP_EMPTY_JSON_BODY',
  'FST_ERR_CTP_BODY_TOO_LARGE',
  'FST_ERR_CTP_INVALID_MEDIA_TYPE',
]);

/**
 * Builds the service without listening (tests use app.inject). Layers: infrastructure (metrics, auth),
 * services (Ollama, runs), then routes.
 */
export async function buildApp(config: Config): Promise<FastifyInstance> {
  const app = Fastify({
    logger: { level: config.logLevel, redact: ['req.headers.authorization'] },
    bodyLimit: 8 * 1024 * 1024,
    // Run ids and models go in URLs; nothing here needs case-insensitive routing.
    routerOptions: { ignoreTrailingSlash: true },
  });

  app.setErrorHandler((err: FastifyError | HttpError, request, reply) => {
    if (err instanceof HttpError) {
      const body: ErrorResponse = { error: err.reason, message: err.message };
      if (err.field !== undefined) body.field = err.field;
      return reply.code(err.statusCode).send(body);
    }
    const status = err.statusCode ?? 500;
    if (status < 500) {
      const body: ErrorResponse = { error: err.code ?? 'BadRequest', message: err.message };
      if (BODY_ERROR_CODES.has(err.code ?? '')) body.field = 'body';
      return reply.code(status).send(body);
    }
    request.log.error({ err, route: request.routeOptions.url }, 'request failed');
    return reply.code(500).send({ error: 'InternalError', message: 'internal error; see the service log' });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ error: 'NotFound', message: `no route ${request.method} ${request.url}` }),
  );

  await app.register(serviceMetricsPlugin);
  await app.register(authPlugin, { token: config.token, metricsToken: config.metricsToken });
  await app.register(ollamaPlugin, { url: config.ollamaUrl });
  await app.register(runsPlugin, { config });

  const routeOptions = { defaultModel: config.model };
  await app.register(healthRoutes);
  await app.register(metricsRoutes);
  await app.register(queryRoutes, routeOptions);
  await app.register(legacyBenchmarkRoutes, routeOptions);
  await app.register(runRoutes, routeOptions);
  return app;
}
