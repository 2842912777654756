import type { FastifyInstance } from 'fastify';

export async function metricsRoutes(app: FastifyInstance): Promise<void> {
  app.get('/metrics', async (_request, reply) => {
    reply.type(app.serviceMetrics.registry.contentType);
    return app.serviceMetrics.registry.metrics();
  });
}
