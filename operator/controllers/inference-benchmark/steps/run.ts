import {
  type RunEnvironment,
  type RunStatus,
  StartRunRequest,
} from '../../../../client-service/api-schema.js';
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
import { recordClientEnvironment, recordClientServiceVersion } from '../environment.js';
import { roundNumbers } from '../round-numbers.js';
import { clientToken } from './client.js';
import {
  describeSaturation,
  judgeSlo,
  reportsStages,
  type SloVerdict,
  StagesFileSlo,
  saturationDisplay,
  saturationForStatus,
  stagesForStatus,
} from './sweep-status.js';

/** Starts the run (idempotent id), mirrors progress, copies the summary into status.results when done. */
export async function ensureRun(ctx: RunContext): Promise<StepOutcome> {
  const type = BenchmarkConditionType.BenchmarkComplete;
  const { clock } = ctx.services;
  const session = requireSession(ctx);
  const token = await clientToken(ctx);
  const base = `http://${ctx.endpoints.client}`;
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const environment = await recordClientEnvironment(ctx);
  let response = await session.fetch(`${base}/runs/${ctx.run.runId}`, { headers, timeoutMs: 15_000 });
  if (response.status === 404) {
    await response.body?.cancel();
    response = await session.fetch(`${base}/runs`, {
      method: 'POST',
      headers,
      body: JSON.stringify(startRunRequest(ctx, environment)),
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
  recordClientServiceVersion(ctx, run.environment);
  const total = run.progress.total ?? ctx.spec.workload.clients * ctx.spec.workload.requestsPerClient;
  const progressText = progressDisplay(run, total);
  ctx.draft.status.progress = {
    completedRequests: run.progress.completed,
    failedRequests: run.summary.counts.failed,
    totalRequests: total,
    display: progressText,
  };
  const started = Date.parse(run.startedAt);
  if (Number.isFinite(started)) ctx.draft.status.startTime ??= toKubeTime(started);
  // Computed afresh from this run (a new generation may have dropped its sweep or SLO).
  if (ctx.draft.status.display) delete ctx.draft.status.display.saturation;
  if (reportsStages(ctx.spec)) mirrorStages(ctx, run);
  if (run.state === 'running') {
    ctx.draft.phase(BenchmarkPhase.Running);
    ctx.draft.set(
      type,
      'False',
      ConditionReason.RunInProgress,
      `run ${run.id}: ${progressText}${progressText.endsWith('requests') ? '' : ' requests'}`,
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
    if (ctx.spec.slo)
      setSloMet(ctx, { status: 'False', reason: verdict.reason, message: 'not judged: the run failed' });
    ctx.draft.fail(type, verdict.reason, verdict.message);
    return halt();
  }
  const slo = ctx.spec.slo
    ? judgeSlo(ctx.spec.slo, ctx.draft.status.stages ?? [], await readStagesFile(ctx, run))
    : undefined;
  const message = completeMessage(ctx, run, verdict.message, slo);
  if (slo) setSloMet(ctx, slo);
  if (slo?.status === 'False' && ctx.spec.slo?.failBenchmark) {
    ctx.draft.fail(
      type,
      ConditionReason.SLONotMet,
      `${slo.message}; spec.slo.failBenchmark is true (${message})`,
    );
    return halt();
  }
  ctx.draft.set(type, 'True', ConditionReason.RunSucceeded, message);
  ctx.draft.ready('True', ConditionReason.RunSucceeded, message);
  ctx.draft.phase(BenchmarkPhase.Succeeded);
  return halt();
}

/**
 * `120/400` for a one-level run, as before; with a sweep or repeats the client service's own words, which name
 * the stage: `stage 3/6, 120/400 requests` (with `(repeat 2/3)` when repeating).
 */
function progressDisplay(run: RunStatus, total: number): string {
  const { stages, repeats, display } = run.progress;
  if (stages <= 1 && repeats <= 1) return formatProgress(run.progress.completed, total);
  return display.slice(0, 64);
}

/** status.stages (the finished levels while the run goes) and, once it ended, status.saturation. */
function mirrorStages(ctx: RunContext, run: RunStatus): void {
  const stages = stagesForStatus(run);
  if (stages) ctx.draft.status.stages = stages;
  if (run.state === 'running') return;
  const saturation = saturationForStatus(run);
  if (saturation) ctx.draft.status.saturation = saturation;
  const shown = saturationDisplay(ctx.spec, saturation);
  if (shown) ctx.draft.status.display = { ...ctx.draft.status.display, saturation: shown };
}

/** BenchmarkComplete's message: the verdict, the sweep's shape, the SLO and the warnings (CV > 5 %). */
function completeMessage(
  ctx: RunContext,
  run: RunStatus,
  verdict: string,
  slo: SloVerdict | undefined,
): string {
  const parts = [verdict];
  if (ctx.spec.workload.sweep)
    parts.push(describeSaturation(ctx.draft.status.stages ?? [], ctx.draft.status.saturation));
  if (slo) parts.push(`SLO ${slo.status === 'True' ? 'met' : 'not met'}: ${slo.message}`);
  if (run.warnings.length > 0) parts.push(`warnings: ${run.warnings.join('; ')}`);
  return parts.join('; ');
}

function setSloMet(ctx: RunContext, verdict: SloVerdict): void {
  ctx.draft.set(BenchmarkConditionType.SLOMet, verdict.status, verdict.reason, verdict.message);
}

/**
 * The SLO part of the run's stages.json (the percentile of each metric, the violation counts): the compact
 * stages carry only p50/p90/p99. Best effort: without it the message names the threshold with what the
 * stages have.
 */
async function readStagesFile(ctx: RunContext, run: RunStatus): Promise<StagesFileSlo | undefined> {
  if (!run.outputDir || !ctx.session) return undefined;
  try {
    const text = await ctx.session.files.readFileIfExists(`${run.outputDir}/stages.json`);
    if (text === null) return undefined;
    const parsed = StagesFileSlo.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch (error) {
    ctx.log.warn(
      { err: error instanceof Error ? error.message : String(error) },
      'could not read stages.json',
    );
    return undefined;
  }
}

function startRunRequest(ctx: RunContext, environment: RunEnvironment | undefined): StartRunRequest {
  const w = ctx.spec.workload;
  return StartRunRequest.parse({
    id: ctx.run.runId,
    model: ctx.spec.model.name,
    benchmark: ctx.name,
    ...serverProtocol(ctx.spec.server),
    workload: {
      clients: w.clients,
      requestsPerClient: w.requestsPerClient,
      ...promptSource(ctx),
      maxTokens: w.maxTokens,
      ...(w.temperature !== undefined ? { temperature: w.temperature } : {}),
      ...(w.seed !== undefined ? { seed: w.seed } : {}),
      warmupRequests: w.warmupRequests,
      requestTimeoutSeconds: w.requestTimeoutSeconds,
      mode: w.mode,
      ...(w.ratePerSecond !== undefined ? { ratePerSecond: w.ratePerSecond } : {}),
      ...(w.maxConcurrency !== undefined ? { maxConcurrency: w.maxConcurrency } : {}),
      ...(w.sweep !== undefined ? { sweep: w.sweep } : {}),
      ...(w.repeat !== undefined ? { repeat: w.repeat } : {}),
    },
    ...(ctx.spec.slo !== undefined ? { slo: clientSlo(ctx.spec.slo) } : {}),
    ...(environment !== undefined ? { environment } : {}),
  });
}

/** The prompts: the dataset's normalized file (steps/dataset.ts), the spec's prompts or prompt, or the default. */
function promptSource(ctx: RunContext): { promptsFile: string } | { prompts: string[] } | { prompt: string } {
  const w = ctx.spec.workload;
  if (w.dataset) {
    const path = ctx.draft.status.dataset?.path;
    if (!path) throw new Error('internal: the run starts before its dataset was uploaded');
    return { promptsFile: path };
  }
  return w.prompts ? { prompts: w.prompts } : { prompt: w.prompt ?? DEFAULT_PROMPT };
}

/** The thresholds and how a level is judged go to the client service; which level counts is the operator's. */
function clientSlo(slo: NonNullable<InferenceBenchmarkSpec['slo']>): StartRunRequest['slo'] {
  const { level: _level, failBenchmark: _failBenchmark, ...judged } = slo;
  return judged;
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
