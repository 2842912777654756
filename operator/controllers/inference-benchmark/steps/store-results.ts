import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { createInterface } from 'node:readline';
import { finished } from 'node:stream/promises';
import {
  API_VERSION,
  type EnvironmentEntries,
  INFERENCE_BENCHMARK_KIND,
  LIVE_LOGS_INTERVAL_MS,
  LOG_TAIL_BYTES,
  MAX_SAMPLES,
  peakClients,
  RESULTS_COMPONENT,
  RESULTS_LABELS,
  type ResultsLogRole,
  resultsConfigMapName,
  SAMPLE_METRICS,
  type SamplesIndex,
} from '../../../../crds/index.js';
import { isTerminal } from '../../../../slurm-bridge/index.js';
import { monitoringLogPath } from '../../../../slurm-bridge/monitoring/layout.js';
import { parseJobState } from '../../../../slurm-bridge/slurm/states.js';
import type { ClusterSession } from '../../../cluster/types.js';
import { toKubeTime } from '../../../runtime/conditions.js';
import { halt, type RunContext, SETTLED_CHECK_MS, type StepOutcome } from '../context.js';
import { displayOf } from '../display.js';
import { isFinalEntry } from '../job-status.js';
import {
  buildResultsPayload,
  type LogTail,
  ReservoirSampler,
  type ResultsContent,
  sampleRowOf,
  seedOf,
} from '../results-content.js';
import { jobLogPath, type RunPaths, runPaths } from '../run-identity.js';
import { monitoringSwitchedOffBy } from './monitoring.js';
import { clusterLookup } from './resolve-session.js';

/**
 * The results ConfigMap of a run (format: crds/results-configmap.ts; README "Results, reports and comparisons").
 *
 * - `refreshLiveLogs`, a pipeline step after resolveSession: while a run goes, its jobs' log tails, written at
 *   most every LIVE_LOGS_INTERVAL_MS, so `kubectl hpcbench logs -f` can follow without SSH.
 * - `storeResults`, called by settleRun once the end is persisted and every job reached its final state (so
 *   the logs are whole and the records closed): the summary, a sample of the per-request records, the
 *   environment and the final log tails. It returns settleRun's outcome: done, or look again later when the
 *   cluster or the apiserver failed, without ever holding up the cancel or the freed place before it.
 */

/** When the live tails of a run were last written: a cache (a restart writes once more, sooner). */
const lastLiveWrite = new Map<string, number>();
const MAX_REMEMBERED_RUNS = 1024;

export async function refreshLiveLogs(ctx: RunContext): Promise<StepOutcome> {
  const writer = ctx.services.resultsConfigMaps;
  const { session, paths } = ctx;
  const jobs = ctx.draft.status.slurmJobs ?? [];
  if (!writer || !session || !paths || jobs.length === 0) return undefined;
  const now = ctx.services.clock.now();
  const last = lastLiveWrite.get(ctx.run.runId);
  if (last !== undefined && now - last < LIVE_LOGS_INTERVAL_MS) return undefined;
  remember(ctx.run.runId, now);
  try {
    const content: ResultsContent = {
      environment: environmentOf(ctx, session),
      logs: await readTails(ctx, session, paths),
    };
    await write(ctx, paths, content, false);
  } catch (error) {
    // Live tails are a convenience: a failure costs the user a stale tail, never the run.
    ctx.log.warn({ err: errorText(error) }, 'could not refresh the log tails in the results ConfigMap');
  }
  return undefined;
}

