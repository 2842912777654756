import { z } from 'zod';
import type { RunStatus } from '../../../../client-service/api-schema.js';
import {
  ConditionReason,
  DEFAULT_SLO_ATTAINMENT,
  type InferenceBenchmarkSpec,
  SaturationStatus,
  SLO_METRIC_NAMES,
  SloMetricName,
  type SloSpec,
  StageStatus,
} from '../../../../crds/index.js';
import { roundNumbers } from '../round-numbers.js';

/**
 * What a run's stages, saturation and SLO become in status (issue 16; README "Sweeps, SLOs and goodput"):
 * pure functions of the client service's answer and the spec, so the unit tests drive them with numbers.
 */

/** A run reports per-level figures when it has more than one level, repeats, or an SLO to judge. */
export function reportsStages(spec: InferenceBenchmarkSpec): boolean {
  return spec.workload.sweep !== undefined || (spec.workload.repeat ?? 1) > 1 || spec.slo !== undefined;
}

/**
 * status.stages: the client's compact stages, parsed by the CRD's schema (which drops what status does not
 * carry, such as the per-stage warnings that go into the message) and rounded like status.results. While the
 * run goes only the finished levels are shown; once it ended, every level with its final state.
 */
export function stagesForStatus(run: Pick<RunStatus, 'stages' | 'state'>): StageStatus[] | undefined {
  const stages = run.state === 'running' ? run.stages.filter((s) => s.state === 'done') : run.stages;
  const parsed = z.array(StageStatus).safeParse(stages);
  return parsed.success ? roundNumbers(parsed.data) : undefined;
}

export function saturationForStatus(run: Pick<RunStatus, 'saturation'>): SaturationStatus | undefined {
  const parsed = SaturationStatus.safeParse(run.saturation);
  return parsed.success ? roundNumbers(parsed.data) : undefined;
}

/** The stage's load as words: `8 clients`, `1 client`, `2.5 req/s`. */
export function describeLoad(stage: Pick<StageStatus, 'load'>): string {
  const { clients, ratePerSecond } = stage.load;
  if (clients !== null) return `${clients} client${clients === 1 ? '' : 's'}`;
  return `${ratePerSecond ?? '?'} req/s`;
}

/** A load level as the Knee/SLO column prints it: `8` clients, `2.5/s` requests per second. */
function loadText(load: number, kind: SaturationStatus['load']): string {
  return kind === 'clients' ? String(load) : `${load}/s`;
}

/**
 * status.display.saturation: with an SLO, the largest load that meets it (`slo 8`, `slo none`); else, for a
 * sweep, its knee (`knee 4`, `none`). Undefined for a one-level run without SLO.
 */
export function saturationDisplay(
  spec: InferenceBenchmarkSpec,
  saturation: SaturationStatus | undefined,
): string | undefined {
  if (!saturation) return undefined;
  if (spec.slo !== undefined) {
    const max = saturation.maxSloLoad;
    return max ? `slo ${loadText(max.load, saturation.load)}` : 'slo none';
  }
  if (spec.workload.sweep === undefined) return undefined;
  return saturation.knee ? `knee ${loadText(saturation.knee.load, saturation.load)}` : 'none';
}

/** What the run's stages.json says of each level's SLO (client-service/engine/benchmark-run.ts StagesFile). */
export const StagesFileSlo = z.object({
  levels: z.array(
    z.object({
      slo: z
        .object({
          violations: z.partialRecord(z.enum([...SLO_METRIC_NAMES, 'errors']), z.number()).optional(),
          percentiles: z.partialRecord(z.enum(SLO_METRIC_NAMES), z.number().nullable()).nullable().optional(),
        })
        .nullable(),
    }),
  ),
});
export type StagesFileSlo = z.infer<typeof StagesFileSlo>;

export interface SloVerdict {
  status: 'True' | 'False';
  reason: string;
  message: string;
}

function round(value: number): string {
  return Number(value.toPrecision(4)).toString();
}

/** The percentile of `metric` at a stage: from stages.json when read, else the stage's own p50/p90/p99. */
function percentileAt(
  stage: StageStatus,
  metric: SloMetricName,
  percentile: number,
  file: StagesFileSlo | undefined,
): number | null {
  const fromFile = file?.levels[stage.stage - 1]?.slo?.percentiles?.[metric];
  if (fromFile !== undefined && fromFile !== null) return fromFile;
  const key = `p${percentile}`;
  const quantiles = stage[metric] as Record<string, number | null>;
  return key in quantiles ? (quantiles[key] ?? null) : null;
}

