import type { StartRunRequest } from '../api-schema.js';
import { BenchmarkRun, type RunDependencies } from './benchmark-run.js';

export class RunConflictError extends Error {
  override readonly name = 'RunConflictError';
}

/**
 * The runs of this service by id. Starting an id that exists returns that run (the operator retries
 * POST /runs after a crash); the same id with a different body is a conflict, not a silent restart.
 */
export class RunManager {
  private readonly runs = new Map<string, { run: BenchmarkRun; fingerprint: string }>();

  constructor(private readonly deps: RunDependencies) {}

  start(request: StartRunRequest): { run: BenchmarkRun; created: boolean } {
    const fingerprint = JSON.stringify(request);
    const existing = this.runs.get(request.id);
    if (existing !== undefined) {
      if (existing.fingerprint !== fingerprint) {
        throw new RunConflictError(
          `run ${request.id} exists with a different body; use a new id for a new run`,
        );
      }
      return { run: existing.run, created: false };
    }
    const run = new BenchmarkRun(request, this.deps);
    this.runs.set(request.id, { run, fingerprint });
    return { run, created: true };
  }

  get(id: string): BenchmarkRun | undefined {
    return this.runs.get(id)?.run;
  }

  list(): BenchmarkRun[] {
    return [...this.runs.values()].map((r) => r.run);
  }

  /** Cancels every run still going and waits until each has written its files. */
  async shutdown(): Promise<void> {
    const runs = this.list();
    for (const run of runs) run.cancel();
    await Promise.all(runs.map((r) => r.done));
  }
}
