import tQuantile from '@stdlib/stats-base-dists-t-quantile';
import type { RepeatFigure, RepeatStats, RunSummary } from '../api-schema.js';

/** Above this coefficient of variation the repeats of a level disagree enough to say so. */
export const CV_WARNING = 0.05;

/**
 * Mean of the repeats with a two-sided 95 % confidence interval from Student's t distribution, as R's
 * `t.test(x)$conf.int`: mean ± t(0.975, n − 1) · sd / √n (sample sd), and the coefficient of variation
 * sd / |mean|. Null values (a repeat that measured nothing) are left out.
 */
export function repeatFigure(values: readonly (number | null)[], level = 0.95): RepeatFigure {
  const x = values.filter((v): v is number => v !== null && Number.isFinite(v));
  const n = x.length;
  if (n === 0) return { n, mean: null, ciLower: null, ciUpper: null, cv: null };
  let sum = 0;
  for (const v of x) sum += v;
  const mean = sum / n;
  if (n < 2) return { n, mean, ciLower: null, ciUpper: null, cv: null };
  let squares = 0;
  for (const v of x) squares += (v - mean) * (v - mean);
  const sd = Math.sqrt(squares / (n - 1));
  const halfWidth = tQuantile(1 - (1 - level) / 2, n - 1) * (sd / Math.sqrt(n));
  return {
    n,
    mean,
    ciLower: mean - halfWidth,
    ciUpper: mean + halfWidth,
    cv: mean === 0 ? null : sd / Math.abs(mean),
  };
}

const FIGURES = {
  outputTokensPerSecond: (s: RunSummary) => s.outputTokensPerSecond,
  requestsPerSecond: (s: RunSummary) => s.requestsPerSecond,
  ttftP50Ms: (s: RunSummary) => s.ttftMs.p50,
  itlP50Ms: (s: RunSummary) => s.itlMs.p50,
  tpotP50Ms: (s: RunSummary) => s.tpotMs.p50,
  e2eP50Ms: (s: RunSummary) => s.e2eMs.p50,
} as const;

/** Throughput and p50 latencies over the repeats of one level. */
export function repeatStats(summaries: readonly RunSummary[]): RepeatStats {
  const figure = (pick: (s: RunSummary) => number | null) => repeatFigure(summaries.map(pick));
  return {
    repeats: summaries.length,
    outputTokensPerSecond: figure(FIGURES.outputTokensPerSecond),
    requestsPerSecond: figure(FIGURES.requestsPerSecond),
    ttftP50Ms: figure(FIGURES.ttftP50Ms),
    itlP50Ms: figure(FIGURES.itlP50Ms),
    tpotP50Ms: figure(FIGURES.tpotP50Ms),
    e2eP50Ms: figure(FIGURES.e2eP50Ms),
  };
}

/** `CV of outputTokensPerSecond 7.2 % over 3 repeats (> 5 %)` for every figure whose CV is above 5 %. */
export function repeatWarnings(stats: RepeatStats): string[] {
  const warnings: string[] = [];
  for (const name of Object.keys(FIGURES) as (keyof typeof FIGURES)[]) {
    const cv = stats[name].cv;
    if (cv !== null && cv > CV_WARNING) {
      warnings.push(
        `CV of ${name} ${(cv * 100).toFixed(1)} % over ${stats[name].n} repeats (> ${CV_WARNING * 100} %)`,
      );
    }
  }
  return warnings;
}
