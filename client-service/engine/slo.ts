import {
  DEFAULT_SLO_ATTAINMENT,
  SLO_METRICS,
  type Slo,
  type SloEvaluation,
  type SloMetric,
} from '../api-schema.js';
import { type MeasuredRequest, percentileOfSorted } from '../metrics.js';

/**
 * Goodput and attainment of a set of measured requests against an SLO.
 *
 * A request is good when it succeeded and meets every threshold given, as vLLM's `--goodput` and
 * inference-perf define it. Per request: TTFT and e2e are the request's own; TPOT is (e2e − TTFT) /
 * (tokens − 1); ITL is the request's mean gap between content chunks. A value the request cannot have
 * (TPOT and ITL of a one-token answer) does not count against it. Failed requests are never good;
 * cancelled and warmup requests are not counted at all.
 *
 * Whether the level meets the SLO: with `percentile`, when that percentile of every metric with a threshold
 * is within it (ITL over the pooled gaps of all requests); otherwise when the attainment reaches
 * `attainment` (default 0.95).
 */
export function evaluateSlo(
  requests: readonly MeasuredRequest[],
  wallTimeSeconds: number | null,
  slo: Slo,
): SloEvaluation {
  const violations = { ttftMs: 0, tpotMs: 0, itlMs: 0, e2eMs: 0, errors: 0 };
  const values: Record<SloMetric, number[]> = { ttftMs: [], tpotMs: [], itlMs: [], e2eMs: [] };
  const metrics = SLO_METRICS.filter((m) => slo[m] !== undefined);
  let measured = 0;
  let good = 0;
  for (const { record: r, itlsMs } of requests) {
    if (r.warmup || r.errorKind === 'cancelled') continue;
    measured++;
    if (!r.ok) {
      violations.errors++;
      continue;
    }
    const perRequest: Record<SloMetric, number | null> = {
      ttftMs: r.ttftMs,
      tpotMs: r.tpotMs,
      itlMs: r.itlMeanMs,
      e2eMs: r.e2eMs,
    };
    let isGood = true;
    for (const metric of metrics) {
      const value = perRequest[metric];
      if (metric === 'itlMs') for (const gap of itlsMs) values.itlMs.push(gap);
      else if (value !== null) values[metric].push(value);
      if (value !== null && value > (slo[metric] as number)) {
        violations[metric]++;
        isGood = false;
      }
    }
    if (isGood) good++;
  }
  const attainment = measured === 0 ? null : good / measured;
  const goodput = wallTimeSeconds === null || wallTimeSeconds <= 0 ? null : good / wallTimeSeconds;
  if (slo.percentile !== undefined) {
    const percentile = slo.percentile;
    const percentiles: Partial<Record<SloMetric, number | null>> = {};
    let worst: { metric: SloMetric; ratio: number } | null = null;
    let anyValue = false;
    for (const metric of metrics) {
      const sorted = Array.from(Float64Array.from(values[metric]).sort());
      const value = sorted.length === 0 ? null : percentileOfSorted(sorted, percentile);
      percentiles[metric] = value;
      if (value === null) continue;
      anyValue = true;
      const ratio = value / (slo[metric] as number);
      if (ratio > 1 && (worst === null || ratio > worst.ratio)) worst = { metric, ratio };
    }
    // Nothing succeeded: the target cannot have held.
    const met = measured === 0 ? null : anyValue && worst === null && good > 0;
    return {
      met,
      goodput,
      attainment,
      goodRequests: good,
      violations,
      mostViolated: worst?.metric ?? null,
      percentiles,
    };
  }
  const target = slo.attainment ?? DEFAULT_SLO_ATTAINMENT;
  let mostViolated: SloMetric | null = null;
  for (const metric of metrics) {
    const count = violations[metric];
    if (count > 0 && (mostViolated === null || count > violations[mostViolated])) mostViolated = metric;
  }
  return {
    met: attainment === null ? null : attainment >= target,
    goodput,
    attainment,
    goodRequests: good,
    violations,
    mostViolated,
    percentiles: null,
  };
}
