import { shellQuote } from '../shell/quote.js';
import { nullable, parseEpoch, SLURM_TIME_FORMAT } from './fields.js';
import { expandHostlist } from './hostlist.js';
import type { JobInfo } from './job-info.js';
import { assertJobIds } from './squeue.js';
import { failureReason, parseJobState } from './states.js';

export function buildScontrolShowJobCommand(id: string): string {
  assertJobIds([id]);
  return `SLURM_TIME_FORMAT=${shellQuote(SLURM_TIME_FORMAT)} scontrol --oneliner show job ${shellQuote(id)}`;
}

/**
 * Splits one `scontrol -o` line into Key=Value pairs. Values may contain spaces (Command, WorkDir,
 * Comment), so a new pair starts only where a space is followed by a known-looking `Key=`.
 */
export function parseKeyValueLine(line: string): Map<string, string> {
  const pairs = new Map<string, string>();
  const keyAt = /(?:^| )([A-Z][A-Za-z0-9_:/]*)=/g;
  const starts: Array<{ key: string; valueStart: number; matchStart: number }> = [];
  for (let match = keyAt.exec(line); match; match = keyAt.exec(line)) {
    const key = match[1] ?? '';
    starts.push({ key, valueStart: match.index + match[0].length, matchStart: match.index });
  }
  starts.forEach((start, i) => {
    const end = starts[i + 1]?.matchStart ?? line.length;
    if (!pairs.has(start.key)) pairs.set(start.key, line.slice(start.valueStart, end));
  });
  return pairs;
}

/** `0:9` → code 0, signal 9. */
export function parseExitCode(raw: string | undefined): { code: number | null; signal: number | null } {
  const match = /^(\d+):(\d+)$/.exec(raw?.trim() ?? '');
  if (!match) return { code: null, signal: null };
  return { code: Number.parseInt(match[1] ?? '', 10), signal: Number.parseInt(match[2] ?? '', 10) };
}

export function isInvalidJobIdError(text: string): boolean {
  return /Invalid job id specified/i.test(text);
}

/** Parses every `JobId=` line; lines that are not job lines (errors, banners) are ignored. */
export function parseScontrolJobs(stdout: string): JobInfo[] {
  const jobs: JobInfo[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('JobId=')) continue;
    const kv = parseKeyValueLine(line.trimEnd());
    const state = parseJobState(kv.get('JobState') ?? '');
    const reason = nullable(kv.get('Reason'));
    const exit = parseExitCode(kv.get('ExitCode'));
    const nodeList = nullable(kv.get('NodeList'));
    const arrayId = kv.get('ArrayJobId');
    const arrayTask = kv.get('ArrayTaskId');
    jobs.push({
      id:
        arrayId && arrayTask && /^\d+$/.test(arrayTask) ? `${arrayId}_${arrayTask}` : (kv.get('JobId') ?? ''),
      name: kv.get('JobName') ?? '',
      state,
      rawState: kv.get('JobState') ?? '',
      reason,
      nodeList,
      nodes: nodeList ? expandHostlist(nodeList) : [],
      partition: nullable(kv.get('Partition')),
      account: nullable(kv.get('Account')),
      user: nullable(kv.get('UserId')?.replace(/\(\d+\)$/, '')),
      comment: nullable(kv.get('Comment')),
      submitTime: parseEpoch(kv.get('SubmitTime')),
      startTime: parseEpoch(kv.get('StartTime')),
      endTime: parseEpoch(kv.get('EndTime')),
      timeLimit: nullable(kv.get('TimeLimit')),
      exitCode: exit.code,
      exitSignal: exit.signal,
      stdoutPath: nullable(kv.get('StdOut')),
      stderrPath: nullable(kv.get('StdErr')),
      failureReason: failureReason(state, reason, exit.code),
      source: 'scontrol',
    });
  }
  return jobs;
}
