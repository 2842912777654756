import { randomBytes } from 'node:crypto';
import type * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { type RunStatus, StartRunRequest } from '../../../client-service/api-schema.js';
import {
  BENCHMARK_FINALIZER,
  BenchmarkConditionType,
  BenchmarkPhase,
  BenchmarkResults,
  ConditionReason,
  DEFAULT_PROMPT,
  FORCE_DELETE_ANNOTATION,
  formatFieldErrors,
  formatProgress,
  type InferenceBenchmarkSpec,
  InferenceBenchmarkSpec as InferenceBenchmarkSpecSchema,
  type InferenceBenchmarkStatus,
  parseWith,
  type SlurmClusterStatus,
  TERMINAL_PHASES,
} from '../../../crds/index.js';
import {
  clientServiceJobScript,
  isFound,
  isPending,
  isTerminal,
  type JobInfo,
  ollamaJobScript,
  pendingReasonIsHopeless,
  SbatchError,
  SshError,
  type SubmitRequest,
  sanitizeJobName,
} from '../../../slurm-bridge/index.js';
import { scrapeTokenFile, targetsDir } from '../../../slurm-bridge/monitoring/layout.js';
import type { ClusterRegistry, ClusterSession } from '../../cluster/types.js';
import type { Clock } from '../../runtime/clock.js';
import { findCondition, toKubeTime } from '../../runtime/conditions.js';
import type { EventTarget, EventType } from '../../runtime/events.js';
import {
  createdAtMs,
  keyOf,
  keyToString,
  type ObjectKey,
  type ReconcileContext,
  type Reconciler,
} from '../../runtime/reconciler.js';
import { type AdmissionCandidate, ClusterAdmission } from './admission.js';
import { describeEndedJob, isFinalEntry, reasonForEndedJob, slurmJobEntry } from './job-status.js';
import { ModelPuller } from './model-puller.js';
import { type OwnedJobFinder, pickAdoptable, squeueOwnedJobFinder } from './owned-jobs.js';
import {
  BENCHMARK_TAG_PREFIX,
  type JobRole,
  jobLogPath,
  jobName,
  normalizeModelName,
  type RunIdentity,
  type RunPaths,
  runIdentity,
  runPaths,
} from './run-identity.js';
import { StatusDraft } from './status-draft.js';

/** An InferenceBenchmark as the informer holds it: spec unvalidated until the reconcile parses it. */
export interface BenchmarkObject extends k8s.KubernetesObject {
  spec?: unknown;
  status?: InferenceBenchmarkStatus;
}

export interface SlurmClusterObject extends k8s.KubernetesObject {
  spec?: { monitoring?: { enabled?: boolean }; maxActiveBenchmarks?: unknown };
  status?: SlurmClusterStatus;
}

export interface ObjectCache<T> {
  get(namespace: string, name: string): T | undefined;
  list(namespace?: string): T[];
}

export interface BenchmarkReconcilerDeps {
  benchmarks: ObjectCache<BenchmarkObject>;
  clusters: ObjectCache<SlurmClusterObject>;
  registry: Pick<ClusterRegistry, 'lookup'>;
  status: { writeStatus(current: BenchmarkObject, desired: InferenceBenchmarkStatus): Promise<unknown> };
  finalizers: {
    ensure(object: BenchmarkObject): Promise<BenchmarkObject | undefined>;
    remove(object: BenchmarkObject): Promise<BenchmarkObject | undefined>;
  };
  events: { record(object: EventTarget, type: EventType, reason: string, message: string): Promise<void> };
  clock: Clock;
  /** The client-service bundle (dist/client-service.mjs); read once. */
  clientBundle: () => Promise<Buffer>;
  ownedJobs?: OwnedJobFinder;
  newToken?: () => string;
  /** A place under a cluster's maxActiveBenchmarks came free: reconcile the benchmarks waiting there. */
  onCapacityFreed?: (namespace: string, clusterName: string) => void;
}

/** How soon to look again while something on the cluster is starting, and while a run goes. */
const STARTING_POLL_MS = 2_000;
const RUN_POLL_MS = 3_000;
const WAITING_FOR_CLUSTER_MS = 10_000;
/** A fallback only: a freed place wakes the waiting benchmarks at once through onCapacityFreed. */
const WAITING_FOR_CAPACITY_MS = 15_000;
const SETTLED_CHECK_MS = 60_000;
/** A fallback only: the status write of a run's end wakes the benchmark through the informer at once. */
const SETTLE_AFTER_WRITE_MS = 1_000;
const LOG_TAIL_CHARS = 1_500;

type StepOutcome = { readonly halt: true; readonly requeueAfterMs?: number } | undefined;
const halt = (requeueAfterMs?: number): StepOutcome => ({
  halt: true,
  ...(requeueAfterMs !== undefined ? { requeueAfterMs } : {}),
});

/** Everything one reconcile of one valid benchmark works with. */
interface RunContext {
  readonly object: BenchmarkObject;
  readonly namespace: string;
  readonly name: string;
  readonly ownerKey: string;
  readonly spec: InferenceBenchmarkSpec;
  readonly run: RunIdentity;
  readonly draft: StatusDraft;
  readonly log: Logger;
  session?: ClusterSession;
  paths?: RunPaths;
  ollamaEndpoint?: string;
  clientEndpoint?: string;
}

/**
 * The InferenceBenchmark pipeline (docs/architecture.md#reconcile-pipeline): a short list of named steps, each
 * returning "go on", "halt (and look again later)" or throwing. Level-triggered: every step re-derives
 * where the run stands from the cache, the job watcher and the cluster, so a restart anywhere resumes.
 * Status is computed on a draft and written once at the end, only when it changed.
 */
