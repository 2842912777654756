import type { BenchmarkResults } from '../../crds/benchmark-results.js';
import { kruskalWallis, mannWhitneyU, oneWayAnova, welchTTest } from '../stats/index.js';

/** Per-request samples of one run's measured window, in ms (DESIGN.md "Results: definitions"). */
export interface RequestSamples {
  ttftMs: number[];
  tpotMs: number[];
  e2eMs: number[];
}

/** Throughput of each repeat of the same recipe, so run-to-run scatter can be told from a real change. */
export interface RepeatThroughputs {
  outputTokensPerSecond: number[];
  requestsPerSecond: number[];
}

/** One benchmark run to compare: its name and `status.results`, plus raw data when the caller has it. */
export interface RunToCompare {
  name: string;
  results: BenchmarkResults;
  samples?: RequestSamples;
  repeats?: RepeatThroughputs;
}

export type MetricKey =
  | 'outputTokensPerSecond'
  | 'requestsPerSecond'
  | 'ttftP50'
  | 'ttftP99'
  | 'tpotP50'
  | 'tpotP99'
  | 'e2eP50'
  | 'e2eP99';

export type TestName = 'welch' | 'mann-whitney' | 'anova' | 'kruskal-wallis';

export const NOT_TESTED = 'no samples: not tested';

export type Verdict =
  | { tested: false; reason: string }
  | {
      tested: true;
      test: TestName;
      statistic: number;
      pValue: number;
      /** pValue below the table's alpha. */
      significant: boolean;
      /** Mann-Whitney only: rank-biserial correlation of each run against the first (positive = larger). */
      rankBiserial?: number;
    };

export interface ComparisonRow {
  metric: MetricKey;
  label: string;
  unit: string;
  /** Which direction is an improvement. */
  better: 'higher' | 'lower';
  /** One value per run, in the order of `runs`; null when the run has none. */
  values: (number | null)[];
  /** Change against the first run in percent; null for the first run and where a value is missing. */
  deltaPercent: (number | null)[];
  verdict: Verdict;
}

export interface ComparisonTable {
  runs: string[];
  alpha: number;
  rows: ComparisonRow[];
}

interface MetricDefinition {
  key: MetricKey;
  label: string;
  unit: string;
  better: 'higher' | 'lower';
  value: (r: BenchmarkResults) => number | null;
  /** Throughput is one number per run, so its evidence is the repeats; latency has a value per request. */
  evidence: { kind: 'repeats'; of: keyof RepeatThroughputs } | { kind: 'samples'; of: keyof RequestSamples };
}

const METRICS: readonly MetricDefinition[] = [
  {
    key: 'outputTokensPerSecond',
    label: 'output throughput',
    unit: 'tok/s',
    better: 'higher',
    value: (r) => r.outputTokensPerSecond,
    evidence: { kind: 'repeats', of: 'outputTokensPerSecond' },
  },
  {
    key: 'requestsPerSecond',
    label: 'request throughput',
    unit: 'req/s',
    better: 'higher',
    value: (r) => r.requestsPerSecond,
    evidence: { kind: 'repeats', of: 'requestsPerSecond' },
  },
  ...(['ttft', 'tpot', 'e2e'] as const).flatMap((name) =>
    (['p50', 'p99'] as const).map(
      (q): MetricDefinition => ({
        key: `${name}${q === 'p50' ? 'P50' : 'P99'}`,
        label: `${name.toUpperCase()} ${q}`,
        unit: 'ms',
        better: 'lower',
        value: (r) => r[`${name}Ms`][q],
        evidence: { kind: 'samples', of: `${name}Ms` },
      }),
    ),
  ),
];

/**
 * Compares N benchmark runs metric by metric against the first one. The verdict of a row says whether the
 * runs differ beyond chance:
 * - throughput, from per-repeat values: Welch's t-test for two runs, one-way ANOVA for three or more;
 * - latency, from per-request samples: Mann-Whitney U for two runs, Kruskal-Wallis for three or more. The
 *   rank tests ask whether the whole distribution shifted, so the p50 and p99 rows of a latency share one
 *   verdict; a p99 that moved alone is not tested by them.
 * Without the data a test needs, the row says NOT_TESTED instead of guessing from single numbers.
 */
