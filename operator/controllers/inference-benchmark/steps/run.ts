import { type RunStatus, StartRunRequest } from '../../../../client-service/api-schema.js';
import {
  BenchmarkConditionType,
  BenchmarkPhase,
  BenchmarkResults,
  ConditionReason,
  DEFAULT_PROMPT,
  formatProgress,
  type InferenceBenchmarkSpec,
} from '../../../../crds/index.js';
import { engineFor } from '../../../../slurm-bridge/index.js';
import { toKubeTime } from '../../../runtime/conditions.js';
import { halt, RUN_POLL_MS, type RunContext, requireSession, type StepOutcome } from '../context.js';
import { roundNumbers } from '../round-numbers.js';
import { clientToken } from './client.js';

/** Starts the run (idempotent id), mirrors progress, copies the summary into status.results when done. */
export async function ensureRun(ctx: RunContext): Promise<StepOutcome> {
  const type = BenchmarkConditionType.BenchmarkComplete;
  const { clock } = ctx.services;
  const session = requireSession(ctx);
  const token = await clientToken(ctx);
  const base = `http://${ctx.endpoints.client}`;
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  let response = await session.fetch(`${base}/runs/${ctx.run.runId}`, { headers, timeoutMs: 15_000 });
  if (response.status === 404) {
    await response.body?.cancel();
    response = await session.fetch(`${base}/runs`, {
      method: 'POST',
      headers,
      body: JSON.stringify(startRunRequest(ctx)),
      timeoutMs: 15_000,
    });
    if (response.status === 201) ctx.log.info({ runId: ctx.run.runId }, 'run started');
  }
  if (!response.ok) {
    const text = (await response.text()).slice(0, 1000);
    if (response.status === 400 || response.status === 409) {
      ctx.draft.fail(
        type,
        ConditionReason.RunFailed,
        `the client-service refused the run (${response.status}): ${text}`,
      );
      return halt();
    }
    throw new Error(`client-service answered ${response.status}: ${text}`);
  }
  const run = (await response.json()) as RunStatus;
  const total = run.progress.total ?? ctx.spec.workload.clients * ctx.spec.workload.requestsPerClient;
  ctx.draft.status.progress = {
    completedRequests: run.progress.completed,
    failedRequests: run.summary.counts.failed,
    totalRequests: total,
    display: formatProgress(run.progress.completed, total),
  };
  const started = Date.parse(run.startedAt);
  if (Number.isFinite(started)) ctx.draft.status.startTime ??= toKubeTime(started);
  if (run.state === 'running') {
    ctx.draft.phase(BenchmarkPhase.Running);
    ctx.draft.set(
      type,
      'False',
      ConditionReason.RunInProgress,
      `run ${run.id}: ${formatProgress(run.progress.completed, total)} requests`,
    );
    ctx.draft.ready('False', ConditionReason.RunInProgress, 'the benchmark is running');
    return halt(RUN_POLL_MS);
  }
  // Whatever the outcome, the figures of a finished run are kept: a failed run's error kinds are its story.
  const results = BenchmarkResults.safeParse(run.summary);
  if (results.success) ctx.draft.status.results = roundNumbers(results.data);
  const finished = run.finishedAt ? Date.parse(run.finishedAt) : clock.now();
  ctx.draft.status.completionTime = toKubeTime(Number.isFinite(finished) ? finished : clock.now());
  const verdict = judgeRun(run, results.success ? results.data : undefined, ctx.spec.workload.maxErrorRate);
  if (!verdict.succeeded) {
    ctx.draft.fail(type, verdict.reason, verdict.message);
    return halt();
  }
  ctx.draft.set(type, 'True', ConditionReason.RunSucceeded, verdict.message);
  ctx.draft.ready('True', ConditionReason.RunSucceeded, verdict.message);
  ctx.draft.phase(BenchmarkPhase.Succeeded);
  return halt();
}

function startRunRequest(ctx: RunContext): StartRunRequest {
  const w = ctx.spec.workload;
  return StartRunRequest.parse({
    id: ctx.run.runId,
    model: ctx.spec.model.name,
    benchmark: ctx.name,
    ...serverProtocol(ctx.spec.server),
    workload: {
      clients: w.clients,
      requestsPerClient: w.requestsPerClient,
      ...(w.prompts ? { prompts: w.prompts } : { prompt: w.prompt ?? DEFAULT_PROMPT }),
      maxTokens: w.maxTokens,
      ...(w.temperature !== undefined ? { temperature: w.temperature } : {}),
      ...(w.seed !== undefined ? { seed: w.seed } : {}),
      warmupRequests: w.warmupRequests,
      requestTimeoutSeconds: w.requestTimeoutSeconds,
      mode: w.mode,
      ...(w.ratePerSecond !== undefined ? { ratePerSecond: w.ratePerSecond } : {}),
      ...(w.maxConcurrency !== undefined ? { maxConcurrency: w.maxConcurrency } : {}),
    },
  });
}

/**
 * The protocol the client service speaks to the server: the spec's, else the engine's first (Ollama's
 * native API for ollama, OpenAI's for the others); openaiApi only goes with openai.
 */
export function serverProtocol(server: InferenceBenchmarkSpec['server']): {
  protocol: 'ollama' | 'openai';
  openaiApi?: 'completions' | 'chat';
} {
  const protocol = server.protocol ?? engineFor(server.engine).protocols[0] ?? 'openai';
  return protocol === 'openai' ? { protocol, openaiApi: server.openaiApi ?? 'completions' } : { protocol };
}

export type RunVerdict =
  | { succeeded: true; message: string }
  | { succeeded: false; reason: ConditionReason; message: string };

/**
 * Succeeded, or why not (docs/architecture.md#the-end-of-a-run). A run counts as Succeeded when the client
 * service finished it, at least one measured request succeeded, and the share of failed ones is at most
 * workload.maxErrorRate. The message counts the failures by kind either way.
 */
export function judgeRun(
  run: Pick<RunStatus, 'id' | 'state' | 'message'>,
  results: BenchmarkResults | undefined,
  maxErrorRate: number,
): RunVerdict {
  const errors = results ? describeErrors(results) : '';
  if (run.state !== 'succeeded')
    return {
      succeeded: false,
      reason: ConditionReason.RunFailed,
      message: `run ${run.id} ${run.state}: ${run.message ?? 'no message'}${errors ? ` (${errors})` : ''}`,
    };
  if (!results)
    return {
      succeeded: false,
      reason: ConditionReason.RunFailed,
      message: `run ${run.id}: its summary does not match the API`,
    };
  const { requests, succeeded, failed } = results.counts;
  if (requests > 0 && succeeded === 0)
    return {
      succeeded: false,
      reason: ConditionReason.RunFailed,
      message: `run ${run.id}: every measured request failed (${errors})`,
    };
  const tps = results.outputTokensPerSecond;
  const summary = `${succeeded}/${requests} requests succeeded${tps !== null ? `, ${tps.toFixed(1)} output tokens/s` : ''}`;
  if (requests > 0 && failed / requests > maxErrorRate)
    return {
      succeeded: false,
      reason: ConditionReason.TooManyErrors,
      message: `run ${run.id}: ${summary}; ${failed} failed (${errors}), more than workload.maxErrorRate ${maxErrorRate}`,
    };
  return { succeeded: true, message: failed > 0 ? `${summary}; ${failed} failed (${errors})` : summary };
}

function describeErrors(results: BenchmarkResults): string {
  return Object.entries(results.errors)
    .filter(([, count]) => count > 0)
    .map(([kind, count]) => `${count} ${kind}`)
    .join(', ');
}
