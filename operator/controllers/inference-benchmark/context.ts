import type * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import {
  BenchmarkPhase,
  ConditionReason,
  type InferenceBenchmarkSpec,
  type InferenceBenchmarkStatus,
  type SlurmClusterStatus,
  TERMINAL_PHASES,
} from '../../../crds/index.js';
import type { ClusterRegistry, ClusterSession } from '../../cluster/types.js';
import type { Clock } from '../../runtime/clock.js';
import type { EventTarget, EventType } from '../../runtime/events.js';
import type { SecretReader } from '../../runtime/secrets.js';
import type { ConfigMapKeyReader } from './dataset-source.js';
import type { OwnedJobFinder } from './owned-jobs.js';
import type { ResultsConfigMapWriter } from './results-configmaps.js';
import type { JobRole, RunIdentity, RunPaths } from './run-identity.js';
import type { RunMemory } from './run-memory.js';
import type { BenchmarkStatusDraft } from './status-draft.js';

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
  /** Where each run's results ConfigMap goes (steps/store-results.ts); none: no ConfigMap is written. */
  resultsConfigMaps?: ResultsConfigMapWriter;
  /** Reads the Hugging Face token Secret of a spec (get only; the bytes go to SFTP, never to a log). */
  secrets?: Pick<SecretReader, 'read'>;
  /** Reads workload.dataset's ConfigMap key (get only; steps/dataset.ts). */
  configMaps?: ConfigMapKeyReader;
}

/** What lives as long as the reconciler: its dependencies and the in-memory caches every reconcile shares. */
export interface BenchmarkServices extends BenchmarkReconcilerDeps {
  readonly ownedJobs: OwnedJobFinder;
  readonly newToken: () => string;
  readonly memory: RunMemory;
}

/** A job ended under the run: the tail of its log is read (once, before the write) and added to the message. */
export interface PendingLogTail {
  readonly role: JobRole;
  readonly jobId: string;
  readonly condition: string;
  readonly reason: string;
  readonly message: string;
}

/** Everything one reconcile of one valid benchmark works with; the steps pass their findings on here. */
export interface RunContext {
  readonly services: BenchmarkServices;
  readonly object: BenchmarkObject;
  readonly namespace: string;
  readonly name: string;
  /** namespace/name of the benchmark: the owner of its watched jobs, its admission key. */
  readonly ownerKey: string;
  /** namespace/name of its SlurmCluster: the registry's and admission's key. */
  readonly clusterKey: string;
  readonly spec: InferenceBenchmarkSpec;
  readonly run: RunIdentity;
  readonly draft: BenchmarkStatusDraft;
  readonly log: Logger;
  /** Set by resolveSession. */
  session?: ClusterSession;
  /** Set by resolveSession: where the run keeps its files on the cluster. */
  paths?: RunPaths;
  /** host:port of each role's service, set by ensureRole once its job wrote its endpoint file. */
  readonly endpoints: Partial<Record<JobRole, string>>;
  logTail?: PendingLogTail;
}

/** "go on" (undefined), or halt the pipeline and look again after `requeueAfterMs` (never, when absent). */
export type StepOutcome = { readonly halt: true; readonly requeueAfterMs?: number } | undefined;

export type Step = (ctx: RunContext) => Promise<StepOutcome>;

export const halt = (requeueAfterMs?: number): StepOutcome => ({
  halt: true,
  ...(requeueAfterMs !== undefined ? { requeueAfterMs } : {}),
});

/** How soon to look again while something on the cluster is starting, and while a run goes. */
export const STARTING_POLL_MS = 2_000;
export const RUN_POLL_MS = 3_000;
export const WAITING_FOR_CLUSTER_MS = 10_000;
/** A fallback only: a freed place wakes the waiting benchmarks at once through onCapacityFreed. */
export const WAITING_FOR_CAPACITY_MS = 15_000;
export const SETTLED_CHECK_MS = 60_000;
/** A fallback only: the status write of a run's end wakes the benchmark through the informer at once. */
export const SETTLE_AFTER_WRITE_MS = 1_000;

export function requireSession(ctx: RunContext): ClusterSession {
  if (!ctx.session) throw new Error('internal: step ran before the cluster session was resolved');
  return ctx.session;
}

export function requirePaths(ctx: RunContext): RunPaths {
  if (!ctx.paths) throw new Error('internal: step ran before the run paths were known');
  return ctx.paths;
}

/** Sets a not-yet-satisfied condition, and Provisioning once anything is submitted. */
export function progressing(ctx: RunContext, condition: string, reason: string, message: string): void {
  ctx.draft.set(condition, 'False', reason, message);
  ctx.draft.ready('False', reason, message);
  const phase = ctx.draft.status.phase;
  if (phase === undefined || phase === BenchmarkPhase.Pending || phase === BenchmarkPhase.Queued)
    ctx.draft.phase(
      reason === ConditionReason.JobPending ? BenchmarkPhase.Queued : BenchmarkPhase.Provisioning,
    );
}

/** Pending until something is submitted; a benchmark already Queued stays Queued (no flapping). */
export function pendingWhileNothingSubmitted(ctx: RunContext): void {
  if (
    !ctx.draft.status.slurmJobs?.length &&
    (ctx.draft.status.phase ?? BenchmarkPhase.Pending) === BenchmarkPhase.Pending
  )
    ctx.draft.phase(BenchmarkPhase.Pending);
}

/** Drops what this process remembers of a run: caches only, nothing that decides anything. */
export function forgetRun(services: BenchmarkServices, runId: string): void {
  services.memory.forget(runId);
}

/** The run's end (Succeeded or Failed), as this reconcile computes it or as the apiserver holds it. */
export function isSettledPhase(phase: string | undefined): boolean {
  return phase !== undefined && TERMINAL_PHASES.has(phase as BenchmarkPhase);
}

/** The object as read says this run ended: its result is safe in the apiserver. */
export function isPersistedSettled(ctx: RunContext): boolean {
  const persisted = ctx.object.status;
  return persisted?.runId === ctx.run.runId && isSettledPhase(persisted?.phase);
}
