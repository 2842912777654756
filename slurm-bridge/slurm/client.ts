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

/** More names than this and one listing asks for all the user's jobs instead (a short command line). */
const MAX_NAMES_PER_LISTING = 100;

interface ListingRequest {
  /** undefined: every job of the user. */
  readonly names: readonly string[] | undefined;
  resolve(jobs: JobInfo[]): void;
  reject(error: unknown): void;
}

/**
 * SLURM over nothing but an exec function (the shared SSH connection in production, a fake in unit
 * tests). Finished jobs are cached, so their final state and exit code survive Slurm's MinJobAge purge
 * and are never asked for twice.
 */
export class SlurmClient {
  private readonly finished = new Map<string, JobInfo>();
  /** Listings asked for while one runs: they share the next one. */
  private listingRequests: ListingRequest[] = [];
  private listing = false;
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

  /**
   * The SSH user's jobs that squeue still lists (live, and finished within MinJobAge), only those named
   * `names` when given (filtered by slurmctld: `--name`).
   *
   * Every answer comes from a squeue that STARTED AFTER the call: a job submitted before the call (by this
   * process or any other) is in it, which is what adoption before an sbatch relies on. Calls made while a
   * listing runs do not join it (it may have started before their job was submitted); they share the next
   * one, which asks for the union of their names. A wave of reconciles that each list before their sbatch
   * costs two squeues instead of one each.
   */
  listMine(options: { names?: readonly string[] } = {}): Promise<JobInfo[]> {
    const names = options.names && options.names.length > 0 ? [...new Set(options.names)] : undefined;
    return new Promise((resolve, reject) => {
      this.listingRequests.push({ names, resolve, reject });
      if (!this.listing) void this.runListings();
    });
  }

  private async runListings(): Promise<void> {
    this.listing = true;
    try {
      while (this.listingRequests.length > 0) {
        const batch = this.listingRequests;
        this.listingRequests = [];
        let wanted: Set<string> | undefined = new Set();
        for (const request of batch) {
          if (!request.names) wanted = undefined;
          else for (const name of request.names) wanted?.add(name);
        }
        if (wanted && wanted.size > MAX_NAMES_PER_LISTING) wanted = undefined;
        try {
          const jobs = await this.listOnce(wanted ? [...wanted] : undefined);
          for (const request of batch) {
            const names = request.names;
            request.resolve(names ? jobs.filter((job) => names.includes(job.name)) : jobs);
          }
        } catch (error) {
          for (const request of batch) request.reject(error);
        }
      }
    } finally {
      this.listing = false;
    }
  }

  private async listOnce(names: readonly string[] | undefined): Promise<JobInfo[]> {
    const result = await this.exec(buildSqueueCommand({ mine: true, ...(names ? { names } : {}) }), {
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
