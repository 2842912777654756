import { ConditionReason } from '../../../../crds/index.js';
import { isTerminal } from '../../../../slurm-bridge/index.js';
import { forgetRun, halt, type RunContext, type StepOutcome, WAITING_FOR_CLUSTER_MS } from '../context.js';

/** A new generation starts a new run; the jobs of every older run are cancelled first. */
export async function startRunOnNewGeneration(ctx: RunContext): Promise<StepOutcome> {
  const previousRunId = ctx.draft.status.runId;
  if (previousRunId === ctx.run.runId) return undefined;
  if (previousRunId !== undefined) {
    const { registry, ownedJobs } = ctx.services;
    const lookup = registry.lookup(ctx.clusterKey);
    if (!lookup.ok) {
      ctx.draft.ready(
        'False',
        lookup.reason,
        `spec changed; waiting for the cluster to cancel the old jobs: ${lookup.message}`,
      );
      return halt(WAITING_FOR_CLUSTER_MS);
    }
    const old = (await ownedJobs.withTagPrefix(lookup.session, ctx.run.tagPrefix)).filter(
      (job) => job.comment !== ctx.run.tag && !isTerminal(job.state),
    );
    await lookup.session.slurm.cancel(old.map((job) => job.id));
    lookup.session.watcher.unwatch(ctx.ownerKey);
    forgetRun(ctx.services, previousRunId);
    ctx.log.info({ cancelled: old.map((job) => job.id), previousRunId }, 'spec changed: new run');
    ctx.draft.transitions.push({
      type: 'Run',
      status: 'Unknown',
      reason: ConditionReason.SpecChanged,
      message: `spec changed (generation ${ctx.run.generation}): cancelled ${old.length} job(s) of the previous run, starting a new one`,
      flipped: true,
    });
  }
  ctx.draft.resetForRun(ctx.run.runId);
  return undefined;
}
