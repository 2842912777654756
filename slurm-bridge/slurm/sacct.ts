import { shellJoin, shellQuote } from '../shell/quote.js';
import { FIELD_SEPARATOR, nullable, SLURM_TIME_FORMAT, splitWithLimit } from './fields.js';
import type { JobInfo } from './job-info.js';
import { jobFromRow } from './job-row.js';
import { parseExitCode } from './scontrol.js';
import { assertJobIds, JOB_ID_PATTERN } from './squeue.js';

/**
 * The ONE table that builds `sacct --format` and names the columns when parsing, like squeue's: the job
 * name comes LAST and the split uses a limit, so a name containing the separator still parses. Only
 * the job allocation is asked for (`--allocations`): its ExitCode is the batch script's.
 */
export const SACCT_FIELDS = [
  { key: 'id', name: 'JobID' },
  { key: 'state', name: 'State' },
  { key: 'exitCode', name: 'ExitCode' },
  { key: 'reason', name: 'Reason' },
  { key: 'nodeList', name: 'NodeList' },
  { key: 'partition', name: 'Partition' },
  { key: 'account', name: 'Account' },
  { key: 'user', name: 'User' },
  { key: 'submitTime', name: 'Submit' },
  { key: 'startTime', name: 'Start' },
  { key: 'endTime', name: 'End' },
  { key: 'timeLimit', name: 'Timelimit' },
  { key: 'comment', name: 'Comment' },
  { key: 'name', name: 'JobName' },
] as const;

type SacctFieldKey = (typeof SACCT_FIELDS)[number]['key'];

/**
 * sacct with the pinned table for a shell word that expands to `--jobs=...`. The batch query passes a
 * shell variable it filled itself from ids that passed assertJobIds; everyone else uses buildSacctCommand.
 */
export function sacctCommandFor(jobsWord: string): string {
  const args = [
    'sacct',
    '--noheader',
    '--parsable2',
    '--allocations',
    `--delimiter=${FIELD_SEPARATOR}`,
    `--format=${SACCT_FIELDS.map((field) => field.name).join(',')}`,
  ];
  return `SLURM_TIME_FORMAT=${shellQuote(SLURM_TIME_FORMAT)} ${shellJoin(args)} ${jobsWord}`;
}

export function buildSacctCommand(ids: readonly string[]): string {
  if (ids.length === 0) throw new Error('sacct needs at least one job id');
  assertJobIds(ids);
  return sacctCommandFor(shellQuote(`--jobs=${ids.join(',')}`));
}

/** Parses sacct's `--parsable2` lines; anything else (a warning, a banner) is ignored. */
export function parseSacctOutput(stdout: string): JobInfo[] {
  const jobs: JobInfo[] = [];
  for (const line of stdout.split('\n')) {
    const parts = splitWithLimit(line, FIELD_SEPARATOR, SACCT_FIELDS.length);
    if (!parts || !JOB_ID_PATTERN.test(parts[0] ?? '')) continue;
    const row = Object.fromEntries(SACCT_FIELDS.map((field, i) => [field.key, parts[i] ?? ''])) as Record<
      SacctFieldKey,
      string
    >;
    // `CANCELLED by 1000`: parseJobState takes the first word; rawState keeps who cancelled.
    const exit = parseExitCode(row.exitCode);
    // sacct prints `None assigned` for a job that never got a node.
    const nodeList = /^None/.test(row.nodeList) ? null : nullable(row.nodeList);
    jobs.push(jobFromRow(row, { source: 'sacct', exitCode: exit.code, exitSignal: exit.signal, nodeList }));
  }
  return jobs;
}
