import type { LevelPoint, Saturation } from '../api-schema.js';

/** What the saturation summary needs of one finished level. */
export interface LevelFigures {
  stage: number;
  /** Clients, or requests/s. */
  load: number;
  outputTokensPerSecond: number | null;
  requestsPerSecond: number | null;
  /** The latency that must keep rising past the knee. */
  e2eP50Ms: number | null;
  /** Null without an SLO. */
  sloMet: boolean | null;
  goodput: number | null;
}

/**
 * Throughput as the knee and the early stop see it: output tokens/s, or requests/s when some level has no
 * token count (every level then uses requests/s, so that they compare).
 */
function throughputOf(levels: readonly LevelFigures[]): (l: LevelFigures) => number | null {
  return levels.every((l) => l.outputTokensPerSecond !== null)
    ? (l) => l.outputTokensPerSecond
    : (l) => l.requestsPerSecond;
}

/** Relative growth from a to b; null when it cannot be computed. */
function growth(a: number | null, b: number | null): number | null {
  if (a === null || b === null || a <= 0) return null;
  return (b - a) / a;
}

function peak(levels: readonly LevelFigures[], pick: (l: LevelFigures) => number | null): LevelPoint | null {
  let best: LevelPoint | null = null;
  for (const l of levels) {
    const value = pick(l);
    if (value !== null && (best === null || value > (best.value as number)))
      best = { stage: l.stage, load: l.load, value };
  }
  return best;
}

/**
 * The knee: the first level (by load) after which throughput grows by less than `threshold` while e2e p50
 * still rises. Past it, more load buys queueing, not throughput.
 */
export function findKnee(levels: readonly LevelFigures[], threshold: number): LevelPoint | null {
  const byLoad = [...levels].sort((a, b) => a.load - b.load);
  const throughput = throughputOf(byLoad);
  for (let i = 0; i + 1 < byLoad.length; i++) {
    const here = byLoad[i] as LevelFigures;
    const next = byLoad[i + 1] as LevelFigures;
    const grew = growth(throughput(here), throughput(next));
    const latencyRose = here.e2eP50Ms !== null && next.e2eP50Ms !== null && next.e2eP50Ms > here.e2eP50Ms;
    if (grew !== null && grew < threshold && latencyRose) {
      return { stage: here.stage, load: here.load, value: throughput(here) as number };
    }
  }
  return null;
}

/**
 * Whether a sweep with stopWhenSaturated stops after the last level of `done` (in run order): that level
 * missed the SLO, or its throughput grew by less than `threshold` over the level before.
 */
export function stopReason(done: readonly LevelFigures[], threshold: number): 'saturated' | 'slo' | null {
  const last = done[done.length - 1];
  if (last === undefined) return null;
  if (last.sloMet === false) return 'slo';
  const before = done[done.length - 2];
  if (before === undefined) return null;
  const throughput = throughputOf(done);
  const grew = growth(throughput(before), throughput(last));
  return grew !== null && grew < threshold ? 'saturated' : null;
}

export function saturation(
  levels: readonly LevelFigures[],
  opts: {
    load: Saturation['load'];
    threshold: number;
    stoppedAfterStage: number | null;
    stopReason: Saturation['stopReason'];
  },
): Saturation {
  const hasSlo = levels.some((l) => l.sloMet !== null);
  let maxSloLoad: LevelPoint | null = null;
  for (const l of levels) {
    if (l.sloMet === true && (maxSloLoad === null || l.load > maxSloLoad.load)) {
      maxSloLoad = { stage: l.stage, load: l.load, value: l.goodput };
    }
  }
  return {
    load: opts.load,
    threshold: opts.threshold,
    peakOutputTokensPerSecond: peak(levels, (l) => l.outputTokensPerSecond),
    peakRequestsPerSecond: peak(levels, (l) => l.requestsPerSecond),
    knee: findKnee(levels, opts.threshold),
    maxSloLoad,
    sloMetAnywhere: hasSlo ? maxSloLoad !== null : null,
    stoppedAfterStage: opts.stoppedAfterStage,
    stopReason: opts.stopReason,
  };
}
