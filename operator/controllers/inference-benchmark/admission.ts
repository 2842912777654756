/**
 * Per-cluster admission (SlurmCluster spec.maxActiveBenchmarks): at most `limit` benchmarks of one cluster
 * hold SLURM jobs at once, and the others wait their turn in creation order.
 *
 * Why: a benchmark needs its Ollama job and its client job running at the same time, and the client is
 * submitted only once the server runs. Without a cap, fifty benchmarks applied at once submit fifty servers;
 * the first ones fill every slot, and their clients queue behind the remaining servers until the time limits
 * expire (hold and wait). Admitting whole benchmarks keeps the pairs together.
 *
 * The decision is synchronous (no await between looking and reserving), so two reconciles of one process
 * can never both take the last place; leader election makes the process the only one deciding.
 */

export interface AdmissionCandidate {
  /** namespace/name of the benchmark. */
  readonly key: string;
  /** metadata.creationTimestamp in ms: the order of the line. */
  readonly createdAt: number;
  /** status.runId: a spec change starts a new run, which needs a place again. */
  readonly runId: string;
  /** Its current run already has SLURM jobs (status.slurmJobs): it holds a place whatever happens. */
  readonly holdsJobs: boolean;
  /** Succeeded, Failed or being deleted: holds no place and waits for none. */
  readonly settled: boolean;
}

export type AdmissionDecision =
  | { readonly admitted: true }
  | {
      readonly admitted: false;
      /** Benchmarks holding a place now. */
      readonly active: number;
      /** 1 for the next in line. */
      readonly position: number;
    };

export class ClusterAdmission {
  /** Admitted by this process but maybe not yet visible as status.slurmJobs in the cache. */
  private readonly reserved = new Map<string, Set<string>>();
  /** Runs this process saw settle, per benchmark key, before the cache shows their terminal phase. */
  private readonly released = new Map<string, string>();

  decide(
    clusterKey: string,
    benchmarkKey: string,
    limit: number | undefined,
    observed: readonly AdmissionCandidate[],
  ): AdmissionDecision {
    const reserved = this.reservedOn(clusterKey);
    const byKey = new Map(
      observed.map((candidate) => [
        candidate.key,
        this.released.get(candidate.key) === candidate.runId ? { ...candidate, settled: true } : candidate,
      ]),
    );
    const candidates = [...byKey.values()];
    // A reservation ends when its benchmark settles or disappears, whoever noticed first.
    for (const key of reserved) {
      const candidate = byKey.get(key);
      if (!candidate || candidate.settled) reserved.delete(key);
    }
    const self = byKey.get(benchmarkKey);
    if (limit === undefined || self?.holdsJobs || reserved.has(benchmarkKey)) {
      reserved.add(benchmarkKey);
      return { admitted: true };
    }
    const live = candidates.filter((candidate) => !candidate.settled && candidate.key !== benchmarkKey);
    const active = new Set([
      ...live.filter((candidate) => candidate.holdsJobs).map((candidate) => candidate.key),
      ...reserved,
    ]);
    const ahead = live.filter(
      (candidate) => !active.has(candidate.key) && self !== undefined && comesBefore(candidate, self),
    ).length;
    if (active.size + ahead < limit) {
      reserved.add(benchmarkKey);
      return { admitted: true };
    }
    return { admitted: false, active: active.size, position: ahead + 1 };
  }

  /**
   * The run settled (or its benchmark is being deleted): its place is free at once, even while the cache
   * still shows it running. True the first time, so the caller wakes the waiting benchmarks only once.
   */
  release(clusterKey: string, benchmarkKey: string, runId: string): boolean {
    const first = this.released.get(benchmarkKey) !== runId;
    this.released.set(benchmarkKey, runId);
    this.reserved.get(clusterKey)?.delete(benchmarkKey);
    return first;
  }

  /** The benchmark is gone for good: forget it. */
  forget(clusterKey: string, benchmarkKey: string): void {
    this.released.delete(benchmarkKey);
    this.reserved.get(clusterKey)?.delete(benchmarkKey);
  }

  private reservedOn(clusterKey: string): Set<string> {
    let set = this.reserved.get(clusterKey);
    if (!set) {
      set = new Set();
      this.reserved.set(clusterKey, set);
    }
    return set;
  }
}

function comesBefore(a: AdmissionCandidate, b: AdmissionCandidate): boolean {
  return a.createdAt !== b.createdAt ? a.createdAt < b.createdAt : a.key < b.key;
}