export class InferenceBenchmarkReconciler implements Reconciler {
  private readonly puller = new ModelPuller();
  private readonly admission = new ClusterAdmission();
  private readonly tokens = new Map<string, string>();
  private readonly homes = new Map<string, string>();
  /** Jobs submitted by this process, per tag and role: covers the moment before the cache shows our status. */
  private readonly submitted = new Map<string, string>();
  /**
   * The cluster user's benchmark jobs as this process first listed them, per session: everything an earlier
   * process may have submitted without writing status. One squeue for all adoptions, not one per sbatch.
   */
  private readonly jobsAtStart = new WeakMap<ClusterSession, Promise<JobInfo[]>>();
  /** run tag/role whose sbatch died with the connection: it may have run, so look again before a resubmit. */
  private readonly uncertainSubmits = new Set<string>();
  private readonly endpoints = new Map<string, string>();
  private readonly ownedJobs: OwnedJobFinder;
  private readonly newToken: () => string;

  constructor(private readonly deps: BenchmarkReconcilerDeps) {
    this.ownedJobs = deps.ownedJobs ?? squeueOwnedJobFinder;
    this.newToken = deps.newToken ?? (() => randomBytes(32).toString('base64url'));
  }

  async reconcile(
    key: ObjectKey,
    context: ReconcileContext,
  ): Promise<{ requeueAfterMs?: number } | undefined> {
    const object = this.deps.benchmarks.get(key.namespace, key.name);
    if (!object) return undefined;
    if (object.metadata?.deletionTimestamp) return this.handleDeletion(object, key, context.log);

    const generation = object.metadata?.generation ?? 1;
    const draft = new StatusDraft(object.status, generation, this.deps.clock.now());
    const parsed = parseWith(InferenceBenchmarkSpecSchema, object.spec);
    if (!parsed.ok) {
      const message = `invalid spec: ${formatFieldErrors(parsed.errors.map((e) => ({ ...e, field: `spec.${e.field}` })))}`;
      draft.fail(BenchmarkConditionType.Ready, ConditionReason.InvalidSpec, message);
      await this.commit(object, draft, context.log);
      // Terminal: a spec this operator cannot read will not fix itself; a new generation re-runs us.
      return undefined;
    }

    const withFinalizer = (await this.deps.finalizers.ensure(object)) ?? object;
    const uid = object.metadata?.uid ?? '';
    const run = runIdentity(uid, generation);
    const ctx: RunContext = {
      object: withFinalizer,
      namespace: key.namespace,
      name: key.name,
      ownerKey: keyToString(key),
      spec: parsed.value,
      run,
      draft,
      log: context.log,
    };

    let outcome: StepOutcome;
    try {
      outcome = await this.runPipeline(ctx);
    } catch (error) {
      if (!(error instanceof SshError)) throw error;
      // The shared connection reconnects by itself; look again soon instead of backing off for minutes.
      context.log.warn({ err: error.message }, 'cluster connection trouble; retrying soon');
      outcome = halt(RUN_POLL_MS);
    }
    await this.commit(ctx.object, draft, context.log);
    return outcome?.requeueAfterMs !== undefined ? { requeueAfterMs: outcome.requeueAfterMs } : undefined;
  }

  private async runPipeline(ctx: RunContext): Promise<StepOutcome> {
    const steps = [
      () => this.startRunOnNewGeneration(ctx),
      () => this.settleRun(ctx),
      () => this.resolveSession(ctx),
      () => this.ensureMonitoringReady(ctx),
      () => this.admit(ctx),
      () => this.ensureServer(ctx),
      () => this.ensureClient(ctx),
      () => this.ensureRun(ctx),
    ];
    for (const step of steps) {
      const outcome = await step();
      // The run's end is decided: write it first. Its jobs are cancelled only by a later reconcile that
      // reads the end back from the apiserver (settleRun), so a failed write never meets our own cancel.
      if (this.decidedNow(ctx)) return halt(SETTLE_AFTER_WRITE_MS);
      if (outcome) return outcome;
    }
    return undefined;
  }

  /** This reconcile moved the run to Succeeded or Failed; the apiserver does not know it yet. */
  private decidedNow(ctx: RunContext): boolean {
    return isSettledPhase(ctx.draft.status.phase) && !this.isPersistedSettled(ctx);
  }

  /** The object as read says this run ended: its result is safe in the apiserver. */
  private isPersistedSettled(ctx: RunContext): boolean {
    const persisted = ctx.object.status;
    return persisted?.runId === ctx.run.runId && isSettledPhase(persisted?.phase);
  }

  // --- steps -----------------------------------------------------------------------------------------------

  /** A new generation starts a new run; the jobs of every older run are cancelled first. */
  private async startRunOnNewGeneration(ctx: RunContext): Promise<StepOutcome> {
    const previousRunId = ctx.draft.status.runId;
    if (previousRunId === ctx.run.runId) return undefined;
    if (previousRunId !== undefined) {
      const lookup = this.deps.registry.lookup(clusterKeyOf(ctx));
      if (!lookup.ok) {
        ctx.draft.ready(
          'False',
          lookup.reason,
          `spec changed; waiting for the cluster to cancel the old jobs: ${lookup.message}`,
        );
        return halt(WAITING_FOR_CLUSTER_MS);
      }
      const old = (await this.ownedJobs.withTagPrefix(lookup.session, ctx.run.tagPrefix)).filter(
        (job) => job.comment !== ctx.run.tag && !isTerminal(job.state),
      );
      await lookup.session.slurm.cancel(old.map((job) => job.id));
      lookup.session.watcher.unwatch(ctx.ownerKey);
      ctx.log.info({ cancelled: old.map((job) => job.id), previousRunId }, 'spec changed: new run');
      ctx.draft.transitions.push({
        type: 'Run',
        status: 'Unknown',
        reason: ConditionReason.SpecChanged,
        message: `spec changed (generation ${ctx.run.generation}): cancelled ${old.length} job(s) of the previous run, starting a new one`,
      });
    }
    ctx.draft.resetForRun(ctx.run.runId);
    return undefined;
  }