export async function storeResults(ctx: RunContext): Promise<StepOutcome> {
  const display = displayOf(ctx.draft.status.results);
  // Merged: ensureRun's Knee/SLO text (display.saturation) stays beside the results' figures.
  if (display) ctx.draft.status.display = { ...ctx.draft.status.display, ...display };
  const writer = ctx.services.resultsConfigMaps;
  const name = configMapName(ctx);
  const stored = ctx.draft.status.resultsStore;
  if (!writer || (stored?.complete && stored.configMap === name)) return halt();
  const lookup = clusterLookup(ctx);
  if (!lookup.ok) return halt(SETTLED_CHECK_MS);
  const session = lookup.session;
  const paths = runPaths(session.workDir, ctx.namespace, ctx.name, ctx.run.runId);
  try {
    const started = Date.now();
    const run = await readRunFile(session, paths, ctx.run.runId);
    const content: ResultsContent = {
      summary: run.summary ?? ctx.draft.status.results,
      ...(run.stages !== undefined ? { stages: run.stages } : {}),
      environment: environmentOf(ctx, session),
      samples: await readSamples(session, recordsPath(paths, ctx.run.runId), ctx.run.runId),
      logs: await readTails(ctx, session, paths),
    };
    const payload = await write(ctx, paths, content, true);
    lastLiveWrite.delete(ctx.run.runId);
    ctx.log.info(
      {
        configMap: name,
        bytes: payload.bytes,
        samples: content.samples?.index.count,
        measured: content.samples?.index.measured,
        trimmed: payload.trimmed,
        ms: Date.now() - started,
      },
      'results stored',
    );
    return halt();
  } catch (error) {
    ctx.log.warn(
      { err: errorText(error), configMap: name },
      'could not store the results; trying again later',
    );
    return halt(SETTLED_CHECK_MS);
  }
}

function configMapName(ctx: RunContext): string {
  return resultsConfigMapName(ctx.name, ctx.object.metadata?.uid ?? '', ctx.run.generation);
}

/** Where the client-service keeps the run's files: `<paths.results>/<runId>/` (client-service/engine/run-files.ts). */
function recordsPath(paths: RunPaths, runId: string): string {
  return posix.join(paths.results, runId, 'records.jsonl');
}

async function write(
  ctx: RunContext,
  paths: RunPaths,
  content: ResultsContent,
  complete: boolean,
): Promise<ReturnType<typeof buildResultsPayload>> {
  const writer = ctx.services.resultsConfigMaps;
  if (!writer) throw new Error('internal: no results ConfigMap writer');
  const name = configMapName(ctx);
  const records = recordsPath(paths, ctx.run.runId);
  const payload = buildResultsPayload(content);
  const now = toKubeTime(ctx.services.clock.now());
  const uid = ctx.object.metadata?.uid;
  await writer.write({
    namespace: ctx.namespace,
    name,
    labels: {
      [RESULTS_LABELS.benchmark]: ctx.name,
      [RESULTS_LABELS.runId]: ctx.run.runId,
      [RESULTS_LABELS.component]: RESULTS_COMPONENT,
      [RESULTS_LABELS.managedBy]: 'inference-benchmark-operator',
    },
    annotations: {
      'hpcbench.io/records-path': records,
      'hpcbench.io/complete': String(complete),
      'hpcbench.io/written-at': now,
      ...(payload.trimmed.length > 0 ? { 'hpcbench.io/trimmed': payload.trimmed.join('; ') } : {}),
    },
    // Owned (garbage-collected with the benchmark) unless the spec asks to keep it.
    ...(ctx.spec.retainResults || !uid
      ? {}
      : {
          owner: {
            apiVersion: API_VERSION,
            kind: INFERENCE_BENCHMARK_KIND,
            name: ctx.name,
            uid,
            controller: true,
          },
        }),
    data: payload.data,
    binaryData: payload.binaryData,
  });
  ctx.draft.status.resultsStore = {
    configMap: name,
    recordsPath: records,
    complete,
    ...(complete ? { storedAt: now } : {}),
  };
  return payload;
}

/**
 * The client-service's summary.json (client-service/engine/run-files.ts): its whole run status. The summary is
 * its `summary` (the shape of status.results), the per-level figures its `stages` and `saturation`.
 */
async function readRunFile(
  session: ClusterSession,
  paths: RunPaths,
  runId: string,
): Promise<{ summary?: unknown; stages?: unknown }> {
  const text = await session.files.readFileIfExists(
    posix.join(paths.results, runId, 'summary.json'),
    16 * 1024 * 1024,
  );
  if (text === null) return {};
  let file: unknown;
  try {
    file = JSON.parse(text) as unknown;
  } catch {
    return {};
  }
  if (typeof file !== 'object' || file === null || !('summary' in file)) return { summary: file };
  const run = file as { summary: unknown; stages?: unknown; saturation?: unknown };
  return {
    summary: run.summary,
    ...(run.stages !== undefined
      ? { stages: { stages: run.stages, saturation: run.saturation ?? null } }
      : {}),
  };
}