export function compareRuns(
  runs: readonly RunToCompare[],
  options: { alpha?: number } = {},
): ComparisonTable {
  if (runs.length < 2) throw new RangeError(`a comparison needs at least 2 runs (got ${runs.length})`);
  const alpha = options.alpha ?? 0.05;
  const rows = METRICS.map((metric): ComparisonRow => {
    const values = runs.map((run) => metric.value(run.results));
    const base = values[0] ?? null;
    const deltaPercent = values.map((v, i) =>
      i === 0 || v === null || base === null || base === 0 ? null : ((v - base) / base) * 100,
    );
    return {
      metric: metric.key,
      label: metric.label,
      unit: metric.unit,
      better: metric.better,
      values,
      deltaPercent,
      verdict: verdictFor(metric, runs, alpha),
    };
  });
  return { runs: runs.map((r) => r.name), alpha, rows };
}

function evidenceOf(metric: MetricDefinition, run: RunToCompare): number[] | undefined {
  const { evidence } = metric;
  return evidence.kind === 'repeats' ? run.repeats?.[evidence.of] : run.samples?.[evidence.of];
}

function verdictFor(metric: MetricDefinition, runs: readonly RunToCompare[], alpha: number): Verdict {
  const groups = runs.map((run) => (evidenceOf(metric, run) ?? []).filter(Number.isFinite));
  const tested = (test: TestName, statistic: number, pValue: number, rankBiserial?: number): Verdict =>
    Number.isFinite(pValue)
      ? {
          tested: true,
          test,
          statistic,
          pValue,
          significant: pValue < alpha,
          ...(rankBiserial === undefined ? {} : { rankBiserial }),
        }
      : // Every value equal in every group: the statistic is 0/0, and no test can tell anything.
        { tested: false, reason: 'no variation in the samples: not tested' };

  if (metric.evidence.kind === 'repeats') {
    if (groups.some((g) => g.length < 2)) return { tested: false, reason: NOT_TESTED };
    if (groups.length === 2) {
      const [base = [], other = []] = groups;
      const r = welchTTest(other, base);
      return tested('welch', r.t, r.pValue);
    }
    const r = oneWayAnova(groups);
    return tested('anova', r.f, r.pValue);
  }
  if (groups.some((g) => g.length === 0)) return { tested: false, reason: NOT_TESTED };
  if (groups.length === 2) {
    const [base = [], other = []] = groups;
    const r = mannWhitneyU(other, base);
    return tested('mann-whitney', r.u, r.pValue, r.rankBiserial);
  }
  const r = kruskalWallis(groups);
  return tested('kruskal-wallis', r.h, r.pValue);
}

/** A metric of one run that got worse than the first run by more than the threshold. */
export interface Regression {
  metric: MetricKey;
  label: string;
  run: string;
  deltaPercent: number;
  /** Whether a test backs it; false means no samples were there to test. */
  tested: boolean;
}

/**
 * What `--fail-if-regressed <pct>` fails on: throughput lower, or latency higher, than the first run by more
 * than `pct` percent, and significant where a test exists. A change no test could check counts on its size
 * alone, so a missing sample file cannot hide a regression. Empty when nothing regressed.
 */
export function regressed(table: ComparisonTable, pct: number): Regression[] {
  if (!(pct >= 0)) throw new RangeError(`the regression threshold must be a percentage >= 0 (got ${pct})`);
  const found: Regression[] = [];
  for (const row of table.rows) {
    const backed = row.verdict.tested ? row.verdict.significant : true;
    if (!backed) continue;
    row.deltaPercent.forEach((delta, i) => {
      if (delta === null) return;
      const worse = row.better === 'higher' ? delta < -pct : delta > pct;
      if (worse) {
        found.push({
          metric: row.metric,
          label: row.label,
          run: table.runs[i] ?? `run ${i}`,
          deltaPercent: delta,
          tested: row.verdict.tested,
        });
      }
    });
  }
  return found;
}