  private async resolveSession(ctx: RunContext): Promise<StepOutcome> {
    const lookup = this.clusterLookup(ctx);
    if (!lookup.ok) {
      ctx.draft.ready('False', lookup.reason, lookup.message);
      // Pending until something is submitted; a benchmark already Queued stays Queued (no flapping).
      if (
        !ctx.draft.status.slurmJobs?.length &&
        (ctx.draft.status.phase ?? BenchmarkPhase.Pending) === BenchmarkPhase.Pending
      )
        ctx.draft.phase(BenchmarkPhase.Pending);
      return halt(WAITING_FOR_CLUSTER_MS);
    }
    ctx.session = lookup.session;
    ctx.paths = runPaths(lookup.session.workDir, ctx.namespace, ctx.name, ctx.run.runId);
    return undefined;
  }

  /**
   * The session of the benchmark's cluster, or why there is none. A clusterRef to a SlurmCluster that does
   * not exist says so (ClusterNotFound), instead of "not connected yet".
   */
  private clusterLookup(ctx: RunContext): ReturnType<BenchmarkReconcilerDeps['registry']['lookup']> {
    const clusterName = ctx.spec.clusterRef.name;
    if (!this.deps.clusters.get(ctx.namespace, clusterName))
      return {
        ok: false,
        reason: ConditionReason.ClusterNotFound,
        message: `SlurmCluster ${clusterName} not found in namespace ${ctx.namespace}: create it, or fix spec.clusterRef.name`,
      };
    return this.deps.registry.lookup(clusterKeyOf(ctx));
  }

  /**
   * A run whose end (Succeeded or Failed) the apiserver already holds: free its place, cancel what still
   * runs (unless Keep), and bring status.slurmJobs to the jobs' final states. It never touches a condition:
   * a settled benchmark reads the same whether the cluster is reachable or not, before and after a restart.
   */
  private async settleRun(ctx: RunContext): Promise<StepOutcome> {
    if (!this.isPersistedSettled(ctx)) return undefined;
    this.releasePlace(ctx.namespace, ctx.spec.clusterRef.name, ctx.ownerKey, ctx.run.runId);
    const jobs = ctx.draft.status.slurmJobs ?? [];
    if (jobs.every(isFinalEntry)) {
      this.forgetRun(ctx.run);
      return halt();
    }
    const lookup = this.clusterLookup(ctx);
    if (!lookup.ok) return halt(WAITING_FOR_CLUSTER_MS);
    const session = lookup.session;
    if (ctx.spec.cleanupPolicy === 'Delete') {
      const live = jobs.filter((job) => {
        const seen = session.watcher.get(job.id);
        return !seen || (isFound(seen) && !isTerminal(seen.state));
      });
      await session.slurm.cancel(live.map((job) => job.id));
      if (live.length > 0)
        ctx.log.info({ jobs: live.map((job) => job.id) }, 'run finished: cancelled its jobs');
    }
    this.refreshJobEntries(ctx, session);
    const allSettled = jobs.every((job) => {
      const seen = session.watcher.get(job.id);
      return seen !== undefined && (!isFound(seen) || isTerminal(seen.state));
    });
    if (allSettled || ctx.spec.cleanupPolicy === 'Keep') {
      session.watcher.unwatch(ctx.ownerKey);
      this.forgetRun(
        ctx.run,
        jobs.map((job) => job.id),
        session.key,
      );
      return halt(allSettled ? undefined : SETTLED_CHECK_MS);
    }
    session.watcher.watch(
      ctx.ownerKey,
      jobs.map((job) => job.id),
    );
    return halt(SETTLED_CHECK_MS);
  }

  private async ensureMonitoringReady(ctx: RunContext): Promise<StepOutcome> {
    const type = BenchmarkConditionType.MonitoringReady;
    const cluster = this.deps.clusters.get(ctx.namespace, ctx.spec.clusterRef.name);
    const clusterMonitoring = cluster?.spec?.monitoring?.enabled ?? true;
    if (!ctx.spec.monitoring.enabled || !clusterMonitoring) {
      const by = ctx.spec.monitoring.enabled ? 'the SlurmCluster' : 'spec.monitoring.enabled';
      ctx.draft.set(type, 'True', ConditionReason.Disabled, `monitoring is switched off by ${by}`);
      return undefined;
    }
    const clusterCondition = findCondition(cluster?.status?.conditions, type);
    const monitoring = cluster?.status?.monitoring;
    if (clusterCondition?.status !== 'True' || !monitoring?.pushgateway) {
      const why = clusterCondition
        ? `${clusterCondition.reason}: ${clusterCondition.message}`
        : 'not reported yet';
      ctx.draft.set(
        type,
        'False',
        ConditionReason.WaitingForDependencies,
        `waiting for the monitoring stack of SlurmCluster ${ctx.spec.clusterRef.name} (${why})`,
      );
      ctx.draft.ready('False', ConditionReason.WaitingForDependencies, 'waiting for the monitoring stack');
      if (
        !ctx.draft.status.slurmJobs?.length &&
        (ctx.draft.status.phase ?? BenchmarkPhase.Pending) === BenchmarkPhase.Pending
      )
        ctx.draft.phase(BenchmarkPhase.Pending);
      return halt(WAITING_FOR_CLUSTER_MS);
    }
    ctx.draft.set(
      type,
      'True',
      ConditionReason.MonitoringAvailable,
      `Prometheus ${monitoring.prometheus ?? '?'} and Pushgateway ${monitoring.pushgateway} of job ${monitoring.jobId ?? '?'}`,
    );
    ctx.draft.status.endpoints = {
      ...ctx.draft.status.endpoints,
      ...(monitoring.prometheus ? { prometheus: monitoring.prometheus } : {}),
      pushgateway: monitoring.pushgateway,
      ...(monitoring.grafana ? { grafana: monitoring.grafana } : {}),
    };
    return undefined;
  }

