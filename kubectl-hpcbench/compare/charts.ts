import {
  BASE_CHART_CONFIG,
  type ChartSpec,
  LATENCY_NAMES,
  type LatencyKey,
  renderChartSvg,
} from '../report/charts.js';
import type { RunToCompare } from './compare.js';

/**
 * The charts beside a comparison table (the console's compare page): one box per run of each latency, from
 * the same per-request samples the Mann-Whitney / Kruskal-Wallis verdicts use, and the runs' throughput.
 */

const CONFIG = { ...BASE_CHART_CONFIG, view: { stroke: null } } as const;

export function runBoxplotChart(runs: readonly RunToCompare[], key: LatencyKey): ChartSpec {
  const withSamples = runs.filter((run) => (run.samples?.[key].length ?? 0) > 0);
  const values = withSamples.flatMap((run, order) =>
    (run.samples?.[key] ?? []).map((ms) => ({ run: run.name, order, ms })),
  );
  const name = LATENCY_NAMES[key];
  return {
    id: `compare-box-${key}`,
    title: `${name} per run`,
    marks: withSamples.length,
    spec: {
      width: 360,
      height: 220,
      config: CONFIG,
      data: { values },
      mark: { type: 'boxplot', extent: 1.5, size: 28 },
      encoding: {
        x: { field: 'run', type: 'nominal', title: 'run', sort: { field: 'order' }, axis: { labelAngle: 0 } },
        y: { field: 'ms', type: 'quantitative', title: `${name} (ms)` },
        color: { field: 'run', type: 'nominal', legend: null, sort: { field: 'order' } },
      },
    },
  };
}

export function runThroughputChart(runs: readonly RunToCompare[]): ChartSpec {
  const values = runs.flatMap((run, order) =>
    run.results.outputTokensPerSecond === null || run.results.outputTokensPerSecond === undefined
      ? []
      : [{ run: run.name, order, value: run.results.outputTokensPerSecond }],
  );
  return {
    id: 'compare-throughput',
    title: 'Output throughput per run',
    marks: values.length,
    spec: {
      width: 360,
      height: 220,
      config: CONFIG,
      data: { values },
      mark: { type: 'bar', size: 28 },
      encoding: {
        x: { field: 'run', type: 'nominal', title: 'run', sort: { field: 'order' }, axis: { labelAngle: 0 } },
        y: { field: 'value', type: 'quantitative', title: 'output tokens/s' },
        color: { field: 'run', type: 'nominal', legend: null, sort: { field: 'order' } },
      },
    },
  };
}

/** The compare page's charts as SVG text, each with its title; a chart without data is left out. */
export async function comparisonChartsSvg(
  runs: readonly RunToCompare[],
): Promise<{ id: string; title: string; svg: string }[]> {
  const charts = [
    runThroughputChart(runs),
    ...(['ttftMs', 'tpotMs', 'e2eMs'] as const).map((key) => runBoxplotChart(runs, key)),
  ].filter((chart) => chart.marks > 0);
  return Promise.all(
    charts.map(async (chart) => ({ id: chart.id, title: chart.title, svg: await renderChartSvg(chart) })),
  );
}
