/**
 * The ONE table that builds `squeue -o` and names the columns when parsing. The job name comes LAST and
 * the split uses a limit, so a name containing the separator still parses. Times are pinned to epoch
 * seconds with SLURM_TIME_FORMAT=%s, so the cluster's locale and time zone cannot change their meaning.
 */
export const FIELD_SEPARATOR = '|~|';
/** First column of every squeue line, so a stray line on stdout (a login banner) is never taken for a job. */
export const JOB_LINE_MARKER = '@J';
export const SLURM_TIME_FORMAT = '%s';

export const SQUEUE_FIELDS = [
  { key: 'id', code: '%i' },
  { key: 'state', code: '%T' },
  { key: 'reason', code: '%r' },
  { key: 'nodeList', code: '%N' },
  { key: 'partition', code: '%P' },
  { key: 'account', code: '%a' },
  { key: 'user', code: '%u' },
  { key: 'submitTime', code: '%V' },
  { key: 'startTime', code: '%S' },
  { key: 'endTime', code: '%e' },
  { key: 'timeLimit', code: '%l' },
  { key: 'comment', code: '%k' },
  { key: 'name', code: '%j' },
] as const;

export type SqueueFieldKey = (typeof SQUEUE_FIELDS)[number]['key'];

export function squeueFormat(): string {
  return [JOB_LINE_MARKER, ...SQUEUE_FIELDS.map((field) => field.code)].join(FIELD_SEPARATOR);
}

/** Splits into exactly `count` parts; the last part keeps any further separators. */
export function splitWithLimit(line: string, separator: string, count: number): string[] | null {
  const parts: string[] = [];
  let rest = line;
  for (let i = 0; i < count - 1; i += 1) {
    const at = rest.indexOf(separator);
    if (at < 0) return null;
    parts.push(rest.slice(0, at));
    rest = rest.slice(at + separator.length);
  }
  parts.push(rest);
  return parts;
}

/** Epoch seconds, or null for Slurm's placeholders (`N/A`, `Unknown`, `None`, `0`). */
export function parseEpoch(raw: string | undefined): Date | null {
  if (!raw || !/^\d+$/.test(raw.trim())) return null;
  const seconds = Number.parseInt(raw, 10);
  return seconds > 0 ? new Date(seconds * 1000) : null;
}

/** Slurm prints "None", "(null)" or nothing for an absent reason/comment/node list. */
export function nullable(raw: string | undefined): string | null {
  const text = raw?.trim() ?? '';
  return text === '' || text === 'None' || text === '(null)' || text === 'N/A' ? null : text;
}
