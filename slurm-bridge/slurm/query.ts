import { shellQuote } from '../shell/quote.js';
import { FIELD_SEPARATOR, JOB_LINE_MARKER } from './fields.js';
import type { JobInfo } from './job-info.js';
import { buildScontrolShowJobCommand, parseScontrolJobs } from './scontrol.js';
import { assertJobIds, buildSqueueCommand, parseSqueueOutput } from './squeue.js';
import { isTerminal, KNOWN_JOB_STATES } from './states.js';

const ACTIVE_STATES = KNOWN_JOB_STATES.filter((state) => !isTerminal(state));
/** Printed before each scontrol answer, so a human reading a captured output can tell them apart. */
const SCONTROL_MARK = '@@IBO-SCONTROL ';

/**
 * ONE remote command for many jobs: squeue for all of them, then `scontrol show job` only for those that
 * squeue shows finished (for the exit code) or no longer shows at all. The shell picks those ids itself, so
 * the whole poll is a single SSH round trip however many benchmarks share the cluster.
 */
export function buildBatchQueryCommand(ids: readonly string[]): string {
  assertJobIds(ids);
  const separatorRegex = FIELD_SEPARATOR.replace(/[|~]/g, (c) => `[${c}]`);
  const awk = [
    'BEGIN { n = split(ids, list, " "); for (i = 1; i <= n; i++) want[list[i]] = 1 }',
    `$1 == "${JOB_LINE_MARKER}" && $3 ~ /^(${ACTIVE_STATES.join('|')})$/ { delete want[$2] }`,
    'END { for (id in want) print id }',
  ].join('\n');
  return [
    `q=$(${buildSqueueCommand({ ids })} 2>&1)`,
    `printf '%s\\n' "$q"`,
    `need=$(printf '%s\\n' "$q" | awk -F ${shellQuote(separatorRegex)} -v ids=${shellQuote(ids.join(' '))} ${shellQuote(awk)})`,
    'for id in $need; do',
    `  printf '${SCONTROL_MARK}%s\\n' "$id"`,
    `  ${buildScontrolShowJobCommand('0').replace(shellQuote('0'), '"$id"')} 2>&1`,
    'done',
    'exit 0',
  ].join('\n');
}

export interface BatchQueryResult {
  readonly jobs: Map<string, JobInfo>;
  /** Ids neither squeue nor scontrol knows: purged after MinJobAge, or never existed. */
  readonly notFound: string[];
  readonly malformed: string[];
}

export function parseBatchQueryOutput(ids: readonly string[], stdout: string): BatchQueryResult {
  const jobs = new Map<string, JobInfo>();
  const squeue = parseSqueueOutput(stdout);
  for (const job of squeue.jobs) jobs.set(job.id, job);
  // scontrol knows the exit code and log paths: its answer wins for the jobs it describes.
  for (const job of parseScontrolJobs(stdout)) jobs.set(job.id, job);
  const notFound = ids.filter((id) => !jobs.has(id));
  return { jobs, notFound, malformed: squeue.malformed };
}
