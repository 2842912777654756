import type { Logger } from 'pino';
import { ConditionReason } from '../../../crds/index.js';
import type { BenchmarkObject, BenchmarkServices } from './context.js';
import type { BenchmarkStatusDraft } from './status-draft.js';

/** One status write per reconcile (skipped when nothing changed), then Events for what transitioned. */
export async function commitStatus(
  services: BenchmarkServices,
  object: BenchmarkObject,
  draft: BenchmarkStatusDraft,
  log: Logger,
): Promise<void> {
  await services.status.writeStatus(object, draft.status);
  for (const transition of draft.eventTransitions()) {
    const warning = transition.status === 'False' && FAILURE_REASONS.has(transition.reason);
    await services.events.record(
      object,
      warning ? 'Warning' : 'Normal',
      transition.reason,
      `${transition.type}: ${transition.message}`,
    );
  }
  if (draft.phaseChanged && draft.status.phase) log.info({ phase: draft.status.phase }, 'phase changed');
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
