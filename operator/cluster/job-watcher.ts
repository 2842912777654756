import { isFound, isPending, isTerminal, type JobLookup } from '../../slurm-bridge/index.js';
import type { Clock, TimerHandle } from '../runtime/clock.js';
import type { JobWatcher, OwnerKey } from './types.js';

export interface JobWatcherOptions {
  /** ONE remote command for all ids (SlurmClient.queryJobs). */
  query: (ids: readonly string[]) => Promise<Map<string, JobLookup>>;
  clock: Clock;
  /** Called once per owner per poll in which any of its jobs changed. */
  onChange: (owner: OwnerKey) => void;
  onError?: (error: unknown) => void;
  /** While something is starting (a job pending, a fresh submit). */
  fastIntervalMs?: number;
  /** When every watched job is steady (running or finished). */
  slowIntervalMs?: number;
  /** How long an `expedite` or a newly watched id keeps the fast interval. */
  fastWindowMs?: number;
}

/**
 * One batched query per poll for every job any owner watches, so the cost on slurmctld does not grow
 * with the number of benchmarks (submitit's watcher does the same). The interval adapts: fast while a
 * job is pending or was just submitted, slow when everything is steady. Jobs known to be finished for
 * good are not asked for again.
 */
export class BatchedJobWatcher implements JobWatcher {
  private readonly owners = new Map<OwnerKey, Set<string>>();
  private readonly states = new Map<string, JobLookup>();
  private readonly fastIntervalMs: number;
  private readonly slowIntervalMs: number;
  private readonly fastWindowMs: number;
  private fastUntil = 0;
  private timer: TimerHandle | undefined;
  private nextPollAt = Number.POSITIVE_INFINITY;
  private inFlight: Promise<void> | undefined;
  private stopped = true;
  private pollCount = 0;
  private lastPollAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: JobWatcherOptions) {
    this.fastIntervalMs = options.fastIntervalMs ?? 2_000;
    this.slowIntervalMs = options.slowIntervalMs ?? 15_000;
    this.fastWindowMs = options.fastWindowMs ?? 60_000;
  }

  get polls(): number {
    return this.pollCount;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
    this.nextPollAt = Number.POSITIVE_INFINITY;
  }

  watch(owner: OwnerKey, jobIds: readonly string[]): void {
    if (jobIds.length === 0) {
      this.unwatch(owner);
      return;
    }
    const previous = this.owners.get(owner);
    const next = new Set(jobIds);
    this.owners.set(owner, next);
    const added = [...next].some((id) => !previous?.has(id) && !this.states.has(id));
    if (added) this.expedite();
    this.forgetUnwatched();
  }

  unwatch(owner: OwnerKey): void {
    if (this.owners.delete(owner)) this.forgetUnwatched();
  }

  get(jobId: string): JobLookup | undefined {
    return this.states.get(jobId);
  }

  expedite(): void {
    const now = this.options.clock.now();
    this.fastUntil = now + this.fastWindowMs;
    // Soon, but never sooner than one fast interval after the last query: a stream of submits must not
    // turn into a stream of squeues (one query per interval whatever happens). The short delay also lets
    // the submits of one reconcile wave share the query.
    const at = Math.max(now + 300, this.lastPollAt + this.fastIntervalMs);
    if (this.nextPollAt > at) this.schedule(at - now);
  }

  /** Runs one poll now (tests, and callers that just changed something and want fresh states). */
  async pollNow(): Promise<void> {
    if (this.inFlight) return this.inFlight;
    this.inFlight = this.poll().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer?.cancel();
    this.nextPollAt = this.options.clock.now() + delayMs;
    this.timer = this.options.clock.setTimer(delayMs, () => {
      this.timer = undefined;
      this.nextPollAt = Number.POSITIVE_INFINITY;
      void this.pollNow().then(() => this.schedule(this.nextInterval()));
    });
  }

  private idsToAsk(): string[] {
    const ids = new Set<string>();
    for (const set of this.owners.values()) {
      for (const id of set) if (!this.isSettled(this.states.get(id))) ids.add(id);
    }
    return [...ids];
  }

  /** Final for good: scontrol (or the client's cache) reported the end, or Slurm has forgotten the job. */
  private isSettled(lookup: JobLookup | undefined): boolean {
    if (!lookup) return false;
    if (!isFound(lookup)) return true;
    return isTerminal(lookup.state) && lookup.source !== 'squeue';
  }

  private async poll(): Promise<void> {
    const ids = this.idsToAsk();
    if (ids.length === 0) return;
    let answers: Map<string, JobLookup>;
    try {
      this.pollCount++;
      this.lastPollAt = this.options.clock.now();
      answers = await this.options.query(ids);
    } catch (error) {
      this.options.onError?.(error);
      return;
    }
    const changedOwners = new Set<OwnerKey>();
    for (const [id, lookup] of answers) {
      const before = this.states.get(id);
      this.states.set(id, lookup);
      if (before && sameObservation(before, lookup)) continue;
      for (const [owner, set] of this.owners) if (set.has(id)) changedOwners.add(owner);
    }
    for (const owner of changedOwners) this.options.onChange(owner);
  }

  private nextInterval(): number {
    if (this.options.clock.now() < this.fastUntil) return this.fastIntervalMs;
    for (const set of this.owners.values()) {
      for (const id of set) {
        const lookup = this.states.get(id);
        if (!lookup || (isFound(lookup) && isPending(lookup.state))) return this.fastIntervalMs;
        // A job reported finished by squeue still needs scontrol's exit code: ask again soon.
        if (isFound(lookup) && isTerminal(lookup.state) && lookup.source === 'squeue')
          return this.fastIntervalMs;
      }
    }
    return this.slowIntervalMs;
  }

  private forgetUnwatched(): void {
    const watched = new Set<string>();
    for (const set of this.owners.values()) for (const id of set) watched.add(id);
    for (const id of this.states.keys()) if (!watched.has(id)) this.states.delete(id);
  }
}

/** What a reconcile acts on; a change in any of these wakes the owner. */
function sameObservation(a: JobLookup, b: JobLookup): boolean {
  if (!isFound(a) || !isFound(b)) return a.state === b.state;
  return (
    a.state === b.state &&
    a.reason === b.reason &&
    a.nodeList === b.nodeList &&
    a.exitCode === b.exitCode &&
    a.source === b.source
  );
}
