/**
 * Slurm job states (squeue %T / scontrol JobState, 22.05) as a typed union. Anything else maps to
 * `Unknown` and the raw text is kept, so a newer Slurm cannot crash the parser.
 */
export const KNOWN_JOB_STATES = [
  'PENDING',
  'CONFIGURING',
  'RUNNING',
  'COMPLETING',
  'SUSPENDED',
  'REQUEUED',
  'REQUEUE_FED',
  'REQUEUE_HOLD',
  'RESIZING',
  'RESV_DEL_HOLD',
  'SIGNALING',
  'STAGE_OUT',
  'STOPPED',
  'SPECIAL_EXIT',
  'PREEMPTED',
  'COMPLETED',
  'CANCELLED',
  'FAILED',
  'TIMEOUT',
  'OUT_OF_MEMORY',
  'NODE_FAIL',
  'BOOT_FAIL',
  'DEADLINE',
  'REVOKED',
] as const;
export type KnownJobState = (typeof KNOWN_JOB_STATES)[number];
export type JobState = KnownJobState | 'Unknown';

const knownStates: ReadonlySet<string> = new Set(KNOWN_JOB_STATES);

/** Accepts `CANCELLED by 1000` (squeue) and `CANCELLED` alike; newer Slurm JSON gives arrays, take the first. */
export function parseJobState(raw: string | readonly string[]): JobState {
  const text = (typeof raw === 'string' ? raw : (raw[0] ?? '')).trim().split(/\s+/)[0]?.toUpperCase() ?? '';
  return knownStates.has(text) ? (text as KnownJobState) : 'Unknown';
}

const TERMINAL: ReadonlySet<JobState> = new Set<JobState>([
  'COMPLETED',
  'CANCELLED',
  'FAILED',
  'TIMEOUT',
  'OUT_OF_MEMORY',
  'NODE_FAIL',
  'BOOT_FAIL',
  'DEADLINE',
  'PREEMPTED',
  'REVOKED',
  'SPECIAL_EXIT',
]);

/** The job will not change any more: its exit code and reason are final. */
export function isTerminal(state: JobState): boolean {
  return TERMINAL.has(state);
}

export function isRunning(state: JobState): boolean {
  return state === 'RUNNING' || state === 'COMPLETING';
}

export function isPending(state: JobState): boolean {
  return state === 'PENDING' || state === 'CONFIGURING' || state === 'REQUEUED' || state === 'REQUEUE_HOLD';
}

/** Why a finished job did not succeed, as a CamelCase reason the operator copies into a condition. */
export type JobFailureReason =
  | 'Timeout'
  | 'OutOfMemory'
  | 'NodeFail'
  | 'Cancelled'
  | 'Failed'
  | 'NonZeroExit'
  | 'BadConstraints'
  | 'BootFail'
  | 'Deadline'
  | 'Preempted'
  | 'Revoked'
  | 'Unknown';

export function failureReason(
  state: JobState,
  slurmReason: string | null,
  exitCode: number | null,
): JobFailureReason | null {
  switch (state) {
    case 'COMPLETED':
      return null;
    case 'TIMEOUT':
      return 'Timeout';
    case 'OUT_OF_MEMORY':
      return 'OutOfMemory';
    case 'NODE_FAIL':
      return 'NodeFail';
    case 'CANCELLED':
      return 'Cancelled';
    case 'BOOT_FAIL':
      return 'BootFail';
    case 'DEADLINE':
      return 'Deadline';
    case 'PREEMPTED':
      return 'Preempted';
    case 'REVOKED':
      return 'Revoked';
    case 'FAILED':
      if (slurmReason && /BadConstraints|ReqNodeNotAvail|PartitionConfig/i.test(slurmReason))
        return 'BadConstraints';
      if ((exitCode !== null && exitCode !== 0) || slurmReason === 'NonZeroExitCode') return 'NonZeroExit';
      return 'Failed';
    case 'SPECIAL_EXIT':
      return 'Failed';
    default:
      return isTerminal(state) ? 'Unknown' : null;
  }
}

/**
 * Pending reasons that will not clear by waiting: the request can never be satisfied as written, so the
 * operator should fail the benchmark instead of waiting forever.
 */
const HOPELESS_PENDING = new Set([
  'PartitionConfig',
  'BadConstraints',
  'InvalidAccount',
  'InvalidQOS',
  'PartitionTimeLimit',
  'PartitionNodeLimit',
  'QOSMaxWallDurationPerJobLimit',
  'AssocMaxWallDurationPerJobLimit',
  'JobHeldAdmin',
  'DependencyNeverSatisfied',
]);

export function pendingReasonIsHopeless(reason: string | null): boolean {
  return reason !== null && HOPELESS_PENDING.has(reason);
}
