import type {
  Distribution,
  LatencyQuantiles,
  RepeatStats,
  RunSummary,
  Slo,
  SloEvaluation,
  StageState,
  StageSummary,
} from '../api-schema.js';
import { type MeasuredRequest, summarize } from '../metrics.js';
import { evaluateSlo } from './slo.js';
import type { StagePlan } from './stage-plan.js';

/** What one repeat of a level measured, finished or live. */
export interface WindowFigures {
  measured: readonly MeasuredRequest[];
  /** The measured window; null before it opened. */
  wallTimeSeconds: number | null;
  /** Σ of the measured requests' time in flight, ms (for the achieved concurrency). */
  busyMs: number;
  /** Open loop: arrivals and the arrival window. */
  arrivals: number;
  arrivalSeconds: number | null;
}

/** One repeat of one level in full, as the run's files keep it (stages.json). */
export interface RepeatReport {
  stage: number;
  repeat: number;
  mode: StagePlan['mode'];
  clients: number | null;
  ratePerSecond: number | null;
  achieved: StageSummary['achieved'];
  summary: RunSummary;
  slo: SloEvaluation | null;
}

function sumOrNull(values: readonly (number | null)[]): number | null {
  let total = 0;
  let any = false;
  for (const v of values) {
    if (v === null) continue;
    total += v;
    any = true;
  }
  return any ? total : null;
}

/** The pooled figures of some windows of one level: a repeat alone, or all repeats of the level. */
export function poolWindows(
  runId: string,
  plan: StagePlan,
  windows: readonly WindowFigures[],
  slo: Slo | undefined,
): { summary: RunSummary; slo: SloEvaluation | null; achieved: StageSummary['achieved'] } {
  const measured =
    windows.length === 1 ? (windows[0] as WindowFigures).measured : windows.flatMap((w) => w.measured);
  const wallTimeSeconds = sumOrNull(windows.map((w) => w.wallTimeSeconds));
  const summary = summarize(measured, {
    runId,
    windowStartMs: null,
    windowEndMs: null,
    openLoop: plan.mode === 'open',
    wallTimeSeconds,
  });
  const busyMs = windows.reduce((sum, w) => sum + w.busyMs, 0);
  const arrivalSeconds = sumOrNull(windows.map((w) => w.arrivalSeconds));
  const arrivals = windows.reduce((sum, w) => sum + w.arrivals, 0);
  return {
    summary,
    slo: slo === undefined ? null : evaluateSlo(measured, summary.wallTimeSeconds, slo),
    achieved: {
      concurrency: summary.wallTimeSeconds === null ? null : busyMs / 1000 / summary.wallTimeSeconds,
      ratePerSecond:
        plan.mode === 'open' && arrivalSeconds !== null && arrivalSeconds > 0
          ? arrivals / arrivalSeconds
          : null,
    },
  };
}

/** Non-integers to 4 significant digits: the status stays small and no figure claims more precision. */
export function round(value: number | null): number | null {
  if (value === null || Number.isInteger(value)) return value;
  return Number(value.toPrecision(4));
}

function quantiles(d: Distribution): LatencyQuantiles {
  return { p50: round(d.p50), p90: round(d.p90), p99: round(d.p99) };
}

function roundRepeat(stats: RepeatStats): RepeatStats {
  const r = (f: RepeatStats['requestsPerSecond']) => ({
    n: f.n,
    mean: round(f.mean),
    ciLower: round(f.ciLower),
    ciUpper: round(f.ciUpper),
    cv: round(f.cv),
  });
  return {
    repeats: stats.repeats,
    outputTokensPerSecond: r(stats.outputTokensPerSecond),
    requestsPerSecond: r(stats.requestsPerSecond),
    ttftP50Ms: r(stats.ttftP50Ms),
    itlP50Ms: r(stats.itlP50Ms),
    tpotP50Ms: r(stats.tpotP50Ms),
    e2eP50Ms: r(stats.e2eP50Ms),
  };
}

/** The compact entry of `stages[]` for one level. */
export function compactStage(
  plan: StagePlan,
  state: StageState,
  repeatsDone: number,
  pooled: ReturnType<typeof poolWindows> | null,
  repeat: RepeatStats | null,
  warnings: readonly string[],
): StageSummary {
  const s = pooled?.summary;
  const none: LatencyQuantiles = { p50: null, p90: null, p99: null };
  return {
    stage: plan.stage,
    state,
    mode: plan.mode,
    load: {
      clients: plan.mode === 'closed' ? plan.clients : null,
      ratePerSecond: plan.ratePerSecond,
    },
    achieved: {
      concurrency: round(pooled?.achieved.concurrency ?? null),
      ratePerSecond: round(pooled?.achieved.ratePerSecond ?? null),
    },
    repeatsDone,
    requests: s?.counts.requests ?? 0,
    succeeded: s?.counts.succeeded ?? 0,
    failed: s?.counts.failed ?? 0,
    wallTimeSeconds: round(s?.wallTimeSeconds ?? null),
    requestsPerSecond: round(s?.requestsPerSecond ?? null),
    outputTokensPerSecond: round(s?.outputTokensPerSecond ?? null),
    ttftMs: s ? quantiles(s.ttftMs) : none,
    itlMs: s ? quantiles(s.itlMs) : none,
    tpotMs: s ? quantiles(s.tpotMs) : none,
    e2eMs: s ? quantiles(s.e2eMs) : none,
    goodput: round(pooled?.slo?.goodput ?? null),
    attainment: round(pooled?.slo?.attainment ?? null),
    sloMet: pooled?.slo?.met ?? null,
    sloMostViolated: pooled?.slo?.mostViolated ?? null,
    errors: s?.errors ?? { timeout: 0, httpStatus: 0, streamError: 0, connection: 0 },
    repeat: repeat === null ? null : roundRepeat(repeat),
    warnings: [...warnings],
  };
}