/** Why a level missed the SLO, naming the threshold: `ttftMs p95 812 ms > 500 ms at stage 3 (8 clients)`. */
export function describeMiss(stage: StageStatus, slo: SloSpec, file: StagesFileSlo | undefined): string {
  const where = `at stage ${stage.stage} (${describeLoad(stage)})`;
  // status carries the metric as a plain string (see crds/benchmark-sweep.ts nullableWord).
  const named = SloMetricName.safeParse(stage.sloMostViolated);
  const metric = named.success ? named.data : null;
  if (slo.percentile !== undefined) {
    // The metric furthest over its threshold; when the stage named none (no request succeeded), the first.
    const metrics = metric ? [metric] : SLO_METRIC_NAMES.filter((m) => slo[m] !== undefined);
    for (const m of metrics) {
      const limit = slo[m];
      if (limit === undefined) continue;
      const value = percentileAt(stage, m, slo.percentile, file);
      return value === null
        ? `${m} p${slo.percentile} over ${limit} ms ${where}`
        : `${m} p${slo.percentile} ${round(value)} ms > ${limit} ms ${where}`;
    }
    return `no request succeeded ${where}`;
  }
  const wanted = slo.attainment ?? DEFAULT_SLO_ATTAINMENT;
  const attainment = stage.attainment === null ? 'none' : round(stage.attainment);
  const head = `attainment ${attainment} < ${wanted} ${where}`;
  if (!metric) return stage.failed > 0 ? `${head}: ${stage.failed} requests failed` : head;
  const over = file?.levels[stage.stage - 1]?.slo?.violations?.[metric];
  const counted = over !== undefined ? `${over} of ${stage.requests} requests` : 'most requests';
  return `${head}: ${counted} over ${metric} ${slo[metric]} ms`;
}

function describeMet(stage: StageStatus): string {
  const goodput = stage.goodput === null ? 'none' : `${round(stage.goodput)} req/s`;
  const rps = stage.requestsPerSecond === null ? '' : ` of ${round(stage.requestsPerSecond)} req/s`;
  return `stage ${stage.stage} (${describeLoad(stage)}): goodput ${goodput}${rps}`;
}

/**
 * The SLOMet condition of a finished run: at spec.slo.level when set, else at any level (one level without
 * a sweep). False names the failing threshold; with every level failing, that of the level closest to it
 * (the highest attainment, the first on a tie).
 */
export function judgeSlo(
  slo: SloSpec,
  stages: readonly StageStatus[],
  file: StagesFileSlo | undefined,
): SloVerdict {
  const measured = stages.filter((s) => s.state === 'done' && s.sloMet !== null);
  if (slo.level !== undefined) {
    const marked = stages.find((s) => (s.load.clients ?? s.load.ratePerSecond) === slo.level);
    if (marked?.state !== 'done' || marked.sloMet === null) {
      const state = marked ? `was ${marked.state}` : 'is not among the levels that ran';
      return {
        status: 'False',
        reason: ConditionReason.SLONotMet,
        message: `slo.level ${slo.level} ${state}: the SLO was not measured there`,
      };
    }
    return marked.sloMet
      ? { status: 'True', reason: ConditionReason.SLOMet, message: `met at ${describeMet(marked)}` }
      : { status: 'False', reason: ConditionReason.SLONotMet, message: describeMiss(marked, slo, file) };
  }
  const met = measured.filter((s) => s.sloMet === true);
  if (met.length > 0) {
    // By load, not by run order: levels may be listed in any order.
    const loadOf = (s: StageStatus) => s.load.clients ?? s.load.ratePerSecond ?? 0;
    const largest = met.reduce((a, b) => (loadOf(b) > loadOf(a) ? b : a));
    const of = measured.length > 1 ? ` (${met.length} of ${measured.length} levels; the largest)` : '';
    return { status: 'True', reason: ConditionReason.SLOMet, message: `met at ${describeMet(largest)}${of}` };
  }
  if (measured.length === 0)
    return { status: 'False', reason: ConditionReason.SLONotMet, message: 'no level was measured' };
  const best = measured.reduce((a, b) => ((b.attainment ?? -1) > (a.attainment ?? -1) ? b : a));
  const levels = measured.length > 1 ? `; missed at all ${measured.length} levels` : '';
  return {
    status: 'False',
    reason: ConditionReason.SLONotMet,
    message: `${describeMiss(best, slo, file)}${levels}`,
  };
}

/** `4 levels; knee at 4 clients (30.2 tok/s); peak 31 tok/s at 8 clients`, for the BenchmarkComplete message. */
export function describeSaturation(
  stages: readonly StageStatus[],
  saturation: SaturationStatus | undefined,
): string {
  const done = stages.filter((s) => s.state === 'done').length;
  const parts = [`${done} of ${stages.length} levels measured`];
  if (!saturation) return parts[0] as string;
  const at = (point: { load: number }) =>
    saturation.load === 'clients' ? `${point.load} clients` : `${point.load} req/s`;
  const { knee, peakOutputTokensPerSecond: peak, stoppedAfterStage, stopReason } = saturation;
  if (knee && knee.value !== null) parts.push(`knee at ${at(knee)} (${round(knee.value)} tok/s)`);
  if (peak && peak.value !== null) parts.push(`peak ${round(peak.value)} tok/s at ${at(peak)}`);
  if (stoppedAfterStage !== null) parts.push(`stopped after stage ${stoppedAfterStage} (${stopReason})`);
  return parts.join('; ');
}
