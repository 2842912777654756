import type { JobFailureReason, JobState } from './states.js';

/** Everything the operator needs to know about one job, from squeue, scontrol, sacct or the finished-job cache. */
export interface JobInfo {
  readonly id: string;
  readonly name: string;
  readonly state: JobState;
  /** Slurm's text when `state` is Unknown (or always, for logs). */
  readonly rawState: string;
  /** Slurm's reason: the pending reason while PENDING (Resources, Priority, ...), else why it ended. */
  readonly reason: string | null;
  readonly nodeList: string | null;
  readonly nodes: readonly string[];
  readonly partition: string | null;
  readonly account: string | null;
  readonly user: string | null;
  readonly comment: string | null;
  readonly submitTime: Date | null;
  readonly startTime: Date | null;
  readonly endTime: Date | null;
  readonly timeLimit: string | null;
  /** Known once the job has finished (scontrol `ExitCode=code:signal`, or sacct's ExitCode). */
  readonly exitCode: number | null;
  readonly exitSignal: number | null;
  /** From scontrol only: sacct (22.05) has no log paths. Callers that write the logs know them anyway. */
  readonly stdoutPath: string | null;
  readonly stderrPath: string | null;
  readonly failureReason: JobFailureReason | null;
  /** Only a terminal answer from scontrol, sacct or the cache is final; squeue's lacks the exit code. */
  readonly source: 'squeue' | 'scontrol' | 'sacct' | 'cache';
}

/** A job Slurm no longer knows (purged after MinJobAge and not in accounting, or never existed) and that is not in the cache. */
export interface JobNotFound {
  readonly id: string;
  readonly state: 'NotFound';
}

export type JobLookup = JobInfo | JobNotFound;

export function isFound(lookup: JobLookup): lookup is JobInfo {
  return lookup.state !== 'NotFound';
}
