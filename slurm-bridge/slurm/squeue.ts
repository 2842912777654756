import { shellQuote } from '../shell/quote.js';
import {
  FIELD_SEPARATOR,
  JOB_LINE_MARKER,
  nullable,
  SLURM_TIME_FORMAT,
  SQUEUE_FIELDS,
  type SqueueFieldKey,
  splitWithLimit,
  squeueFormat,
} from './fields.js';
import type { JobInfo } from './job-info.js';
import { jobFromRow } from './job-row.js';

/** Job ids we put on a command line: plain, array (`12_3`) or het (`12+1`) ids only. */
export const JOB_ID_PATTERN = /^\d+(?:[_+]\d+)?$/;

export function assertJobIds(ids: readonly string[]): void {
  for (const id of ids) {
    if (!JOB_ID_PATTERN.test(id)) throw new Error(`not a Slurm job id: ${JSON.stringify(id)}`);
  }
}

/** Job names we put in `--name=`: what sanitizeJobName leaves (no comma, which would split the list). */
const JOB_NAME_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

export interface SqueueSelection {
  readonly ids?: readonly string[];
  /** Only the SSH user's own jobs (`--me`), for adoption by tag. */
  readonly mine?: boolean;
  /** Only jobs with one of these names (`--name=a,b`): slurmctld's answer carries only them. */
  readonly names?: readonly string[];
}

/** `squeue` over every state (plain squeue hides finished jobs) with the pinned field table. */
export function buildSqueueCommand(selection: SqueueSelection): string {
  const args = ['squeue', '--noheader', '--states=all', `--format=${squeueFormat()}`];
  if (selection.ids && selection.ids.length > 0) {
    assertJobIds(selection.ids);
    args.push(`--jobs=${selection.ids.join(',')}`);
  }
  if (selection.mine) args.push('--me');
  if (selection.names && selection.names.length > 0) {
    for (const name of selection.names)
      if (!JOB_NAME_PATTERN.test(name)) throw new Error(`not a job name for --name: ${JSON.stringify(name)}`);
    args.push(`--name=${selection.names.join(',')}`);
  }
  return `SLURM_TIME_FORMAT=${shellQuote(SLURM_TIME_FORMAT)} ${args.map(shellQuote).join(' ')}`;
}

export interface SqueueParseResult {
  readonly jobs: JobInfo[];
  /** Lines that looked like job lines but did not parse: kept raw for the warning. */
  readonly malformed: string[];
}

export function parseSqueueOutput(stdout: string): SqueueParseResult {
  const jobs: JobInfo[] = [];
  const malformed: string[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.startsWith(`${JOB_LINE_MARKER}${FIELD_SEPARATOR}`)) continue;
    const parts = splitWithLimit(line, FIELD_SEPARATOR, SQUEUE_FIELDS.length + 1);
    if (!parts) {
      malformed.push(line);
      continue;
    }
    const row = Object.fromEntries(
      SQUEUE_FIELDS.map((field, i) => [field.key, parts[i + 1] ?? '']),
    ) as Record<SqueueFieldKey, string>;
    const nodeList = nullable(row.nodeList);
    jobs.push(jobFromRow(row, { source: 'squeue', exitCode: null, exitSignal: null, nodeList }));
  }
  return { jobs, malformed };
}
