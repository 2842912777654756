import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import { z } from 'zod';
import type { SlurmClusterSpec, SlurmClusterStatus } from '../../../crds/index.js';
import { ConditionReason } from '../../../crds/index.js';
import {
  isFound,
  isPending,
  isRunning,
  isTerminal,
  type JobInfo,
  monitoringJobScript,
  SbatchError,
} from '../../../slurm-bridge/index.js';
import {
  grafanaProvisioningFiles,
  PROMETHEUS_URL_REFERENCE,
} from '../../../slurm-bridge/monitoring/grafana/provisioning.js';
import {
  endpointsFile,
  grafanaAdminPasswordFile,
  grafanaAdminUserFile,
  monitoringDir,
  monitoringLogPath,
  scrapeTokenFile,
} from '../../../slurm-bridge/monitoring/layout.js';
import type { ClusterSession } from '../../cluster/types.js';

/** What the monitoring step concluded: the condition to set, the status part, and how soon to look again. */
export interface MonitoringOutcome {
  status: 'True' | 'False';
  reason: ConditionReason;
  message: string;
  monitoring: SlurmClusterStatus['monitoring'];
  requeueAfterMs: number;
  /** A user-visible transition worth an Event (submitted, adopted, resubmitted). */
  event?: { type: 'Normal' | 'Warning'; reason: string; message: string };
  /**
   * false when nothing was learnt about the job (a restarted operator before its first answer from Slurm):
   * the condition already in status stays as it is, so a restart does not flip MonitoringReady.
   */
  observed?: false;
}

export interface MonitoringContext {
  session: ClusterSession;
  spec: SlurmClusterSpec;
  /** Owner key the monitoring job is watched under. */
  owner: string;
  /** Tag in the job's --comment: one per SlurmCluster uid, so a restarted operator adopts the job. */
  tag: string;
  jobName: string;
  current: SlurmClusterStatus['monitoring'];
  /** Grafana admin user and password from the Secret named in the spec, when it names one. */
  grafanaAdmin?: { user: Buffer; password: Buffer };
}

const FAST_MS = 3_000;
const STEADY_MS = 60_000;

const Endpoints = z.object({
  prometheus: z.string().min(1),
  pushgateway: z.string().min(1),
  grafana: z.string().min(1).nullable().optional(),
  slurmJobId: z.string().optional(),
});

/**
 * The cluster's shared monitoring job: adopt it by tag or submit it, resubmit it when it ends (time limit,
 * failure, cancel), and report MonitoringReady once Prometheus and the Pushgateway answer through SSH.
 */
export async function reconcileMonitoringJob(context: MonitoringContext): Promise<MonitoringOutcome> {
  const { session, owner } = context;
  let jobId = context.current?.jobId;
  let lookup = jobId ? session.watcher.get(jobId) : undefined;
  if (jobId && !lookup) {
    session.watcher.watch(owner, [jobId]);
    await session.watcher.pollNow();
    lookup = session.watcher.get(jobId);
  }

  let event: MonitoringOutcome['event'];
  const ended = lookup !== undefined && (!isFound(lookup) || isTerminal(lookup.state));
  if (!jobId || ended) {
    if (ended && jobId) {
      const how =
        lookup && isFound(lookup) ? `${lookup.state}${lookup.reason ? ` (${lookup.reason})` : ''}` : 'gone';
      event = {
        type: 'Normal',
        reason: 'MonitoringJobEnded',
        message: `monitoring job ${jobId} ended: ${how}; resubmitting`,
      };
    }
    const adopted = await adoptOrSubmit(context);
    if ('error' in adopted) {
      session.watcher.unwatch(owner);
      return {
        status: 'False',
        reason: ConditionReason.SubmitFailed,
        message: adopted.error,
        monitoring: {},
        requeueAfterMs: STEADY_MS,
        event: { type: 'Warning', reason: 'SubmitFailed', message: adopted.error },
      };
    }
    jobId = adopted.jobId;
    event ??= {
      type: 'Normal',
      reason: adopted.adopted ? 'MonitoringJobAdopted' : 'MonitoringJobSubmitted',
      message: `monitoring job ${jobId} ${adopted.adopted ? 'adopted' : 'submitted'}`,
    };
    session.watcher.watch(owner, [jobId]);
    session.watcher.expedite();
    return {
      status: 'False',
      reason: ConditionReason.JobPending,
      message: `monitoring job ${jobId} submitted; waiting for SLURM to start it`,
      monitoring: { jobId, state: 'PENDING' },
      requeueAfterMs: FAST_MS,
      event,
    };
  }

  session.watcher.watch(owner, [jobId]);
  if (!lookup || !isFound(lookup)) {
    return {
      status: 'False',
      reason: ConditionReason.JobPending,
      message: `waiting for the state of monitoring job ${jobId}`,
      monitoring: { jobId },
      requeueAfterMs: FAST_MS,
      observed: false,
    };
  }
  const base = { jobId, state: lookup.state, ...(lookup.nodes[0] ? { node: lookup.nodes[0] } : {}) };
  if (isPending(lookup.state)) {
    return {
      status: 'False',
      reason: ConditionReason.JobPending,
      message: `monitoring job ${jobId} is pending${lookup.reason ? `: ${lookup.reason}` : ''}`,
      monitoring: base,
      requeueAfterMs: FAST_MS,
    };
  }
  if (!isRunning(lookup.state)) {
    return {
      status: 'False',
      reason: ConditionReason.JobRunning,
      message: `monitoring job ${jobId} is ${lookup.state}`,
      monitoring: base,
      requeueAfterMs: FAST_MS,
    };
  }
  return probeEndpoints(context, lookup, base);
}

