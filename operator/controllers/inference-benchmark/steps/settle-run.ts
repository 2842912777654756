import { isFound, isTerminal, sanitizeJobName } from '../../../../slurm-bridge/index.js';
import {
  forgetRun,
  halt,
  isPersistedSettled,
  type RunContext,
  SETTLED_CHECK_MS,
  type StepOutcome,
  WAITING_FOR_CLUSTER_MS,
} from '../context.js';
import { isFinalEntry } from '../job-status.js';
import { refreshJobEntries } from '../jobs.js';
import { type JobRole, jobName } from '../run-identity.js';
import { releasePlace } from './admit.js';
import { clusterLookup } from './resolve-session.js';
import { storeResults } from './store-results.js';

/**
 * A run whose end (Succeeded or Failed) the apiserver already holds (docs/architecture.md#the-end-of-a-run):
 * free its place and its caches, cancel what still runs (unless Keep), and bring status.slurmJobs to the
 * jobs' final states. It never touches a condition: a settled benchmark reads the same whether the cluster
 * is reachable or not, before and after a restart.
 */
export async function settleRun(ctx: RunContext): Promise<StepOutcome> {
  if (!isPersistedSettled(ctx)) return undefined;
  // No later step runs for a settled run: its token, endpoints and jobs need no memory any more.
  forgetRun(ctx.services, ctx.run.runId);
  const jobs = ctx.draft.status.slurmJobs ?? [];
  // The first look at the end still holds the run's place: that is when the run's jobs are cancelled by
  // tag too, so a job that never reached status (a crash right after its sbatch) does not outlive the run.
  const firstLook = ctx.draft.status.admission?.runId === ctx.run.runId;
  if (!firstLook && jobs.every(isFinalEntry)) return storeResults(ctx);
  const lookup = clusterLookup(ctx);
  if (!lookup.ok) return halt(WAITING_FOR_CLUSTER_MS);
  const session = lookup.session;
  if (ctx.spec.cleanupPolicy === 'Delete') {
    const live = new Set(
      jobs
        .filter((job) => {
          const seen = session.watcher.get(job.id);
          return !seen || (isFound(seen) && !isTerminal(seen.state));
        })
        .map((job) => job.id),
    );
    if (firstLook) {
      const names = RUN_ROLES.map((role) => sanitizeJobName(jobName(role, ctx.namespace, ctx.name)));
      for (const job of await ctx.services.ownedJobs.withTagPrefix(session, ctx.run.tag, names))
        if (job.comment === ctx.run.tag && !isTerminal(job.state)) live.add(job.id);
    }
    await session.slurm.cancel([...live]);
    if (live.size > 0) ctx.log.info({ jobs: [...live] }, 'run finished: cancelled its jobs');
  }
  releasePlace(ctx);
  refreshJobEntries(ctx, session);
  const allSettled = jobs.every((job) => {
    const seen = session.watcher.get(job.id);
    return seen !== undefined && (!isFound(seen) || isTerminal(seen.state));
  });
  if (allSettled || ctx.spec.cleanupPolicy === 'Keep') {
    session.watcher.unwatch(ctx.ownerKey);
    return halt(allSettled ? undefined : SETTLED_CHECK_MS);
  }
  session.watcher.watch(
    ctx.ownerKey,
    jobs.map((job) => job.id),
  );
  return halt(SETTLED_CHECK_MS);
}

/** Every role a run submits a job for: the clean-up listing asks slurmctld for their names only. */
const RUN_ROLES: readonly JobRole[] = ['server', 'client'];
