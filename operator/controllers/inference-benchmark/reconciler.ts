import { randomBytes } from 'node:crypto';
import {
  BenchmarkConditionType,
  ConditionReason,
  formatFieldErrors,
  InferenceBenchmarkSpec,
  parseWith,
} from '../../../crds/index.js';
import { SshError } from '../../../slurm-bridge/index.js';
import {
  keyToString,
  type ObjectKey,
  type ReconcileContext,
  type ReconcileResult,
  type Reconciler,
} from '../../runtime/reconciler.js';
import { clusterKey } from './cluster-ref.js';
import { commitStatus } from './commit.js';
import {
  type BenchmarkReconcilerDeps,
  type BenchmarkServices,
  halt,
  isPersistedSettled,
  isSettledPhase,
  RUN_POLL_MS,
  type RunContext,
  SETTLE_AFTER_WRITE_MS,
  type Step,
  type StepOutcome,
} from './context.js';
import { addLogTail } from './jobs.js';
import { squeueOwnedJobFinder } from './owned-jobs.js';
import { runIdentity } from './run-identity.js';
import { RunMemory, type RunMemorySizes } from './run-memory.js';
import { BenchmarkStatusDraft } from './status-draft.js';
import { admit } from './steps/admit.js';
import { ensureClient } from './steps/client.js';
import { recheckRefusedDataset } from './steps/dataset.js';
import { handleDeletion } from './steps/deletion.js';
import { ensureMonitoringReady } from './steps/monitoring.js';
import { startRunOnNewGeneration } from './steps/new-generation.js';
import { resolveSession } from './steps/resolve-session.js';
import { ensureRun } from './steps/run.js';
import { ensureServer } from './steps/server.js';
import { settleRun } from './steps/settle-run.js';
import { refreshLiveLogs } from './steps/store-results.js';

export type {
  BenchmarkObject,
  BenchmarkReconcilerDeps,
  ObjectCache,
  SlurmClusterObject,
} from './context.js';

/**
 * The InferenceBenchmark pipeline (docs/architecture.md#reconcile-pipeline), one file per step under
 * steps/. Each step returns "go on", "halt (and look again later)" or throws. Level-triggered: every step
 * re-derives where the run stands from the cache, the job watcher and the cluster, so a restart anywhere
 * resumes.
 */
const PIPELINE: readonly Step[] = [
  startRunOnNewGeneration,
  recheckRefusedDataset,
  settleRun,
  resolveSession,
  refreshLiveLogs,
  ensureMonitoringReady,
  admit,
  ensureServer,
  ensureClient,
  ensureRun,
];

/**
 * Reconciles one InferenceBenchmark: validate, add the finalizer, run the pipeline on a per-reconcile
 * RunContext, and write the status computed on its draft once at the end, only when it changed.
 */
export class InferenceBenchmarkReconciler implements Reconciler {
  private readonly services: BenchmarkServices;

  constructor(deps: BenchmarkReconcilerDeps) {
    this.services = {
      ...deps,
      ownedJobs: deps.ownedJobs ?? squeueOwnedJobFinder,
      newToken: deps.newToken ?? (() => randomBytes(32).toString('base64url')),
      memory: new RunMemory(),
    };
  }

  /** How much this process remembers of runs (the tests check that settled runs leave nothing behind). */
  cacheSizes(): RunMemorySizes {
    return this.services.memory.sizes();
  }

  async reconcile(key: ObjectKey, context: ReconcileContext): Promise<ReconcileResult | undefined> {
    const { services } = this;
    const object = services.benchmarks.get(key.namespace, key.name);
    if (!object) return undefined;
    if (object.metadata?.deletionTimestamp) return handleDeletion(services, object, key, context.log);

    const generation = object.metadata?.generation ?? 1;
    const draft = new BenchmarkStatusDraft(object.status, generation, services.clock.now());
    const parsed = parseWith(InferenceBenchmarkSpec, object.spec);
    if (!parsed.ok) {
      const message = `invalid spec: ${formatFieldErrors(parsed.errors.map((e) => ({ ...e, field: `spec.${e.field}` })))}`;
      draft.fail(BenchmarkConditionType.Ready, ConditionReason.InvalidSpec, message);
      await commitStatus(services, object, draft, context.log);
      // Terminal: a spec this operator cannot read will not fix itself; a new generation re-runs us.
      return undefined;
    }

    const ctx: RunContext = {
      services,
      object: (await services.finalizers.ensure(object)) ?? object,
      namespace: key.namespace,
      name: key.name,
      ownerKey: keyToString(key),
      clusterKey: clusterKey(key.namespace, parsed.value.clusterRef.name),
      spec: parsed.value,
      run: runIdentity(object.metadata?.uid ?? '', generation),
      draft,
      log: context.log,
      endpoints: {},
    };

    let outcome: StepOutcome;
    try {
      outcome = await runPipeline(ctx);
    } catch (error) {
      if (!(error instanceof SshError)) throw error;
      // The shared connection reconnects by itself; look again soon instead of backing off for minutes.
      context.log.warn({ err: error.message }, 'cluster connection trouble; retrying soon');
      outcome = halt(RUN_POLL_MS);
    }
    await addLogTail(ctx);
    await commitStatus(services, ctx.object, draft, context.log);
    return outcome?.requeueAfterMs !== undefined ? { requeueAfterMs: outcome.requeueAfterMs } : undefined;
  }
}

async function runPipeline(ctx: RunContext): Promise<StepOutcome> {
  for (const step of PIPELINE) {
    const outcome = await step(ctx);
    // The run's end is decided: write it first. Its jobs are cancelled only by a later reconcile that
    // reads the end back from the apiserver (settleRun), so a failed write never meets our own cancel.
    if (decidedNow(ctx)) return halt(SETTLE_AFTER_WRITE_MS);
    if (outcome) return outcome;
  }
  return undefined;
}

/** This reconcile moved the run to Succeeded or Failed; the apiserver does not know it yet. */
function decidedNow(ctx: RunContext): boolean {
  return isSettledPhase(ctx.draft.status.phase) && !isPersistedSettled(ctx);
}