  /** The cluster's maxActiveBenchmarks: a benchmark without jobs waits its turn before it submits any. */
  private admit(ctx: RunContext): StepOutcome {
    const clusterName = ctx.spec.clusterRef.name;
    const limit = this.deps.clusters.get(ctx.namespace, clusterName)?.spec?.maxActiveBenchmarks;
    const decision = this.admission.decide(
      clusterKeyOf(ctx),
      ctx.ownerKey,
      typeof limit === 'number' ? limit : undefined,
      this.admissionCandidates(ctx.namespace, clusterName),
    );
    if (decision.admitted) return undefined;
    const message = `waiting for a place on SlurmCluster ${clusterName}: ${decision.active} of ${String(limit)} benchmarks (maxActiveBenchmarks) hold jobs; number ${decision.position} in line`;
    ctx.draft.set(
      BenchmarkConditionType.OllamaModelLoaded,
      'False',
      ConditionReason.WaitingForCapacity,
      message,
    );
    ctx.draft.ready('False', ConditionReason.WaitingForCapacity, message);
    ctx.draft.phase(BenchmarkPhase.Queued);
    return halt(WAITING_FOR_CAPACITY_MS);
  }

  private admissionCandidates(namespace: string, clusterName: string): AdmissionCandidate[] {
    return this.deps.benchmarks
      .list(namespace)
      .filter((benchmark) => clusterRefName(benchmark.spec) === clusterName)
      .map((benchmark) => ({
        key: keyOf(benchmark),
        createdAt: createdAtMs(benchmark),
        runId: benchmark.status?.runId ?? '',
        holdsJobs: (benchmark.status?.slurmJobs?.length ?? 0) > 0,
        settled:
          benchmark.metadata?.deletionTimestamp !== undefined ||
          TERMINAL_PHASES.has(benchmark.status?.phase ?? BenchmarkPhase.Pending),
      }));
  }

  /** The run no longer needs its place: free it now and wake the benchmarks waiting for one. */
  private releasePlace(namespace: string, clusterName: string, benchmarkKey: string, runId: string): void {
    if (this.admission.release(`${namespace}/${clusterName}`, benchmarkKey, runId))
      this.deps.onCapacityFreed?.(namespace, clusterName);
  }

  /** The Ollama job: adopt or submit, wait while pending, read its endpoint, make sure the model is there. */
  private async ensureServer(ctx: RunContext): Promise<StepOutcome> {
    const type = BenchmarkConditionType.OllamaModelLoaded;
    const session = requireSession(ctx);
    const job = await this.ensureJob(ctx, 'server', () => this.serverSubmitRequest(ctx));
    if (job.kind === 'halt') return job.outcome;
    const waiting = this.checkJobRunning(ctx, 'server', job.id, type);
    if (waiting) return waiting;
    const endpoint = await this.jobEndpoint(session, job.id, requirePaths(ctx).serverEndpoint);
    if (!endpoint) {
      this.progressing(
        ctx,
        type,
        ConditionReason.JobRunning,
        `SLURM job ${job.id} runs; waiting for Ollama to listen`,
      );
      return halt(STARTING_POLL_MS);
    }
    ctx.ollamaEndpoint = endpoint;
    ctx.draft.status.endpoints = { ...ctx.draft.status.endpoints, ollama: endpoint };
    if (findCondition(ctx.draft.status.conditions, type)?.status === 'True') return undefined;

    const model = normalizeModelName(ctx.spec.model.name);
    const tags = await session.fetch(`http://${endpoint}/api/tags`, { timeoutMs: 15_000 });
    if (!tags.ok) {
      this.progressing(
        ctx,
        type,
        ConditionReason.JobRunning,
        `Ollama at ${endpoint} answered ${tags.status}; retrying`,
      );
      return halt(STARTING_POLL_MS);
    }
    const listed =
      ((await tags.json()) as { models?: Array<{ name?: string; model?: string }> }).models ?? [];
    if (listed.some((entry) => entry.name === model || entry.model === model)) {
      this.puller.forget(ctx.run.runId);
      ctx.draft.set(
        type,
        'True',
        ConditionReason.ModelLoaded,
        `${model} is available on Ollama ${endpoint} (job ${job.id})`,
      );
      return undefined;
    }
    const pull = this.puller.ensure(ctx.run.runId, session, `http://${endpoint}`, model);
    if (pull.state === 'failed') {
      ctx.draft.fail(type, ConditionReason.ModelPullFailed, pull.message);
      return halt();
    }
    this.progressing(
      ctx,
      type,
      ConditionReason.ModelPulling,
      pull.state === 'pulling' ? pull.message : `${model} pulled; checking`,
    );
    return halt(STARTING_POLL_MS);
  }

