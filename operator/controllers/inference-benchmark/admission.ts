/**
 * Per-cluster admission (SlurmCluster spec.maxActiveBenchmarks): at most `limit` benchmarks of one cluster
 * hold a place at once, and the others wait their turn in creation order.
 *
 * Why: a benchmark needs its server job and its client job running at the same time, and the client is
 * submitted only once the server runs. Without a cap, fifty benchmarks applied at once submit fifty servers;
 * the first ones fill every slot, and their clients queue behind the remaining servers until the time limits
 * expire (hold and wait). Admitting whole benchmarks keeps the pairs together.
 *
 * The decision is a pure function of the listed objects, and a place is written to status.admission before
 * the run's first sbatch (docs/architecture.md#state-rules): nothing of it lives in memory, so a restart or
 * a new leader decides the same. Places are given in line order only: a benchmark is admitted when the
 * places held plus the benchmarks waiting ahead of it leave room. Two deciders with the same view can then
 * never both take the last place, and a decider whose view lags (a place just given is not visible yet)
 * still counts that benchmark as waiting ahead, so it errs on the side of waiting.
 */

export interface AdmissionCandidate {
  /** namespace/name of the benchmark. */
  readonly key: string;
  /** metadata.creationTimestamp in ms: the order of the line. */
  readonly createdAt: number;
  /** Its current run holds a place: status.admission names it, or (from before admission was written) it has jobs. */
  readonly holdsPlace: boolean;
  /** Succeeded, Failed or being deleted: holds no place and waits for none. */
  readonly settled: boolean;
}

export type AdmissionDecision =
  | { readonly admitted: true; readonly alreadyHeld: boolean }
  | {
      readonly admitted: false;
      /** Benchmarks holding a place now. */
      readonly active: number;
      /** 1 for the next in line. */
      readonly position: number;
    };

export function decideAdmission(
  self: AdmissionCandidate,
  limit: number | undefined,
  observed: readonly AdmissionCandidate[],
): AdmissionDecision {
  if (self.holdsPlace) return { admitted: true, alreadyHeld: true };
  if (limit === undefined) return { admitted: true, alreadyHeld: false };
  const live = observed.filter((candidate) => !candidate.settled && candidate.key !== self.key);
  const active = live.filter((candidate) => candidate.holdsPlace).length;
  const ahead = live.filter((candidate) => !candidate.holdsPlace && comesBefore(candidate, self)).length;
  if (active + ahead < limit) return { admitted: true, alreadyHeld: false };
  return { admitted: false, active, position: ahead + 1 };
}

function comesBefore(a: AdmissionCandidate, b: AdmissionCandidate): boolean {
  return a.createdAt !== b.createdAt ? a.createdAt < b.createdAt : a.key < b.key;
}

/**
 * The benchmarks waiting for a place that `decideAdmission` admits on this view: the first
 * `limit - places held` of the line. When a place comes free these are the ones worth waking; the others
 * would only find themselves still waiting (their place in line is refreshed by their own slower poll).
 */
export function admissibleNow(limit: number | undefined, observed: readonly AdmissionCandidate[]): string[] {
  const live = observed.filter((candidate) => !candidate.settled);
  const waiting = live.filter((candidate) => !candidate.holdsPlace).sort(lineOrder);
  if (limit === undefined) return waiting.map((candidate) => candidate.key);
  const free = limit - live.filter((candidate) => candidate.holdsPlace).length;
  return waiting.slice(0, Math.max(0, free)).map((candidate) => candidate.key);
}

function lineOrder(a: AdmissionCandidate, b: AdmissionCandidate): number {
  if (comesBefore(a, b)) return -1;
  return comesBefore(b, a) ? 1 : 0;
}
