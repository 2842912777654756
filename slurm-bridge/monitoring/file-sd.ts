import { posix } from 'node:path';
import { z } from 'zod';
import { shellQuote } from '../shell/quote.js';
import { TARGET_KINDS } from './layout.js';
import { SHELL_VARIABLE, ShellText, shellWord } from './shell-text.js';

export type { ShellText } from './shell-text.js';

/**
 * Bash snippets with which a job announces one scrape target to Prometheus (file_sd) and withdraws it.
 *
 * Each job writes `<targetsDir>/<kind>/<role>-<slurmJobId>.json` on start and removes it from an EXIT trap, so
 * Prometheus' view follows SLURM's without anyone polling. The file is written to a temp name that does not
 * match `*.json` and then renamed, because Prometheus may read the folder at any moment.
 */

const PROMETHEUS_LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export const FileSdRegistrationOptions = z.object({
  targetsDir: z.string().startsWith('/'),
  kind: z.enum(TARGET_KINDS),
  /** Part of the file name, so it is kept to a safe alphabet: `ollama`, `client`, `monitoring`. */
  role: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'role must be lower-case letters, digits and dashes'),
  /** Name of the shell variable that holds the SLURM job id, usually SLURM_JOB_ID. */
  jobIdVar: z.string().regex(SHELL_VARIABLE).default('SLURM_JOB_ID'),
  /** host:port Prometheus scrapes. */
  target: ShellText,
  /** benchmark, model, node, … (role and slurm_job_id are added). node defaults to $SLURMD_NODENAME. */
  labels: z.record(z.string().regex(PROMETHEUS_LABEL), ShellText).default({}),
});
export type FileSdRegistrationOptions = z.input<typeof FileSdRegistrationOptions>;

export interface FileSdRegistration {
  /** Writes the target file atomically; a failure warns on stderr and never stops the job. */
  register: string;
  /** One command for the job's EXIT trap (or its cleanup function). */
  unregister: string;
}

// Prints its argument as a JSON string. Backslash and quote are escaped; control characters cannot occur
// in host names or job ids and are dropped rather than escaped. Defining it again is harmless.
// Bash text: __ibo_sd_json_string() { local s=$1; s=${s//\\/\\\\}; s=${s//\"/\\\"}; s=${s//[[:cntrl:]]/}; printf '"%s"' "$s"; }
const JSON_STRING_FUNCTION = [
  '__ibo_sd_json_string() { local s=$1;',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: bash parameter expansions, not JS placeholders
  's=${s//\\\\/\\\\\\\\}; s=${s//\\"/\\\\\\"}; s=${s//[[:cntrl:]]/};',
  `printf '"%s"' "$s"; }`,
].join(' ');

function printLiteral(json: string): string {
  return `printf '%s' ${shellQuote(json)}`;
}

function printString(text: ShellText): string {
  return `__ibo_sd_json_string ${shellWord(text)}`;
}

export function fileSdRegistration(options: FileSdRegistrationOptions): FileSdRegistration {
  const opts = FileSdRegistrationOptions.parse(options);
  const jobId = { shellVar: opts.jobIdVar };
  const labels: Record<string, ShellText> = {
    node: { shellVar: 'SLURMD_NODENAME' },
    ...opts.labels,
    role: opts.role,
    slurm_job_id: jobId,
  };
  const dir = posix.join(opts.targetsDir, opts.kind);
  const file = shellWord([`${dir}/${opts.role}-`, jobId, '.json']);
  // `$$` keeps two registrations racing on one file (a requeued job) from sharing a temp name.
  const tmp = `${shellWord([`${dir}/${opts.role}-`, jobId, '.json.tmp.'])}"$$"`;

  const json: string[] = [
    printLiteral('[{"targets":['),
    printString(opts.target),
    printLiteral('],"labels":{'),
  ];
  Object.entries(labels).forEach(([name, value], index) => {
    json.push(printLiteral(`${index === 0 ? '' : ','}${JSON.stringify(name)}:`), printString(value));
  });
  json.push(`printf '%s\\n' '}}]'`);

  const register = [
    JSON_STRING_FUNCTION,
    `if ! { mkdir -p -- ${shellQuote(dir)} && { ${json.join('; ')}; } > ${tmp} && mv -f -- ${tmp} ${file}; }; then`,
    `  echo ${shellQuote(`warning: could not register the ${opts.kind} target for Prometheus`)} >&2`,
    `  rm -f -- ${tmp}`,
    'fi',
  ].join('\n');
  return { register: `${register}\n`, unregister: `rm -f -- ${file}` };
}