  /** The client-service job: bundle uploaded once per content, a per-run token (0600), /health answering. */
  private async ensureClient(ctx: RunContext): Promise<StepOutcome> {
    const type = BenchmarkConditionType.ClientHealthy;
    const session = requireSession(ctx);
    const job = await this.ensureJob(ctx, 'client', () => this.clientSubmitRequest(ctx));
    if (job.kind === 'halt') return job.outcome;
    const waiting = this.checkJobRunning(ctx, 'client', job.id, type);
    if (waiting) return waiting;
    const endpoint = await this.jobEndpoint(session, job.id, requirePaths(ctx).clientEndpoint);
    if (!endpoint) {
      this.progressing(
        ctx,
        type,
        ConditionReason.ClientStarting,
        `SLURM job ${job.id} runs; waiting for the client-service to listen`,
      );
      return halt(STARTING_POLL_MS);
    }
    ctx.clientEndpoint = endpoint;
    ctx.draft.status.endpoints = { ...ctx.draft.status.endpoints, clientService: endpoint };
    const health = await session
      .fetch(`http://${endpoint}/health`, { timeoutMs: 10_000 })
      .catch(() => undefined);
    if (!health?.ok) {
      const wasHealthy = findCondition(ctx.draft.status.conditions, type)?.status === 'True';
      const reason = wasHealthy ? ConditionReason.ClientUnhealthy : ConditionReason.ClientStarting;
      this.progressing(
        ctx,
        type,
        reason,
        `client-service ${endpoint} (job ${job.id}) does not answer /health yet`,
      );
      return halt(STARTING_POLL_MS);
    }
    ctx.draft.set(
      type,
      'True',
      ConditionReason.ClientHealthy,
      `client-service ${endpoint} (job ${job.id}) answers /health`,
    );
    return undefined;
  }

