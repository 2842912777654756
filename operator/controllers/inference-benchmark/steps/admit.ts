import {
  BenchmarkConditionType,
  BenchmarkPhase,
  ConditionReason,
  TERMINAL_PHASES,
} from '../../../../crds/index.js';
import { toKubeTime } from '../../../runtime/conditions.js';
import { createdAtMs, keyOf } from '../../../runtime/reconciler.js';
import { type AdmissionCandidate, decideAdmission } from '../admission.js';
import { clusterRefName } from '../cluster-ref.js';
import {
  type BenchmarkObject,
  halt,
  type ObjectCache,
  type RunContext,
  type StepOutcome,
  WAITING_FOR_CAPACITY_MS,
} from '../context.js';

/**
 * The cluster's maxActiveBenchmarks: a benchmark without a place waits its turn before it submits anything.
 * A place given now is written to status.admission and the pipeline stops there, so the place is in the
 * apiserver before the first sbatch; the write wakes the benchmark again at once.
 */
export async function admit(ctx: RunContext): Promise<StepOutcome> {
  const clusterName = ctx.spec.clusterRef.name;
  const limit = ctx.services.clusters.get(ctx.namespace, clusterName)?.spec?.maxActiveBenchmarks;
  const candidates = admissionCandidates(ctx.services.benchmarks, ctx.namespace, clusterName);
  const self = candidates.find((candidate) => candidate.key === ctx.ownerKey) ?? {
    key: ctx.ownerKey,
    createdAt: createdAtMs(ctx.object),
    holdsPlace: false,
    settled: false,
  };
  const holds =
    ctx.draft.status.admission?.runId === ctx.run.runId || (ctx.draft.status.slurmJobs?.length ?? 0) > 0;
  const decision = decideAdmission(
    { ...self, holdsPlace: holds },
    typeof limit === 'number' ? limit : undefined,
    candidates,
  );
  if (decision.admitted) {
    if (decision.alreadyHeld) return undefined;
    ctx.draft.status.admission = { runId: ctx.run.runId, admittedAt: toKubeTime(ctx.services.clock.now()) };
    return halt(ADMITTED_WRITE_MS);
  }
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

/** A fallback only: the write of the place wakes the benchmark through the informer at once. */
const ADMITTED_WRITE_MS = 1_000;

/** The benchmarks of one cluster as admission sees them (the informer's view). */
export function admissionCandidates(
  benchmarks: ObjectCache<BenchmarkObject>,
  namespace: string,
  clusterName: string,
): AdmissionCandidate[] {
  return benchmarks
    .list(namespace)
    .filter((benchmark) => clusterRefName(benchmark) === clusterName)
    .map(admissionCandidate);
}

function admissionCandidate(benchmark: BenchmarkObject): AdmissionCandidate {
  const status = benchmark.status;
  return {
    key: keyOf(benchmark),
    createdAt: createdAtMs(benchmark),
    holdsPlace:
      (status?.admission !== undefined && status.admission.runId === status.runId) ||
      (status?.slurmJobs?.length ?? 0) > 0,
    settled: freesItsPlace(benchmark),
  };
}

/** Succeeded, Failed or being deleted: the benchmark holds no place any more (and waits for none). */
export function freesItsPlace(benchmark: BenchmarkObject): boolean {
  return (
    benchmark.metadata?.deletionTimestamp !== undefined ||
    TERMINAL_PHASES.has(benchmark.status?.phase ?? BenchmarkPhase.Pending)
  );
}

/** It holds a place and has not ended: its run is doing work on the cluster. */
export function holdsLivePlace(benchmark: BenchmarkObject): boolean {
  const candidate = admissionCandidate(benchmark);
  return candidate.holdsPlace && !candidate.settled;
}

/**
 * The run ended (the apiserver holds its end): its place is given back in the status being written, and
 * the benchmarks waiting on the cluster are woken. Only while status.admission is still set, so they are
 * woken once per run, whichever process sees the end.
 */
export function releasePlace(ctx: RunContext): void {
  if (ctx.draft.status.admission === undefined) return;
  delete ctx.draft.status.admission;
  ctx.services.onCapacityFreed?.(ctx.namespace, ctx.spec.clusterRef.name);
}
