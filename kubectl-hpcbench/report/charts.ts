import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { formatValue } from '../compare/render.js';
import type { LoadUnit, StageSamples, StageSummary } from './input.js';

/** One chart of the report: what it shows, and how many data marks its SVG must draw (tests check it). */
export interface ChartSpec {
  id: string;
  title: string;
  spec: TopLevelSpec;
  /** Data marks: points of line charts, one line per level in CDFs, one box per level in boxplots. */
  marks: number;
}

export type LatencyKey = 'ttftMs' | 'tpotMs' | 'e2eMs';

export const LATENCY_NAMES: Record<LatencyKey, string> = {
  ttftMs: 'TTFT',
  tpotMs: 'TPOT',
  e2eMs: 'End-to-end latency',
};

const WIDTH = 400;
const HEIGHT = 240;
const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';

/** Font and axes every chart shares, the report's and the comparison's (compare/charts.ts). */
export const BASE_CHART_CONFIG = {
  font: FONT,
  axis: { labelFontSize: 12, titleFontSize: 13, titleFontWeight: 600, gridColor: '#e8e8e8' },
} as const;

const CONFIG = {
  ...BASE_CHART_CONFIG,
  legend: {
    labelFontSize: 12,
    titleFontSize: 12,
    orient: 'bottom',
    direction: 'horizontal',
    labelLimit: 320,
    columns: 3,
  },
  view: { stroke: '#ccc' },
} as const;

// Two fixed colours for the quantile series, so p50 and p99 look the same in every chart of a report.
const QUANTILE_COLORS = { domain: ['p50', 'p99'], range: ['#1f77b4', '#d62728'] };

function loadAxisTitle(unit: LoadUnit, log = false): string {
  const what = unit === 'clients' ? 'concurrent clients' : 'offered requests/s';
  return `Load (${what}${log ? ', log scale' : ''})`;
}

/**
 * The x axis of the charts against load. A sweep usually doubles its load (1, 2, 4 … 64): on a linear axis
 * the low levels pile up at the left, so a range of 8× or more gets a log-2 axis with a tick at each level.
 * A single level sits in the middle of 0 … 2×load rather than against the right edge.
 */
function loadEncoding(loads: readonly number[], unit: LoadUnit) {
  const levels = [...new Set(loads)].sort((a, b) => a - b);
  const min = levels[0] ?? 0;
  const max = levels[levels.length - 1] ?? 0;
  const log = min > 0 && max / min >= 8;
  const scale = log
    ? { type: 'log' as const, base: 2, padding: 16 }
    : levels.length === 1 && max > 0
      ? { domain: [0, 2 * max] }
      : { zero: true, nice: true };
  return {
    field: 'load',
    type: 'quantitative' as const,
    scale,
    axis: {
      title: loadAxisTitle(unit, log),
      ...(log ? { values: levels } : {}),
      ...(unit === 'clients' ? { format: 'd', tickMinStep: 1 } : { format: ',.4~r' }),
      grid: true,
      // Room under the plot for the labels of points near zero, which are written below them.
      offset: 18,
    },
  };
}

function loadLabel(load: number, unit: LoadUnit): string {
  if (unit === 'requests/s') return `${load} req/s`;
  return load === 1 ? '1 client' : `${load} clients`;
}

interface SeriesPoint {
  load: number;
  series: string;
  value: number;
}

/** The point with the label written next to it, rounded as the report's tables round it. */
function labelled(points: readonly SeriesPoint[]) {
  return points.map((p) => ({ ...p, label: formatValue(p.value) }));
}

/**
 * A line with a point per value and the value written next to it, coloured by series. The labels of
 * `lowerSeries` go under their points and the others above, so two lines that run close (p50 and p99 at low
 * load) do not write over each other.
 */
function lineChart(
  id: string,
  title: string,
  points: SeriesPoint[],
  unit: LoadUnit,
  yTitle: string,
  options: { lowerSeries?: string; colors?: { domain: string[]; range: string[] } } = {},
): ChartSpec {
  const series = new Set(points.map((p) => p.series));
  const color = {
    field: 'series',
    type: 'nominal' as const,
    title: null,
    // One series needs no legend: the chart title and the y axis name it.
    ...(series.size < 2 ? { legend: null } : {}),
    ...(options.colors ? { scale: options.colors } : {}),
  };
  const label = (below: boolean) => ({
    transform: [
      {
        filter: {
          field: 'series',
          ...(below
            ? { equal: options.lowerSeries ?? '' }
            : { oneOf: [...series].filter((s) => s !== options.lowerSeries) }),
        },
      },
    ],
    mark: { type: 'text' as const, align: 'center' as const, dy: below ? 14 : -10, fontSize: 11 },
    encoding: { text: { field: 'label', type: 'nominal' as const } },
  });
  return {
    id,
    title,
    marks: points.length,
    spec: {
      width: WIDTH,
      height: HEIGHT,
      config: CONFIG,
      data: { values: labelled(points) },
      encoding: {
        x: loadEncoding(
          points.map((p) => p.load),
          unit,
        ),
        y: { field: 'value', type: 'quantitative', title: yTitle, scale: { zero: true } },
        color,
      },
      layer: [
        { mark: { type: 'line', strokeWidth: 2 } },
        { mark: { type: 'point', filled: true, size: 60, opacity: 1 } },
        label(false),
        ...(options.lowerSeries && series.has(options.lowerSeries) ? [label(true)] : []),
      ],
    },
  };
}

