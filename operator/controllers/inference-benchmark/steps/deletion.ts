import type { Logger } from 'pino';
import { BENCHMARK_FINALIZER, ConditionReason, FORCE_DELETE_ANNOTATION } from '../../../../crds/index.js';
import { isFound, isTerminal } from '../../../../slurm-bridge/index.js';
import type { SessionLookup } from '../../../cluster/types.js';
import { keyToString, type ObjectKey, type ReconcileResult } from '../../../runtime/reconciler.js';
import { clusterKey, clusterRefName } from '../cluster-ref.js';
import { commitStatus } from '../commit.js';
import { type BenchmarkObject, type BenchmarkServices, WAITING_FOR_CLUSTER_MS } from '../context.js';
import { runIdentity } from '../run-identity.js';
import { BenchmarkStatusDraft } from '../status-draft.js';

/**
 * A benchmark being deleted. Fail-closed: the finalizer goes only once every job of every run (found by
 * tag) is cancelled, or when an admin forces it. It runs on the unvalidated object, before any run context.
 */
export async function handleDeletion(
  services: BenchmarkServices,
  object: BenchmarkObject,
  key: ObjectKey,
  log: Logger,
): Promise<ReconcileResult | undefined> {
  if (!object.metadata?.finalizers?.includes(BENCHMARK_FINALIZER)) return undefined;
  const forced = object.metadata?.annotations?.[FORCE_DELETE_ANNOTATION] === 'true';
  const clusterName = clusterRefName(object);
  const lookup: SessionLookup = clusterName
    ? services.registry.lookup(clusterKey(key.namespace, clusterName))
    : { ok: false, reason: 'ClusterNotFound', message: 'spec.clusterRef.name is not set' };
  if (!lookup.ok) {
    // Admission is written to status before anything is submitted, and every job is recorded in status, so a
    // benchmark with neither never had a job: there is nothing to cancel, and nothing to wait for.
    if (!forced && neverSubmitted(object)) {
      log.info({ reason: lookup.reason }, 'benchmark deleted: it never submitted a job, nothing to cancel');
      await services.finalizers.remove(object);
      forgetBenchmark(services, object);
      return undefined;
    }
    if (forced) {
      log.warn({ reason: lookup.reason }, 'force-delete: removing the finalizer without cancelling jobs');
      await services.events.record(
        object,
        'Warning',
        ConditionReason.Deleting,
        `forced deletion while the cluster is unreachable (${lookup.message}); SLURM jobs may be left running`,
      );
      await services.finalizers.remove(object);
      forgetBenchmark(services, object);
      return undefined;
    }
    const draft = new BenchmarkStatusDraft(
      object.status,
      object.metadata?.generation ?? 1,
      services.clock.now(),
    );
    draft.ready(
      'False',
      ConditionReason.Deleting,
      `cannot cancel the SLURM jobs: ${lookup.message}. The object stays until the cluster answers; set annotation ${FORCE_DELETE_ANNOTATION}: "true" to remove it anyway`,
    );
    await commitStatus(services, object, draft, log);
    return { requeueAfterMs: WAITING_FOR_CLUSTER_MS };
  }
  const uid = object.metadata?.uid ?? '';
  const tagged = await services.ownedJobs.withTagPrefix(lookup.session, runIdentity(uid, 0).tagPrefix);
  const live = new Set(tagged.filter((job) => !isTerminal(job.state)).map((job) => job.id));
  for (const job of object.status?.slurmJobs ?? []) {
    const seen = lookup.session.watcher.get(job.id);
    if (!seen || (isFound(seen) && !isTerminal(seen.state))) live.add(job.id);
  }
  await lookup.session.slurm.cancel([...live]);
  lookup.session.watcher.unwatch(keyToString(key));
  log.info({ cancelled: [...live] }, 'benchmark deleted: cancelled its jobs');
  if (clusterName) services.onCapacityFreed?.(key.namespace, clusterName);
  await services.finalizers.remove(object);
  forgetBenchmark(services, object);
  return undefined;
}

function neverSubmitted(object: BenchmarkObject): boolean {
  return object.status?.admission === undefined && (object.status?.slurmJobs?.length ?? 0) === 0;
}

/** Every run of the benchmark (`<uid>-g<generation>`) leaves this process's memory. */
function forgetBenchmark(services: BenchmarkServices, object: BenchmarkObject): void {
  const runIdPrefix = `${object.metadata?.uid ?? ''}-g`;
  services.memory.forgetAll(runIdPrefix);
}
