import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { RecordsFormat, RunId, type RunStatus, StartRunRequest } from '../api-schema.js';
import type { BenchmarkRun } from '../engine/benchmark-run.js';
import { csvHeader, csvRow, jsonlRow } from '../engine/records.js';
import { RunConflictError } from '../engine/run-manager.js';
import { HttpError, parseInput } from '../http-errors.js';
import { resolveModel } from './model.js';

const RunParams = z.object({ id: RunId });
const RecordsQuery = z.object({ format: RecordsFormat.optional() });

export async function runRoutes(
  app: FastifyInstance,
  opts: { defaultModel: string | undefined },
): Promise<void> {
  const findRun = (params: unknown): BenchmarkRun => {
    const { id } = parseInput(RunParams, params, 'params');
    const run = app.runs.get(id);
    if (run === undefined) throw new HttpError(404, 'NotFound', `no run ${id}`);
    return run;
  };

  /** 201 for a new run, 200 when this id already runs (idempotent), 409 when the id has another body. */
  app.post('/runs', async (request, reply): Promise<RunStatus> => {
    const body = parseInput(StartRunRequest, request.body, 'body');
    const model = resolveModel(body.model, opts.defaultModel);
    try {
      const { run, created } = app.runs.start({ ...body, model });
      if (created) app.serviceMetrics.runsStarted.inc();
      reply.code(created ? 201 : 200);
      return run.status();
    } catch (err) {
      if (err instanceof RunConflictError) throw new HttpError(409, 'Conflict', err.message, 'body.id');
      throw err;
    }
  });

  app.get('/runs', async () => ({ runs: app.runs.list().map((r) => r.status()) }));

  app.get('/runs/:id', async (request): Promise<RunStatus> => findRun(request.params).status());

  /** Per-request records; JSONL unless ?format=csv or Accept: text/csv. */
  app.get('/runs/:id/requests', async (request, reply) => {
    const { format } = parseInput(RecordsQuery, request.query, 'query');
    const run = findRun(request.params);
    const csv =
      format === 'csv' || (format === undefined && (request.headers.accept ?? '').includes('text/csv'));
    const records = run.records().map((m) => m.record);
    if (csv) {
      reply.type('text/csv; charset=utf-8');
      return csvHeader() + records.map(csvRow).join('');
    }
    reply.type('application/x-ndjson');
    return records.map(jsonlRow).join('');
  });

  /** Cancels at once: requests in flight are aborted, nothing new is sent. Answers when the run stopped. */
  app.delete('/runs/:id', async (request): Promise<RunStatus> => {
    const run = findRun(request.params);
    run.cancel();
    await run.done;
    return run.status();
  });
}
