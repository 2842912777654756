import { ConditionReason } from '../../../../crds/index.js';
import type { SessionLookup } from '../../../cluster/types.js';
import {
  halt,
  pendingWhileNothingSubmitted,
  type RunContext,
  type StepOutcome,
  WAITING_FOR_CLUSTER_MS,
} from '../context.js';
import { runPaths } from '../run-identity.js';

/** The SlurmCluster's shared SSH session and the run's remote paths, or why there is none. */
export async function resolveSession(ctx: RunContext): Promise<StepOutcome> {
  const lookup = clusterLookup(ctx);
  if (!lookup.ok) {
    ctx.draft.ready('False', lookup.reason, lookup.message);
    pendingWhileNothingSubmitted(ctx);
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
export function clusterLookup(ctx: RunContext): SessionLookup {
  const clusterName = ctx.spec.clusterRef.name;
  if (!ctx.services.clusters.get(ctx.namespace, clusterName))
    return {
      ok: false,
      reason: ConditionReason.ClusterNotFound,
      message: `SlurmCluster ${clusterName} not found in namespace ${ctx.namespace}: create it, or fix spec.clusterRef.name`,
    };
  return ctx.services.registry.lookup(ctx.clusterKey);
}
