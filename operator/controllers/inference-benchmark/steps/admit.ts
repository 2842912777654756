import {
  BenchmarkConditionType,
  BenchmarkPhase,
  ConditionReason,
  TERMINAL_PHASES,
} from '../../../../crds/index.js';
import { createdAtMs, keyOf } from '../../../runtime/reconciler.js';
import type { AdmissionCandidate } from '../admission.js';
import { clusterRefName } from '../cluster-ref.js';
import {
  type BenchmarkServices,
  halt,
  type RunContext,
  type StepOutcome,
  WAITING_FOR_CAPACITY_MS,
} from '../context.js';

/** The cluster's maxActiveBenchmarks: a benchmark without jobs waits its turn before it submits any. */
export async function admit(ctx: RunContext): Promise<StepOutcome> {
  const { admission, clusters } = ctx.services;
  const clusterName = ctx.spec.clusterRef.name;
  const limit = clusters.get(ctx.namespace, clusterName)?.spec?.maxActiveBenchmarks;
  const decision = admission.decide(
    ctx.clusterKey,
    ctx.ownerKey,
    typeof limit === 'number' ? limit : undefined,
    admissionCandidates(ctx.services, ctx.namespace, clusterName),
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

function admissionCandidates(
  services: BenchmarkServices,
  namespace: string,
  clusterName: string,
): AdmissionCandidate[] {
  return services.benchmarks
    .list(namespace)
    .filter((benchmark) => clusterRefName(benchmark) === clusterName)
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
export function releasePlace(ctx: RunContext): void {
  if (ctx.services.admission.release(ctx.clusterKey, ctx.ownerKey, ctx.run.runId))
    ctx.services.onCapacityFreed?.(ctx.namespace, ctx.spec.clusterRef.name);
}
