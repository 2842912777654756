import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { LegacyBenchmarkRequest, type RunSummary } from '../api-schema.js';
import { parseInput } from '../http-errors.js';
import { resolveModel } from './model.js';

/**
 * The old Flask app's synchronous POST /benchmark, kept for callers that still use it. It now runs the
 * same engine (streaming, no worker cap) and answers with the old per-request fields plus the summary.
 */
export async function legacyBenchmarkRoutes(
  app: FastifyInstance,
  opts: { defaultModel: string | undefined },
): Promise<void> {
  app.post('/benchmark', async (request, reply) => {
    const body = parseInput(LegacyBenchmarkRequest, request.body, 'body');
    const model = resolveModel(body.model, opts.defaultModel);
    const { run } = app.runs.start({
      id: `legacy-${randomUUID()}`,
      model,
      protocol: 'ollama',
      api: 'generate',
      openaiApi: 'completions',
      workload: {
        clients: body.n_clients,
        requestsPerClient: body.n_requests_per_client,
        prompt: body.prompt,
        maxTokens: body.max_tokens,
        warmupRequests: 0,
        requestTimeoutSeconds: body.timeout,
        mode: 'closed',
        repeat: 1,
      },
    });
    app.serviceMetrics.runsStarted.inc();
    // A client that hangs up cancels the run, as the old synchronous call would have stopped.
    reply.raw.on('close', () => {
      if (!reply.raw.writableFinished) run.cancel();
    });
    await run.done;
    const status = run.status();
    const results = run.records().map(({ record: r }) => ({
      client_id: r.clientId,
      request_id: r.index,
      success: r.ok,
      error: r.errorMessage,
      eval_count: r.evalCount,
      duration: r.e2eMs === null ? null : r.e2eMs / 1000,
      ttft: r.ttftMs === null ? null : r.ttftMs / 1000,
      tokens_per_second: r.clientTps,
    }));
    const summary: RunSummary = status.summary;
    return {
      run_id: run.id,
      model,
      n_clients: body.n_clients,
      n_requests_per_client: body.n_requests_per_client,
      total_time: summary.wallTimeSeconds,
      avg_tokens_per_second: summary.clientTps.mean,
      results,
      summary,
    };
  });
}
