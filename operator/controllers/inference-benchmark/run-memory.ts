import type { ClusterSession } from '../../cluster/types.js';
import type { JobRole } from './run-identity.js';

/**
 * What this process remembers of the runs it works on. Caches only (docs/architecture.md#state-rules): each
 * value is read again from the cluster when it is missing, so a restart loses nothing.
 *
 * Values read through a session (the token file, the jobs' endpoint files, $HOME) belong to that session:
 * a changed host, port, user or credentials builds a new ClusterSession, and a value cached for the old one
 * is never served for the new one. Per-run entries go when the run settles, when a new generation replaces
 * it, and when the benchmark is deleted, so nothing grows with the number of runs ever seen.
 */
interface RunEntry {
  /** The session `token` and `endpoints` were read through. */
  session: ClusterSession | undefined;
  token: string | undefined;
  /** job id → host:port from the job's endpoint file (a job writes it once). */
  readonly endpoints: Map<string, string>;
  /** Jobs this process submitted or adopted: covers the moment before the cache shows our status write. */
  readonly jobs: Map<JobRole, string>;
}

export interface RunMemorySizes {
  runs: number;
  tokens: number;
  endpoints: number;
  jobs: number;
}

export class RunMemory {
  /** By run id (`<uid>-g<generation>`). */
  private readonly runs = new Map<string, RunEntry>();
  /** The cluster user's $HOME, per session: a new user or host has another one. */
  private readonly homes = new WeakMap<ClusterSession, string>();

  job(runId: string, role: JobRole): string | undefined {
    return this.runs.get(runId)?.jobs.get(role);
  }

  rememberJob(runId: string, role: JobRole, jobId: string): void {
    this.entry(runId).jobs.set(role, jobId);
  }

  endpoint(runId: string, session: ClusterSession, jobId: string): string | undefined {
    return this.scoped(runId, session)?.endpoints.get(jobId);
  }

  rememberEndpoint(runId: string, session: ClusterSession, jobId: string, endpoint: string): void {
    this.scopedEntry(runId, session).endpoints.set(jobId, endpoint);
  }

  token(runId: string, session: ClusterSession): string | undefined {
    return this.scoped(runId, session)?.token;
  }

  rememberToken(runId: string, session: ClusterSession, token: string): void {
    this.scopedEntry(runId, session).token = token;
  }

  home(session: ClusterSession): string | undefined {
    return this.homes.get(session);
  }

  rememberHome(session: ClusterSession, home: string): void {
    this.homes.set(session, home);
  }

  forget(runId: string): void {
    this.runs.delete(runId);
  }

  /** Every run whose id starts with `runIdPrefix` (every run of one benchmark: `<uid>-g`). */
  forgetAll(runIdPrefix: string): void {
    for (const runId of [...this.runs.keys()]) if (runId.startsWith(runIdPrefix)) this.runs.delete(runId);
  }

  sizes(): RunMemorySizes {
    let tokens = 0;
    let endpoints = 0;
    let jobs = 0;
    for (const entry of this.runs.values()) {
      if (entry.token !== undefined) tokens++;
      endpoints += entry.endpoints.size;
      jobs += entry.jobs.size;
    }
    return { runs: this.runs.size, tokens, endpoints, jobs };
  }

  private entry(runId: string): RunEntry {
    let entry = this.runs.get(runId);
    if (!entry) {
      entry = { session: undefined, token: undefined, endpoints: new Map(), jobs: new Map() };
      this.runs.set(runId, entry);
    }
    return entry;
  }

  /** The entry, if what it read was read through `session`. */
  private scoped(runId: string, session: ClusterSession): RunEntry | undefined {
    const entry = this.runs.get(runId);
    return entry?.session === session ? entry : undefined;
  }

  /** The entry, with what an earlier session read dropped. */
  private scopedEntry(runId: string, session: ClusterSession): RunEntry {
    const entry = this.entry(runId);
    if (entry.session !== session) {
      entry.session = session;
      entry.token = undefined;
      entry.endpoints.clear();
    }
    return entry;
  }
}
