import type { ExecFunction } from '../ssh/connection.js';
import { CommandFailedError, tail } from '../ssh/errors.js';
import type { JobInfo, JobLookup } from './job-info.js';
import { buildBatchQueryCommand, parseBatchQueryOutput } from './query.js';
import {
  buildSbatchCommand,
  classifySbatchError,
  parseSbatchOutput,
  SbatchError,
  type SubmitRequest,
} from './sbatch.js';
import { buildScancelCommand, scancelFailureIsHarmless } from './scancel.js';
import { buildClusterInfoCommand, type ClusterInfo, parseClusterInfo } from './sinfo.js';
import { buildSqueueCommand, parseSqueueOutput } from './squeue.js';
import { isTerminal } from './states.js';

const BATCH_QUERY_NAME = 'squeue/sacct/scontrol batch query';

export interface SlurmClientOptions {
  /** Remote timeout per Slurm command; squeue takes ~9 s to fail while slurmctld is down. */
  readonly timeoutSeconds?: number;
  /** Called for unparseable lines or unknown states, so they are logged instead of crashing. */
  readonly onWarning?: (message: string, detail: Record<string, unknown>) => void;
  /** Upper bound of ids per remote command, to keep the command line well below ARG_MAX. */
  readonly maxIdsPerQuery?: number;
}

/**
 * SLURM over nothing but an exec function (the shared SSH connection in production, a fake in unit
 * tests). Finished jobs are cached, so their final state and exit code survive Slurm's MinJobAge purge
 * and are never asked for twice.
 */
export class SlurmClient {
  private readonly finished = new Map<string, JobInfo>();
  private readonly timeoutSeconds: number;
  private readonly maxIdsPerQuery: number;

  constructor(
    private readonly exec: ExecFunction,
    private readonly options: SlurmClientOptions = {},
  ) {
    this.timeoutSeconds = options.timeoutSeconds ?? 30;
    this.maxIdsPerQuery = options.maxIdsPerQuery ?? 500;
  }

  /** Submits the script over stdin with `sbatch --parsable`; returns the job id or throws SbatchError. */
  async submit(request: SubmitRequest): Promise<string> {
    const command = buildSbatchCommand(request);
    const result = await this.exec(command, { stdin: request.script, timeoutSeconds: this.timeoutSeconds });
    if (result.code !== 0) {
      throw new SbatchError(classifySbatchError(result.stderr), result.code, tail(result.stderr, 1000));
    }
    return parseSbatchOutput(result.stdout);
  }

  /**
   * States of many jobs in ONE remote command (per `maxIdsPerQuery` ids). Every id gets an answer:
   * a JobInfo, or NotFound when Slurm (accounting included) forgot it and we never saw it finish.
   * Throws CommandFailedError when squeue, sacct or scontrol failed: the caller keeps what it knew.
   */
  async queryJobs(ids: readonly string[]): Promise<Map<string, JobLookup>> {
    const answers = new Map<string, JobLookup>();
    const unique = [...new Set(ids)];
    const toAsk: string[] = [];
    for (const id of unique) {
      const cached = this.finished.get(id);
      if (cached) answers.set(id, { ...cached, source: 'cache' });
      else toAsk.push(id);
    }
    for (let i = 0; i < toAsk.length; i += this.maxIdsPerQuery) {
      const chunk = toAsk.slice(i, i + this.maxIdsPerQuery);
      const command = buildBatchQueryCommand(chunk);
      const result = await this.exec(command, { timeoutSeconds: this.timeoutSeconds });
      // Fail closed: an answer we cannot trust must not turn running jobs into NotFound.
      if (result.code !== 0) throw new CommandFailedError(BATCH_QUERY_NAME, result.code, tail(result.stderr));
      const parsed = parseBatchQueryOutput(chunk, result.stdout);
      if (!parsed.complete || result.truncated) {
        const detail = `the answer ended before its end mark${result.truncated ? ' (output truncated)' : ''}`;
        throw new CommandFailedError(BATCH_QUERY_NAME, result.code, `${detail}: ${tail(result.stdout, 500)}`);
      }
      for (const line of parsed.malformed) this.options.onWarning?.('unparseable squeue line', { line });
      for (const id of chunk) {
        const job = parsed.jobs.get(id);
        if (!job) {
          answers.set(id, { id, state: 'NotFound' });
          continue;
        }
        if (job.state === 'Unknown')
          this.options.onWarning?.('unknown Slurm job state', { id, raw: job.rawState });
        // Only scontrol and sacct give the exit code, so only their answers are final enough to cache.
        if (isTerminal(job.state) && job.source !== 'squeue') this.finished.set(id, job);
        answers.set(id, job);
      }
    }
    return answers;
  }

  /** The SSH user's jobs whose `--comment` equals `tag`, in any state Slurm still remembers. */
  async findJobsByTag(tag: string): Promise<JobInfo[]> {
    return (await this.listMine()).filter((job) => job.comment === tag);
  }

  /** Every job of the SSH user that squeue still lists (live, and finished within MinJobAge): one command. */
  async listMine(): Promise<JobInfo[]> {
    const result = await this.exec(buildSqueueCommand({ mine: true }), {
      timeoutSeconds: this.timeoutSeconds,
    });
    if (result.code !== 0) throw new CommandFailedError('squeue --me', result.code, tail(result.stderr));
    return parseSqueueOutput(result.stdout).jobs;
  }

  /** Idempotent: unknown, finished or already-cancelled ids are not errors. */
  async cancel(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    const result = await this.exec(buildScancelCommand(ids), { timeoutSeconds: this.timeoutSeconds });
    if (result.code !== 0 && !scancelFailureIsHarmless(result.stderr)) {
      throw new CommandFailedError('scancel', result.code, tail(result.stderr));
    }
  }

  async clusterInfo(): Promise<ClusterInfo> {
    const result = await this.exec(buildClusterInfoCommand(), { timeoutSeconds: this.timeoutSeconds });
    if (result.code !== 0) throw new CommandFailedError('sinfo', result.code, tail(result.stderr));
    return parseClusterInfo(result.stdout);
  }
}
