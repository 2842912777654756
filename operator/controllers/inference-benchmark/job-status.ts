import type { InferenceBenchmarkStatus } from '../../../crds/index.js';
import { ConditionReason } from '../../../crds/index.js';
import { isFound, isTerminal, type JobInfo, type JobLookup } from '../../../slurm-bridge/index.js';
import { parseJobState } from '../../../slurm-bridge/slurm/states.js';
import { toKubeTime } from '../../runtime/conditions.js';
import type { JobRole } from './run-identity.js';

export type BenchmarkSlurmJob = NonNullable<InferenceBenchmarkStatus['slurmJobs']>[number];

/** status.slurmJobs entry of one job, from the watcher's latest observation. */
export function slurmJobEntry(role: JobRole, id: string, lookup: JobLookup | undefined): BenchmarkSlurmJob {
  if (!lookup) return { role, id, state: 'SUBMITTED' };
  if (!isFound(lookup)) return { role, id, state: 'UNKNOWN', reason: 'Slurm no longer knows this job' };
  const entry: BenchmarkSlurmJob = { role, id, state: lookup.rawState.split(/\s+/)[0] || lookup.state };
  if (lookup.reason && lookup.reason !== 'None') entry.reason = lookup.reason.slice(0, 1024);
  if (lookup.nodeList) entry.node = lookup.nodeList.slice(0, 253);
  if (lookup.submitTime) entry.submitTime = toKubeTime(lookup.submitTime.getTime());
  if (lookup.startTime && lookup.startTime.getTime() > 0)
    entry.startTime = toKubeTime(lookup.startTime.getTime());
  if (lookup.endTime && isFinishedTime(lookup)) entry.endTime = toKubeTime(lookup.endTime.getTime());
  if (lookup.exitCode !== null) entry.exitCode = `${lookup.exitCode}:${lookup.exitSignal ?? 0}`;
  return entry;
}

/** The entry shows how the job ended (or that Slurm forgot it): nothing about it can change any more. */
export function isFinalEntry(job: BenchmarkSlurmJob): boolean {
  return job.state === 'UNKNOWN' || isTerminal(parseJobState(job.state ?? ''));
}

/** squeue prints a projected end time for running jobs; only a finished job's end time is a fact. */
function isFinishedTime(job: JobInfo): boolean {
  return !['PENDING', 'RUNNING', 'CONFIGURING', 'COMPLETING', 'SUSPENDED'].includes(job.state);
}

/** Condition reason for a job that ended while the run still needed it. */
export function reasonForEndedJob(job: JobInfo): ConditionReason {
  switch (job.state) {
    case 'TIMEOUT':
      return ConditionReason.JobTimeout;
    case 'OUT_OF_MEMORY':
      return ConditionReason.OutOfMemory;
    case 'NODE_FAIL':
      return ConditionReason.NodeFail;
    case 'CANCELLED':
    case 'PREEMPTED':
    case 'REVOKED':
      return ConditionReason.JobCancelled;
    default:
      return ConditionReason.JobFailed;
  }
}

/**
 * A sentence naming the job, its state and Slurm's reason, to which the log tail is appended. `what` names
 * what the job ran ("Ollama server").
 */
export function describeEndedJob(what: string, job: JobInfo): string {
  const exit = job.exitCode !== null ? `, exit code ${job.exitCode}:${job.exitSignal ?? 0}` : '';
  const reason = job.reason && job.reason !== 'None' ? ` (${job.reason})` : '';
  if (job.state === 'CANCELLED')
    return `SLURM job ${job.id} (${what}) was cancelled outside the operator${reason}${exit}`;
  return `SLURM job ${job.id} (${what}) ended with state ${job.state}${reason}${exit} before the run finished`;
}