/**
 * Streams records.jsonl (one SFTP read stream; never the whole file in memory) through a reservoir of
 * MAX_SAMPLES, so a run of a million requests costs the operator ~10,000 rows of memory.
 */
async function readSamples(
  session: ClusterSession,
  path: string,
  runId: string,
): Promise<NonNullable<ResultsContent['samples']>> {
  const seed = seedOf(runId);
  const sampler = new ReservoirSampler(MAX_SAMPLES, seed);
  const base: Omit<SamplesIndex, 'count' | 'measured' | 'method'> = {
    encoding: 'float32-le',
    metrics: [...SAMPLE_METRICS],
    seed,
  };
  const target = session.files.resolve(path);
  try {
    await session.connection.withSftp(async (sftp) => {
      const stream = sftp.createReadStream(target, { highWaterMark: 256 * 1024 });
      // readline does not pass the stream's errors on, and the handle's close may still be pending when the
      // loop ends: without a listener, an error then (the channel closed under it) crashed the operator.
      // `finished` listens from the start, and is awaited so the channel outlives the stream.
      let failure: unknown;
      const closed = finished(stream).catch((error: unknown) => {
        failure ??= error;
      });
      const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
      stream.once('error', () => lines.close());
      try {
        for await (const line of lines) {
          const row = sampleRowOf(line);
          if (row) sampler.offer(row);
        }
      } finally {
        if (!stream.readableEnded) stream.destroy();
        await closed;
      }
      if (failure !== undefined && !stream.readableEnded) throw failure;
    });
  } catch (error) {
    return {
      rows: [],
      index: { ...base, count: 0, measured: 0, method: 'all', missing: `${path}: ${errorText(error)}` },
    };
  }
  const rows = sampler.rows();
  return {
    rows,
    index: {
      ...base,
      count: rows.length,
      measured: sampler.offered,
      method: rows.length < sampler.offered ? 'reservoir' : 'all',
    },
  };
}

/** The last LOG_TAIL_BYTES of each job's log (stdout and stderr share it: steps/placement.ts). */
async function readTails(ctx: RunContext, session: ClusterSession, paths: RunPaths): Promise<LogTail[]> {
  const jobs = ctx.draft.status.slurmJobs ?? [];
  let sizes = new Map<string, number>();
  try {
    sizes = new Map((await session.files.list(paths.dir)).map((entry) => [entry.name, entry.size]));
  } catch {
    // No folder yet: every tail below says so.
  }
  const readAt = toKubeTime(ctx.services.clock.now());
  const tails: LogTail[] = [];
  for (const job of jobs) {
    const role = job.role as ResultsLogRole;
    const path = jobLogPath(paths, job.role, job.id);
    const bytes = sizes.get(posix.basename(path));
    const info = {
      jobId: job.id,
      path,
      bytes: bytes ?? 0,
      truncated: (bytes ?? 0) > LOG_TAIL_BYTES,
      readAt,
      final: isFinalEntry(job),
    };
    if (bytes === undefined) {
      tails.push({ role, text: '', info: { ...info, missing: 'the job has not written its log yet' } });
      continue;
    }
    try {
      tails.push({ role, text: await session.files.tail(path, LOG_TAIL_BYTES), info });
    } catch (error) {
      tails.push({ role, text: '', info: { ...info, missing: errorText(error) } });
    }
  }
  const monitoring = await readMonitoringTail(ctx, session, readAt);
  if (monitoring) tails.push(monitoring);
  return tails;
}

/**
 * The last LOG_TAIL_BYTES of the SlurmCluster's shared monitoring job's log, as it is when read (the job
 * outlives the run, so the tail shows the stack during and just after it). None when monitoring is off for
 * the run: `kubectl hpcbench logs --role monitoring` says so from the MonitoringReady condition.
 */