async function probeEndpoints(
  context: MonitoringContext,
  job: JobInfo,
  base: NonNullable<SlurmClusterStatus['monitoring']>,
): Promise<MonitoringOutcome> {
  const { session } = context;
  const raw = await session.files.readFileIfExists(endpointsFile(session.workDir));
  const parsed = raw ? Endpoints.safeParse(safeJson(raw)) : undefined;
  if (!parsed?.success || (parsed.data.slurmJobId && parsed.data.slurmJobId !== job.id)) {
    return {
      status: 'False',
      reason: ConditionReason.JobRunning,
      message: `monitoring job ${job.id} runs on ${job.nodeList ?? '?'}; waiting for its endpoints`,
      monitoring: base,
      requeueAfterMs: FAST_MS,
    };
  }
  const endpoints = parsed.data;
  const monitoring = {
    ...base,
    prometheus: endpoints.prometheus,
    pushgateway: endpoints.pushgateway,
    ...(endpoints.grafana ? { grafana: endpoints.grafana } : {}),
  };
  const failures: string[] = [];
  for (const [name, hostPort] of [
    ['Prometheus', endpoints.prometheus],
    ['Pushgateway', endpoints.pushgateway],
  ] as const) {
    try {
      const response = await session.fetch(`http://${hostPort}/-/ready`, { timeoutMs: 5_000 });
      await response.body?.cancel();
      if (!response.ok) failures.push(`${name} at ${hostPort} answered ${response.status}`);
    } catch (error) {
      failures.push(`${name} at ${hostPort}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (failures.length > 0) {
    return {
      status: 'False',
      reason: ConditionReason.JobRunning,
      message: `monitoring job ${job.id} runs but does not answer yet: ${failures.join('; ')}`,
      monitoring,
      requeueAfterMs: FAST_MS,
    };
  }
  return {
    status: 'True',
    reason: ConditionReason.MonitoringAvailable,
    message: `Prometheus ${endpoints.prometheus}, Pushgateway ${endpoints.pushgateway}${endpoints.grafana ? `, Grafana ${endpoints.grafana}` : ' (no Grafana on this cluster)'}`,
    monitoring,
    requeueAfterMs: STEADY_MS,
  };
}

async function adoptOrSubmit(
  context: MonitoringContext,
): Promise<{ jobId: string; adopted: boolean } | { error: string }> {
  const { session, spec, tag } = context;
  const live = (await session.slurm.findJobsByTag(tag)).filter((job) => !isTerminal(job.state));
  if (live.length > 0) {
    const [keep, ...extra] = live.sort((a, b) => Number(a.id) - Number(b.id));
    // More than one can only come from an earlier bug or a manual sbatch: keep the oldest.
    if (extra.length > 0) await session.slurm.cancel(extra.map((job) => job.id));
    return { jobId: keep!.id, adopted: true };
  }
  await prepareFiles(context);
  const dir = monitoringDir(session.workDir);
  try {
    const jobId = await session.slurm.submit({
      script: monitoringJobScript({
        workDir: session.workDir,
        scrapeIntervalSeconds: spec.monitoring.scrapeIntervalSeconds,
        modules: spec.modules ?? [],
      }),
      name: context.jobName,
      ...optional('partition', spec.monitoring.partition ?? spec.defaults?.clientPartition),
      ...optional('account', spec.defaults?.account),
      ...optional('qos', spec.defaults?.qos),
      time: spec.monitoring.time,
      memGB: spec.monitoring.memGB,
      tag,
      workDir: dir,
      // No --error: stderr joins stdout, so one tail holds both (the results ConfigMap keeps it per run).
      output: monitoringLogPath(session.workDir),
    });
    return { jobId, adopted: false };
  } catch (error) {
    if (error instanceof SbatchError) return { error: `sbatch refused the monitoring job: ${error.message}` };
    throw error;
  }
}

/** Grafana provisioning, the admin credentials (0600) and the scrape token (0600, made once). */
async function prepareFiles(context: MonitoringContext): Promise<void> {
  const { files, workDir } = context.session;
  await files.mkdirp(posix.join(monitoringDir(workDir), 'logs'));
  // The datasource names the URL the job exports once Prometheus has its (run-time) port.
  for (const file of grafanaProvisioningFiles({
    workDir,
    prometheusUrl: PROMETHEUS_URL_REFERENCE,
    scrapeIntervalSeconds: context.spec.monitoring.scrapeIntervalSeconds,
  })) {
    await files.mkdirp(posix.dirname(file.path));
    await files.uploadAtomic(file.path, file.content, 0o644);
  }
  if (context.grafanaAdmin) {
    await files.mkdirp(posix.dirname(grafanaAdminPasswordFile(workDir)));
    await files.uploadAtomic(grafanaAdminUserFile(workDir), context.grafanaAdmin.user, 0o600);
    await files.uploadAtomic(grafanaAdminPasswordFile(workDir), context.grafanaAdmin.password, 0o600);
  }
  if ((await files.readFileIfExists(scrapeTokenFile(workDir))) === null) {
    await files.uploadAtomic(scrapeTokenFile(workDir), randomBytes(32).toString('hex'), 0o600);
  }
}

function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, string>);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
