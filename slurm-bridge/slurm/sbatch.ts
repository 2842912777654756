import { z } from 'zod';
import { shellQuote } from '../shell/quote.js';

/** Slurm time limit forms: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS, or UNLIMITED. */
const SLURM_TIME =
  /^(?:\d+|\d+:\d{2}|\d+:\d{2}:\d{2}|\d+-\d+|\d+-\d+:\d{2}|\d+-\d+:\d{2}:\d{2}|UNLIMITED|INFINITE)$/;
/** Option names for extra directives: `--constraint`, `qos`, `exclusive`. The value is quoted separately. */
const OPTION_NAME = /^(?:--)?[a-z][a-z0-9-]*$/;
/**
 * Slurm object names (partition, account, qos, gres) and our tag. They come back in squeue's columns, so
 * a separator or a newline in them would corrupt parsing for every job: refuse them at the edge.
 */
const SLURM_NAME = /^[A-Za-z0-9._:@+-]+$/;
const slurmName = (what: string) =>
  z.string().regex(SLURM_NAME, `${what} may hold only letters, digits and ._:@+-`);
/** Options the client sets itself; an extra directive must not override them. */
const RESERVED_OPTIONS = new Set(['comment', 'job-name', 'parsable', 'wrap']);

export const SubmitRequest = z.object({
  /** The batch script (with `#!`); sent over stdin, never written into the command line. */
  script: z.string().min(1),
  name: z.string().min(1),
  partition: slurmName('partition').optional(),
  account: slurmName('account').optional(),
  qos: slurmName('qos').optional(),
  time: z.string().regex(SLURM_TIME, 'a Slurm time such as 30, 01:00:00 or 1-00:00:00').optional(),
  memGB: z.number().positive().optional(),
  nodes: z.number().int().min(1).optional(),
  cpus: z.number().int().min(1).optional(),
  /** e.g. `gpu:1` */
  gres: slurmName('gres').optional(),
  /** The owner tag (the benchmark's uid), stored in `--comment` so jobs can be adopted after a restart. */
  tag: slurmName('tag').max(200).optional(),
  output: z.string().min(1).optional(),
  error: z.string().min(1).optional(),
  /** Remote working directory of the job. */
  workDir: z.string().min(1).optional(),
  /** Further `--key=value` options (value null for a flag such as `exclusive`). */
  extraDirectives: z
    .record(
      z
        .string()
        .regex(OPTION_NAME)
        .refine((key) => !RESERVED_OPTIONS.has(key.replace(/^--/, '')), 'set by the client itself'),
      z.string().nullable(),
    )
    .default({}),
});
export type SubmitRequest = z.input<typeof SubmitRequest>;

/** Job names appear in squeue output and in file names: keep them to a safe alphabet and a sane length. */
export function sanitizeJobName(name: string): string {
  const clean = name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '');
  return (clean || 'job').slice(0, 64);
}

/** The command; the script itself goes to stdin. Every value passes shellQuote. */
export function buildSbatchCommand(input: SubmitRequest): string {
  const request = SubmitRequest.parse(input);
  const options: Array<[string, string | null]> = [['job-name', sanitizeJobName(request.name)]];
  if (request.partition) options.push(['partition', request.partition]);
  if (request.account) options.push(['account', request.account]);
  if (request.qos) options.push(['qos', request.qos]);
  if (request.time) options.push(['time', request.time]);
  // Whole megabytes: sbatch rejects fractional sizes.
  if (request.memGB !== undefined) options.push(['mem', `${Math.ceil(request.memGB * 1024)}M`]);
  if (request.nodes !== undefined) options.push(['nodes', String(request.nodes)]);
  if (request.cpus !== undefined) options.push(['cpus-per-task', String(request.cpus)]);
  if (request.gres) options.push(['gres', request.gres]);
  if (request.tag) options.push(['comment', request.tag]);
  if (request.output) options.push(['output', request.output]);
  if (request.error) options.push(['error', request.error]);
  if (request.workDir) options.push(['chdir', request.workDir]);
  for (const [key, value] of Object.entries(request.extraDirectives))
    options.push([key.replace(/^--/, ''), value]);
  const args = options.map(([key, value]) => shellQuote(value === null ? `--${key}` : `--${key}=${value}`));
  return ['sbatch', '--parsable', ...args].join(' ');
}

export type SbatchErrorReason =
  | 'InvalidPartition'
  | 'InvalidAccount'
  | 'InvalidQos'
  | 'InvalidTime'
  | 'BadConstraints'
  | 'InvalidGres'
  | 'SubmitLimit'
  | 'SbatchFailed';

export class SbatchError extends Error {
  constructor(
    readonly reason: SbatchErrorReason,
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(`sbatch refused the job (${reason}): ${stderr.trim() || `exit ${exitCode}`}`);
  }
}

const SBATCH_ERRORS: ReadonlyArray<[RegExp, SbatchErrorReason]> = [
  [/Invalid partition name/i, 'InvalidPartition'],
  [/Invalid account|account.*not.*valid/i, 'InvalidAccount'],
  [/Invalid qos/i, 'InvalidQos'],
  [/Invalid --time|time limit/i, 'InvalidTime'],
  [/Invalid generic resource|Invalid gres/i, 'InvalidGres'],
  [
    /Memory specification can not be satisfied|Requested node configuration is not available|can not be satisfied/i,
    'BadConstraints',
  ],
  [/MaxSubmit|Job violates accounting\/QOS policy|QOSMax|AssocMax/i, 'SubmitLimit'],
];

export function classifySbatchError(stderr: string): SbatchErrorReason {
  for (const [pattern, reason] of SBATCH_ERRORS) if (pattern.test(stderr)) return reason;
  return 'SbatchFailed';
}

/** `--parsable` prints `id` or `id;cluster`. */
export function parseSbatchOutput(stdout: string): string {
  const line = stdout.trim().split('\n').pop()?.trim() ?? '';
  const id = line.split(';')[0] ?? '';
  if (!/^\d+$/.test(id)) throw new Error(`sbatch printed no job id: ${JSON.stringify(stdout.slice(0, 200))}`);
  return id;
}
