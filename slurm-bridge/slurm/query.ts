import { shellQuote } from '../shell/quote.js';
import { FIELD_SEPARATOR, JOB_LINE_MARKER } from './fields.js';
import type { JobInfo } from './job-info.js';
import { parseSacctOutput, sacctCommandFor } from './sacct.js';
import { buildScontrolShowJobCommand, parseScontrolJobs } from './scontrol.js';
import { assertJobIds, buildSqueueCommand, parseSqueueOutput } from './squeue.js';
import { isTerminal, KNOWN_JOB_STATES } from './states.js';

const ACTIVE_STATES = KNOWN_JOB_STATES.filter((state) => !isTerminal(state));
const TERMINAL_STATES = KNOWN_JOB_STATES.filter(isTerminal);
/** Printed before each scontrol answer, so a human reading a captured output can tell them apart. */
const SCONTROL_MARK = '@@IBO-SCONTROL ';
/** First column of every sacct line the batch query prints (sacct itself has no literal columns). */
export const SACCT_LINE_MARKER = '@A';
/**
 * The last line of a complete answer. Without it the output is not trusted: a command cut short must never
 * read as "these jobs are gone".
 */
export const QUERY_END_MARK = '@@IBO-END';

const separatorRegex = FIELD_SEPARATOR.replace(/[|~]/g, (c) => `[${c}]`);
/** JOB_ID_PATTERN in awk's ERE dialect (no \d, no non-capturing groups). */
const AWK_JOB_ID = '^[0-9]+([_+][0-9]+)?$';

/** awk: the ids of `ids` minus those whose line (first field `marker` or none) shows a state in `states`. */
function remainingIdsAwk(idColumn: number, stateColumn: number, states: readonly string[], marker?: string) {
  const markerTest = marker ? `$1 == "${marker}" && ` : '';
  return [
    'BEGIN { n = split(ids, list, " "); for (i = 1; i <= n; i++) want[list[i]] = 1 }',
    `${markerTest}$${stateColumn} ~ /^(${states.join('|')})( |$)/ { delete want[$${idColumn}] }`,
    'END { for (id in want) print id }',
  ].join('\n');
}

/**
 * ONE remote command for many jobs, so the whole poll is a single SSH round trip however many benchmarks
 * share the cluster:
 * 1. squeue for all of them;
 * 2. ONE sacct for the ids squeue shows finished or no longer shows at all: with accounting it knows the
 *    final state, exit code and times for good, even after slurmctld purged the job (MinJobAge);
 * 3. `scontrol show job` for those sacct did not settle (no accounting, or its record still lags behind).
 *
 * Fail closed: a real failure of squeue, sacct or scontrol ends the command with that exit code and the
 * error on stderr, so the caller keeps what it knew instead of reading every job as gone. The answers that
 * are not failures: "Invalid job id specified" (the job was purged, or never existed) and a cluster without
 * accounting (sacct says so, or is missing: exit 127).
 */
export function buildBatchQueryCommand(ids: readonly string[]): string {
  assertJobIds(ids);
  const sep = shellQuote(separatorRegex);
  const active = remainingIdsAwk(2, 3, ACTIVE_STATES, JOB_LINE_MARKER);
  const settledBySacct = remainingIdsAwk(1, 2, TERMINAL_STATES);
  const markSacctLines = `$1 ~ /${AWK_JOB_ID}/ { print marker sep $0 }`;
  const scontrol = buildScontrolShowJobCommand('0').replace(shellQuote('0'), '"$id"');
  return [
    // Each failure leaves with the failing command's own exit code, its output and its name on stderr.
    'fail() { printf "%s\\n%s exited with %s\\n" "$3" "$1" "$2" >&2; exit "$2"; }',
    "purged() { case $1 in *'Invalid job id specified'*) return 0;; esac; return 1; }",
    'no_accounting() { [ "$1" -eq 127 ] && return 0; case $2 in *\'accounting storage is disabled\'*) return 0;; esac; return 1; }',
    `q=$(${buildSqueueCommand({ ids })} 2>&1); rc=$?`,
    // squeue asked for a single purged id says "Invalid job id specified": every id is then a question.
    'if [ "$rc" -ne 0 ]; then purged "$q" || fail squeue "$rc" "$q"; fi',
    `printf '%s\\n' "$q"`,
    `need=$(printf '%s\\n' "$q" | awk -F ${sep} -v ids=${shellQuote(ids.join(' '))} ${shellQuote(active)})`,
    'if [ -n "$need" ]; then',
    `  jobs=$(printf '%s' "$need" | tr '\\n' ',')`,
    `  a=$(${sacctCommandFor('"--jobs=$jobs"')} 2>&1); rc=$?`,
    '  if [ "$rc" -eq 0 ]; then',
    `    printf '%s\\n' "$a" | awk -F ${sep} -v marker=${shellQuote(SACCT_LINE_MARKER)} -v sep=${shellQuote(FIELD_SEPARATOR)} ${shellQuote(markSacctLines)}`,
    `    need=$(printf '%s\\n' "$a" | awk -F ${sep} -v ids="$need" ${shellQuote(settledBySacct)})`,
    '  elif ! no_accounting "$rc" "$a"; then',
    '    fail sacct "$rc" "$a"',
    '  fi',
    'fi',
    'for id in $need; do',
    `  s=$(${scontrol} 2>&1); rc=$?`,
    '  if [ "$rc" -ne 0 ]; then purged "$s" || fail scontrol "$rc" "$s"; fi',
    `  printf '${SCONTROL_MARK}%s\\n%s\\n' "$id" "$s"`,
    'done',
    `printf '%s\\n' ${shellQuote(QUERY_END_MARK)}`,
  ].join('\n');
}

export interface BatchQueryResult {
  readonly jobs: Map<string, JobInfo>;
  /** Ids neither squeue, sacct nor scontrol knows: purged after MinJobAge, or never existed. */
  readonly notFound: string[];
  readonly malformed: string[];
  /** False when the end mark is missing: the output was cut short and must not be believed. */
  readonly complete: boolean;
}

export function parseBatchQueryOutput(ids: readonly string[], stdout: string): BatchQueryResult {
  const jobs = new Map<string, JobInfo>();
  const squeue = parseSqueueOutput(stdout);
  for (const job of squeue.jobs) jobs.set(job.id, job);
  // scontrol knows the exit code and log paths: its answer wins for the jobs it describes.
  for (const job of parseScontrolJobs(stdout)) jobs.set(job.id, job);
  // sacct's answer is final once it says the job ended; a running or pending record there is only a
  // lagging copy of what slurmctld knows better (and for a purged job, no reason to believe it still runs).
  const sacctPrefix = `${SACCT_LINE_MARKER}${FIELD_SEPARATOR}`;
  const sacctLines = stdout
    .split('\n')
    .filter((line) => line.startsWith(sacctPrefix))
    .map((line) => line.slice(sacctPrefix.length))
    .join('\n');
  for (const job of parseSacctOutput(sacctLines)) if (isTerminal(job.state)) jobs.set(job.id, job);
  const notFound = ids.filter((id) => !jobs.has(id));
  const complete = stdout.split('\n').some((line) => line === QUERY_END_MARK);
  return { jobs, notFound, malformed: squeue.malformed, complete };
}