  /** Starts the run (idempotent id), mirrors progress, copies the summary into status.results when done. */
  private async ensureRun(ctx: RunContext): Promise<StepOutcome> {
    const type = BenchmarkConditionType.BenchmarkComplete;
    const session = requireSession(ctx);
    const token = await this.clientToken(ctx);
    const base = `http://${ctx.clientEndpoint}`;
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    let response = await session.fetch(`${base}/runs/${ctx.run.runId}`, { headers, timeoutMs: 15_000 });
    if (response.status === 404) {
      await response.body?.cancel();
      response = await session.fetch(`${base}/runs`, {
        method: 'POST',
        headers,
        body: JSON.stringify(this.startRunRequest(ctx)),
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
    const finished = run.finishedAt ? Date.parse(run.finishedAt) : this.deps.clock.now();
    ctx.draft.status.completionTime = toKubeTime(
      Number.isFinite(finished) ? finished : this.deps.clock.now(),
    );
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

  // --- deletion --------------------------------------------------------------------------------------------

  /** Fail-closed: the finalizer goes only once every job is cancelled, or when an admin forces it. */
  private async handleDeletion(
    object: BenchmarkObject,
    key: ObjectKey,
    log: Logger,
  ): Promise<{ requeueAfterMs?: number } | undefined> {
    if (!object.metadata?.finalizers?.includes(BENCHMARK_FINALIZER)) return undefined;
    const forced = object.metadata?.annotations?.[FORCE_DELETE_ANNOTATION] === 'true';
    const clusterName = clusterRefName(object.spec);
    const lookup = clusterName
      ? this.deps.registry.lookup(`${key.namespace}/${clusterName}`)
      : ({ ok: false, reason: 'ClusterNotFound', message: 'spec.clusterRef.name is not set' } as const);
    if (!lookup.ok) {
      if (forced) {
        log.warn({ reason: lookup.reason }, 'force-delete: removing the finalizer without cancelling jobs');
        await this.deps.events.record(
          object,
          'Warning',
          ConditionReason.Deleting,
          `forced deletion while the cluster is unreachable (${lookup.message}); SLURM jobs may be left running`,
        );
        await this.deps.finalizers.remove(object);
        return undefined;
      }
      const draft = new StatusDraft(object.status, object.metadata?.generation ?? 1, this.deps.clock.now());
      draft.ready(
        'False',
        ConditionReason.Deleting,
        `cannot cancel the SLURM jobs: ${lookup.message}. The object stays until the cluster answers; set annotation ${FORCE_DELETE_ANNOTATION}: "true" to remove it anyway`,
      );
      await this.commit(object, draft, log);
      return { requeueAfterMs: WAITING_FOR_CLUSTER_MS };
    }
    const uid = object.metadata?.uid ?? '';
    const tagged = await this.ownedJobs.withTagPrefix(lookup.session, runIdentity(uid, 0).tagPrefix);
    const live = new Set(tagged.filter((job) => !isTerminal(job.state)).map((job) => job.id));
    for (const job of object.status?.slurmJobs ?? []) {
      const seen = lookup.session.watcher.get(job.id);
      if (!seen || (isFound(seen) && !isTerminal(seen.state))) live.add(job.id);
    }
    await lookup.session.slurm.cancel([...live]);
    lookup.session.watcher.unwatch(keyToString(key));
    log.info({ cancelled: [...live] }, 'benchmark deleted: cancelled its jobs');
    if (clusterName) {
      this.admission.forget(`${key.namespace}/${clusterName}`, keyToString(key));
      this.deps.onCapacityFreed?.(key.namespace, clusterName);
    }
    await this.deps.finalizers.remove(object);
    for (const prefix of [runIdentity(uid, 0).tagPrefix]) {
      for (const id of [...this.submitted.keys()]) if (id.startsWith(prefix)) this.submitted.delete(id);
    }
    return undefined;
  }

  // --- jobs ------------------------------------------------------------------------------------------------

  /**
   * The job of `role` in this run: from status, from this process's memory, adopted by tag, or submitted.
   * Adoption always comes before a submit, so a crash between sbatch and the status write never doubles it.
   */
  private async ensureJob(
    ctx: RunContext,
    role: JobRole,
    request: () => Promise<SubmitRequest>,
  ): Promise<{ kind: 'job'; id: string } | { kind: 'halt'; outcome: StepOutcome }> {
    const session = requireSession(ctx);
    const memoryKey = `${ctx.run.tag}/${role}`;
    let id =
      ctx.draft.status.slurmJobs?.find((job) => job.role === role)?.id ?? this.submitted.get(memoryKey);
    if (!id) {
      const name = sanitizeJobName(jobName(role, ctx.namespace, ctx.name));
      const adopted = pickAdoptable(await this.jobsToAdoptFrom(session, memoryKey), ctx.run.tag, name);
      if (adopted) {
        id = adopted.id;
        ctx.log.info({ role, jobId: id }, 'adopted an existing job by its tag');
      } else {
        try {
          await session.files.mkdirp(requirePaths(ctx).dir);
          id = await session.slurm.submit(await request());
          this.uncertainSubmits.delete(memoryKey);
        } catch (error) {
          if (!(error instanceof SbatchError)) {
            this.uncertainSubmits.add(memoryKey);
            throw error;
          }
          const condition =
            role === 'server'
              ? BenchmarkConditionType.OllamaModelLoaded
              : BenchmarkConditionType.ClientHealthy;
          ctx.draft.fail(
            condition,
            ConditionReason.SubmitFailed,
            `sbatch refused the ${role} job (${error.reason}): ${error.stderr.trim()}`,
          );
          return { kind: 'halt', outcome: halt() };
        }
        session.watcher.expedite();
        ctx.log.info({ role, jobId: id }, 'submitted');
      }
      this.submitted.set(memoryKey, id);
    }
    this.recordJob(ctx, session, role, id);
    return { kind: 'job', id };
  }

  /**
   * Where an existing job of this run could be: the first listing of this process (jobs of an earlier
   * process), or a fresh one after this process's own sbatch had an unknown outcome. A job this process
   * submitted is in `submitted` and never needs a lookup.
   */
  private async jobsToAdoptFrom(session: ClusterSession, memoryKey: string): Promise<JobInfo[]> {
    if (this.uncertainSubmits.has(memoryKey))
      return this.ownedJobs.withTagPrefix(session, BENCHMARK_TAG_PREFIX);
    let listing = this.jobsAtStart.get(session);
    if (!listing) {
      listing = this.ownedJobs.withTagPrefix(session, BENCHMARK_TAG_PREFIX);
      this.jobsAtStart.set(session, listing);
      // A failed listing is asked again by the next reconcile.
      listing.catch(() => {
        if (this.jobsAtStart.get(session) === listing) this.jobsAtStart.delete(session);
      });
    }
    return listing;
  }

  private recordJob(ctx: RunContext, session: ClusterSession, role: JobRole, id: string): void {
    const others = (ctx.draft.status.slurmJobs ?? []).filter((job) => job.role !== role);
    const lookup = session.watcher.get(id);
    const known = ctx.draft.status.slurmJobs?.find((job) => job.role === role && job.id === id);
    // Before the first poll of a fresh process, what status already says is better than "SUBMITTED".
    const entry = !lookup && known ? known : slurmJobEntry(role, id, lookup);
    const jobs = [...others, entry];
    jobs.sort((a, b) => (a.role === b.role ? 0 : a.role === 'server' ? -1 : 1));
    ctx.draft.status.slurmJobs = jobs;
    session.watcher.watch(
      ctx.ownerKey,
      jobs.map((job) => job.id),
    );
  }

  private refreshJobEntries(ctx: RunContext, session: ClusterSession): void {
    const jobs = ctx.draft.status.slurmJobs;
    if (!jobs) return;
    ctx.draft.status.slurmJobs = jobs.map((job) => {
      const lookup = session.watcher.get(job.id);
      return lookup ? slurmJobEntry(job.role, job.id, lookup) : job;
    });
  }

  /** undefined when the job runs; otherwise the halt to return (queued, lost, or failed). */
  private checkJobRunning(
    ctx: RunContext,
    role: JobRole,
    id: string,
    condition: string,
  ): StepOutcome | undefined {
    const lookup = requireSession(ctx).watcher.get(id);
    if (!lookup) {
      // A fresh process has not polled yet: keep what status says rather than flapping a True condition.
      if (findCondition(ctx.draft.status.conditions, condition)?.status === 'True')
        return halt(STARTING_POLL_MS);
      this.progressing(
        ctx,
        condition,
        ConditionReason.JobPending,
        `SLURM job ${id} submitted; waiting for its first state`,
      );
      if (ctx.draft.status.phase === BenchmarkPhase.Pending) ctx.draft.phase(BenchmarkPhase.Queued);
      return halt(STARTING_POLL_MS);
    }
    if (!isFound(lookup)) {
      ctx.draft.fail(
        condition,
        ConditionReason.JobLost,
        `SLURM job ${id} (${role}) left the queue and its end state could not be read`,
      );
      return halt();
    }
    if (isPending(lookup.state)) {
      const reason = lookup.reason ?? 'None';
      if (pendingReasonIsHopeless(lookup.reason)) {
        ctx.draft.fail(
          condition,
          ConditionReason.JobFailed,
          `SLURM job ${id} (${role}) can never start: pending with reason ${reason}`,
        );
        return halt();
      }
      this.progressing(ctx, condition, ConditionReason.JobPending, `SLURM job ${id} is pending: ${reason}`);
      ctx.draft.phase(BenchmarkPhase.Queued);
      return halt(STARTING_POLL_MS);
    }
    if (isTerminal(lookup.state)) return this.failForEndedJob(ctx, role, lookup, condition);
    return undefined;
  }

  private failForEndedJob(ctx: RunContext, role: JobRole, job: JobInfo, condition: string): StepOutcome {
    const message = describeEndedJob(role, job);
    ctx.draft.fail(condition, reasonForEndedJob(job), message);
    // The tail of the job's log is what tells the user what went wrong: commit() reads it before the write.
    this.pendingLogTails.set(ctx.run.tag, {
      role,
      jobId: job.id,
      message,
      condition,
      reason: reasonForEndedJob(job),
    });
    return halt();
  }

  private readonly pendingLogTails = new Map<
    string,
    { role: JobRole; jobId: string; message: string; condition: string; reason: string }
  >();

  /** Sets a not-yet-satisfied condition, and Provisioning once anything is submitted. */
  private progressing(ctx: RunContext, condition: string, reason: string, message: string): void {
    ctx.draft.set(condition, 'False', reason, message);
    ctx.draft.ready('False', reason, message);
    const phase = ctx.draft.status.phase;
    if (phase === undefined || phase === BenchmarkPhase.Pending || phase === BenchmarkPhase.Queued)
      ctx.draft.phase(
        reason === ConditionReason.JobPending ? BenchmarkPhase.Queued : BenchmarkPhase.Provisioning,
      );
  }

  // --- requests and files ----------------------------------------------------------------------------------

  /** A job writes its endpoint once; remembered per job id so a running benchmark costs no SFTP round trip. */
  private async jobEndpoint(
    session: ClusterSession,
    jobId: string,
    path: string,
  ): Promise<string | undefined> {
    const key = `${session.key}/${jobId}`;
    const known = this.endpoints.get(key);
    if (known) return known;
    const endpoint = (await session.files.readFileIfExists(path))?.trim();
    if (endpoint) this.endpoints.set(key, endpoint);
    return endpoint || undefined;
  }

  private async modelsDir(session: ClusterSession): Promise<string> {
    const known = this.homes.get(session.key);
    if (known) return known;
    // Ollama's own default (~/.ollama/models): models the site already pulled are found, none pulled twice.
    const result = await session.connection.exec('printf %s "$HOME"', { timeoutSeconds: 15 });
    const home = result.stdout.trim();
    if (result.code !== 0 || !home.startsWith('/')) throw new Error(`could not read $HOME on ${session.key}`);
    const dir = `${home}/.ollama/models`;
    this.homes.set(session.key, dir);
    return dir;
  }

  private async serverSubmitRequest(ctx: RunContext): Promise<SubmitRequest> {
    const session = requireSession(ctx);
    const paths = requirePaths(ctx);
    const cluster = session.spec;
    const { slurm, server, workload } = ctx.spec;
    const gpus = slurm.gpus ?? 0;
    const script = ollamaJobScript({
      endpointFile: paths.serverEndpoint,
      targetsDir: targetsDir(session.workDir),
      modelsDir: await this.modelsDir(session),
      numParallel: server.numParallel ?? Math.min(workload.clients, 1024),
      maxLoadedModels: server.maxLoadedModels,
      env: Object.fromEntries((server.env ?? []).map((entry) => [entry.name, entry.value])),
      runtime: {
        runtime: cluster.containerRuntime,
        ...(server.image ? { image: server.image } : {}),
        binds: [session.workDir],
        gpu: gpus > 0,
      },
      modules: cluster.modules ?? [],
      benchmark: ctx.name,
      model: ctx.spec.model.name,
    });
    return {
      script,
      name: jobName('server', ctx.namespace, ctx.name),
      ...placement(
        slurm.partition ?? cluster.defaults?.serverPartition,
        slurm.account ?? cluster.defaults?.account,
        slurm.qos ?? cluster.defaults?.qos,
      ),
      time: slurm.time,
      memGB: slurm.memGB,
      nodes: slurm.nodes,
      ...(slurm.cpusPerTask ? { cpus: slurm.cpusPerTask } : {}),
      ...(gpus > 0 ? { gres: `gpu:${gpus}` } : {}),
      tag: ctx.run.tag,
      output: paths.log('server'),
      workDir: paths.dir,
    };
  }

  private async clientSubmitRequest(ctx: RunContext): Promise<SubmitRequest> {
    const session = requireSession(ctx);
    const paths = requirePaths(ctx);
    const cluster = session.spec;
    const { slurm, clientService } = ctx.spec;
    const bundlePath = await session.ensureUploaded(
      'client-service.mjs',
      await this.deps.clientBundle(),
      0o644,
    );
    await this.clientToken(ctx);
    const pushgateway = ctx.draft.status.endpoints?.pushgateway;
    const monitoringOn =
      findCondition(ctx.draft.status.conditions, BenchmarkConditionType.MonitoringReady)?.reason !==
      ConditionReason.Disabled;
    const script = clientServiceJobScript({
      bundlePath,
      endpointFile: paths.clientEndpoint,
      targetsDir: targetsDir(session.workDir),
      tokenFile: paths.clientToken,
      ...(monitoringOn ? { metricsTokenFile: scrapeTokenFile(session.workDir) } : {}),
      ollamaUrl: `http://${ctx.ollamaEndpoint}`,
      ...(monitoringOn && pushgateway ? { pushgatewayUrl: `http://${pushgateway}` } : {}),
      outputDir: paths.results,
      benchmark: ctx.name,
      model: ctx.spec.model.name,
      // The bundle needs only node; container images for it are not part of the API yet.
      runtime: { runtime: 'native' },
      modules: cluster.modules ?? [],
    });
    return {
      script,
      name: jobName('client', ctx.namespace, ctx.name),
      ...placement(
        clientService.partition ?? cluster.defaults?.clientPartition,
        slurm.account ?? cluster.defaults?.account,
        slurm.qos ?? cluster.defaults?.qos,
      ),
      time: clientService.time,
      memGB: clientService.memGB,
      cpus: clientService.cpus,
      tag: ctx.run.tag,
      output: paths.log('client'),
      workDir: paths.dir,
    };
  }

  /** The per-run bearer token: generated once, kept only on the cluster (mode 0600) and in memory. */
  private async clientToken(ctx: RunContext): Promise<string> {
    const path = requirePaths(ctx).clientToken;
    const known = this.tokens.get(path);
    if (known) return known;
    const session = requireSession(ctx);
    const existing = (await session.files.readFileIfExists(path))?.trim();
    const token = existing || this.newToken();
    if (!existing) await session.files.uploadAtomic(path, token, 0o600);
    this.tokens.set(path, token);
    return token;
  }

  private startRunRequest(ctx: RunContext): StartRunRequest {
    const w = ctx.spec.workload;
    return StartRunRequest.parse({
      id: ctx.run.runId,
      model: ctx.spec.model.name,
      benchmark: ctx.name,
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

  // --- the write -------------------------------------------------------------------------------------------

  /** One status write per reconcile (skipped when nothing changed), then Events for what transitioned. */
  private async commit(object: BenchmarkObject, draft: StatusDraft, log: Logger): Promise<void> {
    const tail = draft.status.runId ? this.pendingLogTails.get(runTagOf(object, draft)) : undefined;
    if (tail) {
      this.pendingLogTails.delete(runTagOf(object, draft));
      const text = await this.readLogTail(object, draft, tail.role, tail.jobId);
      if (text) {
        const message = `${tail.message}. Last lines of the job's log:\n${text}`;
        draft.set(tail.condition, 'False', tail.reason, message);
        draft.set(BenchmarkConditionType.BenchmarkComplete, 'False', tail.reason, message);
        draft.ready('False', tail.reason, message);
      }
    }
    await this.deps.status.writeStatus(object, draft.status);
    for (const transition of draft.transitions) {
      const warning = transition.status === 'False' && isFailureReason(transition.reason);
      await this.deps.events.record(
        object,
        warning ? 'Warning' : 'Normal',
        transition.reason,
        `${transition.type}: ${transition.message}`,
      );
    }
    if (draft.phaseChanged && draft.status.phase) log.info({ phase: draft.status.phase }, 'phase changed');
  }

  private async readLogTail(
    object: BenchmarkObject,
    draft: StatusDraft,
    role: JobRole,
    jobId: string,
  ): Promise<string> {
    const name = object.metadata?.name ?? '';
    const namespace = object.metadata?.namespace ?? '';
    const clusterName = clusterRefName(object.spec);
    if (!clusterName || !draft.status.runId) return '';
    const lookup = this.deps.registry.lookup(`${namespace}/${clusterName}`);
    if (!lookup.ok) return '';
    const paths = runPaths(lookup.session.workDir, namespace, name, draft.status.runId);
    try {
      return (await lookup.session.files.tail(jobLogPath(paths, role, jobId), LOG_TAIL_CHARS)).trim();
    } catch {
      return '';
    }
  }

  private forgetRun(run: RunIdentity, jobIds: readonly string[] = [], sessionKey = ''): void {
    this.puller.forget(run.runId);
    for (const id of jobIds) this.endpoints.delete(`${sessionKey}/${id}`);
    for (const role of ['server', 'client'] as const) this.submitted.delete(`${run.tag}/${role}`);
  }
}

const FAILURE_REASONS: ReadonlySet<string> = new Set([
  ConditionReason.InvalidSpec,
  ConditionReason.TooManyErrors,
  ConditionReason.ClusterNotFound,
  ConditionReason.SubmitFailed,
  ConditionReason.JobFailed,
  ConditionReason.JobTimeout,
  ConditionReason.OutOfMemory,
  ConditionReason.NodeFail,
  ConditionReason.JobCancelled,
  ConditionReason.JobLost,
  ConditionReason.ModelPullFailed,
  ConditionReason.RunFailed,
  ConditionReason.ClientUnhealthy,
  ConditionReason.Deleting,
]);

function isFailureReason(reason: string): boolean {
  return FAILURE_REASONS.has(reason);
}

function isSettledPhase(phase: string | undefined): boolean {
  return phase !== undefined && TERMINAL_PHASES.has(phase as BenchmarkPhase);
}

function runTagOf(object: BenchmarkObject, draft: StatusDraft): string {
  return runIdentity(object.metadata?.uid ?? '', draft.status.observedGeneration ?? 1).tag;
}

function clusterKeyOf(ctx: RunContext): string {
  return `${ctx.namespace}/${ctx.spec.clusterRef.name}`;
}

function clusterRefName(spec: unknown): string | undefined {
  if (typeof spec !== 'object' || spec === null) return undefined;
  const ref = (spec as { clusterRef?: { name?: unknown } }).clusterRef;
  return typeof ref?.name === 'string' ? ref.name : undefined;
}

function requireSession(ctx: RunContext): ClusterSession {
  if (!ctx.session) throw new Error('internal: step ran before the cluster session was resolved');
  return ctx.session;
}

function requirePaths(ctx: RunContext): RunPaths {
  if (!ctx.paths) throw new Error('internal: step ran before the run paths were known');
  return ctx.paths;
}

function placement(
  partition: string | undefined,
  account: string | undefined,
  qos: string | undefined,
): Partial<SubmitRequest> {
  return {
    ...(partition ? { partition } : {}),
    ...(account ? { account } : {}),
    ...(qos ? { qos } : {}),
  };
}

type RunVerdict =
  | { succeeded: true; message: string }
  | { succeeded: false; reason: ConditionReason; message: string };

/**
 * Succeeded, or why not. A run counts as Succeeded when the client service finished it, at least one
 * measured request succeeded, and the share of failed ones is at most workload.maxErrorRate. The
 * message counts the failures by kind either way.
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

/**
 * Status numbers keep 3 decimals (microseconds for the *Ms fields): `kubectl get` prints number columns at full
 * precision, and 14.452010864985795 tok/s helps nobody. The full-precision summary stays in the run's files.
 */
export function roundNumbers<T>(value: T): T {
  if (typeof value === 'number')
    return (Number.isFinite(value) ? Math.round(value * 1000) / 1000 : value) as T;
  if (Array.isArray(value)) return value.map((item) => roundNumbers(item)) as T;
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, roundNumbers(item)])) as T;
  return value;
}