function present(value: number | null | undefined): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

export function throughputChart(stages: readonly StageSummary[], unit: LoadUnit): ChartSpec {
  const points = stages
    .filter((s) => present(s.outputTokensPerSecond))
    .map((s) => ({ load: s.load, series: 'output tokens/s', value: s.outputTokensPerSecond ?? 0 }));
  return lineChart(
    'throughput',
    'Output throughput against load',
    points,
    unit,
    'Output throughput (tokens/s)',
  );
}

/** Requests per second, and goodput (requests/s that met the SLO) beside it when the input has it. */
export function requestRateChart(stages: readonly StageSummary[], unit: LoadUnit): ChartSpec {
  const points: SeriesPoint[] = [];
  for (const s of stages) {
    if (present(s.requestsPerSecond))
      points.push({ load: s.load, series: 'completed', value: s.requestsPerSecond });
    if (present(s.goodput)) points.push({ load: s.load, series: 'goodput (met SLO)', value: s.goodput });
  }
  const title = stages.some((s) => present(s.goodput))
    ? 'Request throughput and goodput against load'
    : 'Request throughput against load';
  return lineChart('requests', title, points, unit, 'Requests per second (req/s)', {
    lowerSeries: 'goodput (met SLO)',
  });
}

export function latencyChart(stages: readonly StageSummary[], key: LatencyKey, unit: LoadUnit): ChartSpec {
  const points: SeriesPoint[] = [];
  for (const s of stages) {
    for (const q of ['p50', 'p99'] as const) {
      const value = s[key][q];
      if (present(value)) points.push({ load: s.load, series: q, value });
    }
  }
  const name = LATENCY_NAMES[key];
  return lineChart(`latency-${key}`, `${name} p50 and p99 against load`, points, unit, `${name} (ms)`, {
    lowerSeries: 'p50',
    colors: QUANTILE_COLORS,
  });
}

/** At most this many points per CDF line: enough for a smooth curve, small enough for the file. */
const CDF_POINTS = 300;

/** The empirical CDF of each level: the share of requests at or below each latency. */
export function cdfChart(samples: readonly StageSamples[], key: LatencyKey, unit: LoadUnit): ChartSpec {
  const levels = samples.filter((s) => s[key].length > 0);
  const values: { level: string; order: number; ms: number; fraction: number }[] = [];
  for (const level of levels) {
    const sorted = [...level[key]].sort((a, b) => a - b);
    const step = Math.max(1, Math.ceil(sorted.length / CDF_POINTS));
    for (let i = 0; i < sorted.length; i += step) {
      values.push({
        level: loadLabel(level.load, unit),
        order: level.load,
        ms: sorted[i] ?? 0,
        fraction: i / sorted.length,
      });
    }
    const last = sorted.length - 1;
    values.push({
      level: loadLabel(level.load, unit),
      order: level.load,
      ms: sorted[last] ?? 0,
      fraction: 1,
    });
  }
  const name = LATENCY_NAMES[key];
  return {
    id: `cdf-${key}`,
    title: `${name}: distribution per load level (CDF)`,
    marks: levels.length,
    spec: {
      width: WIDTH,
      height: HEIGHT,
      config: CONFIG,
      data: { values },
      mark: { type: 'line', interpolate: 'step-after', strokeWidth: 2 },
      encoding: {
        x: { field: 'ms', type: 'quantitative', title: `${name} (ms)` },
        y: { field: 'fraction', type: 'quantitative', title: 'Share of requests', axis: { format: '.0%' } },
        color: { field: 'level', type: 'nominal', title: null, sort: { field: 'order' } },
        order: { field: 'ms', type: 'quantitative' },
      },
    },
  };
}

/** Boxes of the per-request values of each level: quartiles, whiskers at 1.5 IQR, and the outliers. */
export function boxplotChart(samples: readonly StageSamples[], key: LatencyKey, unit: LoadUnit): ChartSpec {
  const levels = samples.filter((s) => s[key].length > 0);
  const values = levels.flatMap((level) =>
    level[key].map((ms) => ({ level: loadLabel(level.load, unit), order: level.load, ms })),
  );
  const name = LATENCY_NAMES[key];
  return {
    id: `box-${key}`,
    title: `${name}: spread per load level`,
    marks: levels.length,
    spec: {
      width: WIDTH,
      height: HEIGHT,
      config: CONFIG,
      data: { values },
      mark: { type: 'boxplot', extent: 1.5, size: 28 },
      encoding: {
        x: {
          field: 'level',
          type: 'nominal',
          title: loadAxisTitle(unit),
          sort: { field: 'order' },
          axis: { labelAngle: 0 },
        },
        y: { field: 'ms', type: 'quantitative', title: `${name} (ms)` },
        color: { field: 'level', type: 'nominal', legend: null, sort: { field: 'order' } },
      },
    },
  };
}

/** Renders a chart to SVG text on the server: vega-lite compiles it, a headless vega View draws it. */
export async function renderChartSvg(chart: ChartSpec): Promise<string> {
  const view = new View(parse(compile(chart.spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