async function readMonitoringTail(
  ctx: RunContext,
  session: ClusterSession,
  readAt: string,
): Promise<LogTail | undefined> {
  if (monitoringSwitchedOffBy(ctx)) return undefined;
  const status = ctx.services.clusters.get(ctx.namespace, ctx.spec.clusterRef.name)?.status?.monitoring;
  const jobId = status?.jobId;
  const path = monitoringLogPath(session.workDir, jobId ?? '%j');
  const info = {
    jobId: jobId ?? '',
    path,
    bytes: 0,
    truncated: false,
    readAt,
    final: status?.state !== undefined && isTerminal(parseJobState(status.state)),
  };
  const none = (missing: string): LogTail => ({ role: 'monitoring', text: '', info: { ...info, missing } });
  if (!jobId) return none(`SlurmCluster ${ctx.spec.clusterRef.name} reports no monitoring job`);
  // A job submitted before stdout and stderr shared one file has them apart: its stderr is the stack's log.
  const candidates = [path, path.replace(/\.log$/, '.err')];
  let sizes: Map<string, number>;
  try {
    sizes = new Map((await session.files.list(posix.dirname(path))).map((e) => [e.name, e.size]));
  } catch (error) {
    return none(errorText(error));
  }
  const found = candidates.find((candidate) => sizes.has(posix.basename(candidate)));
  if (found === undefined) return none(`the monitoring job has not written ${path} yet`);
  const bytes = sizes.get(posix.basename(found)) ?? 0;
  const read = { ...info, path: found, bytes, truncated: bytes > LOG_TAIL_BYTES };
  try {
    return { role: 'monitoring', text: await session.files.tail(found, LOG_TAIL_BYTES), info: read };
  } catch (error) {
    return { role: 'monitoring', text: '', info: { ...read, missing: errorText(error) } };
  }
}

/** What ran where, as far as the operator knows it today (DESIGN.md "Stages" plans status.environment). */
function environmentOf(ctx: RunContext, session: ClusterSession): EnvironmentEntries {
  const { spec } = ctx;
  const cluster = ctx.services.clusters.get(ctx.namespace, spec.clusterRef.name);
  const entries: [string, string | number | undefined][] = [
    ['Benchmark', `${ctx.namespace}/${ctx.name}`],
    ['Run id', ctx.run.runId],
    ['Spec hash (sha256)', createHash('sha256').update(JSON.stringify(spec)).digest('hex').slice(0, 16)],
    ['Model', spec.model.name],
    ['Precision', spec.model.precision],
    ['Engine', spec.server.engine],
    ['Server image', spec.server.image],
    ['Server parallel requests', spec.server.numParallel ?? peakClients(spec.workload)],
    ['Clients', spec.workload.clients],
    ['Requests per client', spec.workload.requestsPerClient],
    ['Warmup requests', spec.workload.warmupRequests],
    ['Max tokens', spec.workload.maxTokens],
    ['Load mode', spec.workload.mode],
    ['Rate (req/s)', spec.workload.ratePerSecond],
    ['Temperature', spec.workload.temperature],
    ['Seed', spec.workload.seed],
    ['SlurmCluster', spec.clusterRef.name],
    ['SLURM version', cluster?.status?.slurmVersion],
    ['Container runtime', session.spec.containerRuntime],
    ['Server partition', spec.slurm.partition ?? session.spec.defaults?.serverPartition],
    ['Server memory (GB)', spec.slurm.memGB],
    ['Server nodes', spec.slurm.nodes],
    ['Client partition', spec.clientService.partition ?? session.spec.defaults?.clientPartition],
    ['Client CPUs', spec.clientService.cpus],
  ];
  for (const job of ctx.draft.status.slurmJobs ?? []) {
    const title = job.role === 'server' ? 'Server job' : 'Client job';
    entries.push([title, `${job.id} ${job.state}${job.exitCode ? ` exit ${job.exitCode}` : ''}`]);
    entries.push([`${title} node`, job.node]);
    entries.push([`${title} start`, job.startTime]);
    entries.push([`${title} end`, job.endTime]);
  }
  entries.push(['Run start', ctx.draft.status.startTime], ['Run end', ctx.draft.status.completionTime]);
  return entries
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined && entry[1] !== '')
    .map(([name, value]) => ({ name, value: String(value) }));
}

function remember(runId: string, at: number): void {
  lastLiveWrite.delete(runId);
  lastLiveWrite.set(runId, at);
  if (lastLiveWrite.size > MAX_REMEMBERED_RUNS) {
    const oldest = lastLiveWrite.keys().next().value;
    if (oldest !== undefined) lastLiveWrite.delete(oldest);
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
