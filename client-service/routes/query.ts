import type { FastifyInstance } from 'fastify';
import { QueryRequest, type QueryResponse } from '../api-schema.js';
import { measuredRequest } from '../engine/records.js';
import { parseInput } from '../http-errors.js';
import { resolveModel } from './model.js';

/** One streamed request, measured like a run's requests; the answer text comes back too. */
export async function queryRoutes(
  app: FastifyInstance,
  opts: { defaultModel: string | undefined },
): Promise<void> {
  app.post('/query', async (request): Promise<QueryResponse> => {
    const body = parseInput(QueryRequest, request.body, 'body');
    const model = resolveModel(body.model, opts.defaultModel);
    const { outcome, scheduledMs, startedAtWallMs } = await app.ollama.query({ ...body, model });
    const m = measuredRequest(
      {
        runId: 'query',
        index: 0,
        clientId: 0,
        stage: 1,
        repeat: 1,
        warmup: false,
        originMs: scheduledMs,
        scheduledStartMs: scheduledMs,
        startedAtWallMs,
      },
      outcome,
    );
    app.serviceMetrics.observe(m.record);
    return { response: outcome.text, record: m.record };
  });
}
