import { expandRange, type LoadLevel, type StartRunRequest } from '../api-schema.js';

/** One load level as the engine runs it: every default resolved. */
export interface StagePlan {
  /** 1-based, in run order. */
  stage: number;
  mode: 'closed' | 'open';
  /** Closed loop: the clients; open loop: how many client ids arrivals cycle through (workload.clients). */
  clients: number;
  /** Open loop only. */
  ratePerSecond: number | null;
  warmupRequests: number;
  /** Measured requests to send; null when the level is bound by durationSeconds alone. */
  requests: number | null;
  durationSeconds: number | null;
  /** Open loop: the cap on requests in flight. */
  maxConcurrency: number | null;
}

/**
 * The stages of a run. Without a sweep, one stage that is exactly the run as it was before sweeps existed
 * (a closed loop ignores durationSeconds, as it always did). With one, each level with its own amounts,
 * else the sweep's, else the workload's.
 */
export function planStages(request: StartRunRequest): StagePlan[] {
  const w = request.workload;
  const sweep = w.sweep;
  if (sweep === undefined) {
    const open = w.mode === 'open';
    return [
      {
        stage: 1,
        mode: w.mode,
        clients: w.clients,
        ratePerSecond: open ? (w.ratePerSecond ?? null) : null,
        warmupRequests: w.warmupRequests,
        requests: open && w.durationSeconds !== undefined ? null : w.clients * w.requestsPerClient,
        durationSeconds: open ? (w.durationSeconds ?? null) : null,
        maxConcurrency: open ? (w.maxConcurrency ?? null) : null,
      },
    ];
  }
  const levels: LoadLevel[] =
    sweep.levels ??
    (sweep.range === undefined
      ? []
      : expandRange(sweep.range).map(
          (value): LoadLevel =>
            sweep.range?.load === 'ratePerSecond' ? { ratePerSecond: value } : { clients: value },
        ));
  return levels.map((level, i): StagePlan => {
    const durationSeconds = level.durationSeconds ?? sweep.durationSeconds ?? null;
    const warmupRequests = level.warmupRequests ?? sweep.warmupRequests ?? w.warmupRequests;
    if (level.clients !== undefined) {
      const perClient = level.requestsPerClient ?? sweep.requestsPerClient ?? w.requestsPerClient;
      // A duration given without a count bounds the level by time alone.
      const countGiven = level.requestsPerClient !== undefined || sweep.requestsPerClient !== undefined;
      return {
        stage: i + 1,
        mode: 'closed',
        clients: level.clients,
        ratePerSecond: null,
        warmupRequests,
        requests: durationSeconds !== null && !countGiven ? null : level.clients * perClient,
        durationSeconds,
        maxConcurrency: null,
      };
    }
    const count = level.requests ?? sweep.requests;
    return {
      stage: i + 1,
      mode: 'open',
      clients: w.clients,
      ratePerSecond: level.ratePerSecond ?? null,
      warmupRequests,
      requests:
        count !== undefined ? count : durationSeconds !== null ? null : w.clients * w.requestsPerClient,
      durationSeconds,
      maxConcurrency: level.maxConcurrency ?? sweep.maxConcurrency ?? w.maxConcurrency ?? null,
    };
  });
}

/** The level's load as one number: clients, or requests/s. */
export function stageLoad(plan: StagePlan): number {
  return plan.mode === 'closed' ? plan.clients : (plan.ratePerSecond as number);
}
