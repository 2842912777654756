import { DISTRIBUTION_KEYS, type Distribution } from '../../crds/benchmark-results.js';
import { formatValue } from '../compare/render.js';
import {
  boxplotChart,
  type ChartSpec,
  cdfChart,
  LATENCY_NAMES,
  type LatencyKey,
  latencyChart,
  renderChartSvg,
  requestRateChart,
  throughputChart,
} from './charts.js';
import { emptyLine, escapeHtml, htmlTable } from './html.js';
import { type ReportInput, type StageSummary, stagesOf } from './input.js';
import { REPORT_CSS } from './style.js';

const LATENCY_KEYS: readonly LatencyKey[] = ['ttftMs', 'tpotMs', 'e2eMs'];

const DISTRIBUTION_LABELS: Record<(typeof DISTRIBUTION_KEYS)[number], string> = {
  ttftMs: 'TTFT (ms)',
  itlMs: 'Inter-token latency (ms)',
  tpotMs: 'TPOT (ms)',
  e2eMs: 'End-to-end latency (ms)',
  decodeTps: 'Decode speed per request (tok/s)',
  clientTps: 'Client tokens/s per request (tok/s)',
};

function cell(value: number | null | undefined): string {
  return escapeHtml(formatValue(value ?? null));
}

/** "2026-11-28 14:03 UTC" from an ISO timestamp; anything unparsable is shown as given. */
export function formatWhen(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function header(input: ReportInput): string {
  const facts: [string, string, string?][] = [
    ['Model', input.model],
    ['Engine', input.engine],
    ['Phase', input.phase ?? 'unknown', `phase-${input.phase ?? 'unknown'}`],
    ['When', input.when ? formatWhen(input.when) : 'unknown'],
  ];
  if (input.namespace) facts.unshift(['Namespace', input.namespace]);
  const stages = input.stages?.length ?? 0;
  facts.push([
    'Load',
    stages > 0
      ? `${stages} levels`
      : input.load === undefined
        ? 'unknown'
        : `${formatValue(input.load)} ${input.loadUnit}`,
  ]);
  const items = facts
    .map(([k, v, cls]) => {
      const attr = cls ? ` class="${escapeHtml(cls)}"` : '';
      return `<div><dt>${escapeHtml(k)}</dt><dd${attr}>${escapeHtml(v)}</dd></div>`;
    })
    .join('');
  return `<header><h1><span class="kind">InferenceBenchmark</span>${escapeHtml(input.name)}</h1><dl class="facts">${items}</dl></header>`;
}

function sloSection(input: ReportInput): string {
  const slo = input.slo;
  if (!slo)
    return section('slo', 'SLO', emptyLine('No SLO is set for this benchmark, so there is no verdict.'));
  const verdict = `<p class="${slo.met ? 'met' : 'missed'}"><strong>${slo.met ? 'SLO met' : 'SLO missed'}</strong>${
    slo.summary ? `: ${escapeHtml(slo.summary)}` : ''
  }</p>`;
  const rows = slo.checks.map((c) => [
    escapeHtml(c.metric),
    escapeHtml(c.limit),
    `${cell(c.observed)} ${escapeHtml(c.unit)}`,
    `<span class="${c.met ? 'met' : 'missed'}">${c.met ? 'met' : 'missed'}</span>`,
  ]);
  return section('slo', 'SLO', verdict + htmlTable(['check', 'limit', 'observed', 'verdict'], rows));
}

function resultsSection(input: ReportInput): string {
  const r = input.results;
  if (!r)
    return section(
      'results',
      'Results',
      emptyLine('No results yet: the run has not written status.results.'),
    );
  const summary = htmlTable(
    ['figure', 'value'],
    [
      ['Requests measured', cell(r.counts.requests)],
      ['Succeeded / failed', `${cell(r.counts.succeeded)} / ${cell(r.counts.failed)}`],
      ['Warmup requests (excluded)', cell(r.counts.warmup)],
      ['Output tokens', cell(r.tokens.output)],
      ['Wall time of the window (s)', cell(r.wallTimeSeconds)],
      ['Output throughput (tok/s)', cell(r.outputTokensPerSecond)],
      ['Request throughput (req/s)', cell(r.requestsPerSecond)],
      [
        'Errors: timeout / HTTP status / stream / connection',
        [r.errors.timeout, r.errors.httpStatus, r.errors.streamError, r.errors.connection]
          .map(cell)
          .join(' / '),
      ],
    ],
  );
  const distributions = DISTRIBUTION_KEYS.map((key) => {
    const d: Distribution = r[key];
    return [
      escapeHtml(DISTRIBUTION_LABELS[key]),
      cell(d.mean),
      cell(d.p50),
      cell(d.p90),
      cell(d.p95),
      cell(d.p99),
    ];
  });
  const latency = htmlTable(['per request', 'mean', 'p50', 'p90', 'p95', 'p99'], distributions);
  const note =
    '<p class="note">Measured window only, warmup excluded; "-" where no value could be computed.</p>';
  return section('results', 'Results', note + summary + latency);
}

function stagesTable(input: ReportInput, stages: readonly StageSummary[]): string {
  if (!input.stages || input.stages.length === 0) return '';
  const goodput = stages.some((s) => s.goodput !== undefined && s.goodput !== null);
  const rows = stages.map((s) => [
    cell(s.load),
    cell(s.outputTokensPerSecond),
    cell(s.requestsPerSecond),
    ...(goodput ? [cell(s.goodput)] : []),
    ...LATENCY_KEYS.flatMap((k) => [cell(s[k].p50), cell(s[k].p99)]),
  ]);
  const head = [
    `load (${input.loadUnit})`,
    'tok/s',
    'req/s',
    ...(goodput ? ['goodput (req/s)'] : []),
    'TTFT p50',
    'TTFT p99',
    'TPOT p50',
    'TPOT p99',
    'e2e p50',
    'e2e p99',
  ];
  return `<h3>Load levels</h3><p class="note">Latencies in ms.</p>${htmlTable(head, rows)}`;
}

function section(id: string, title: string, body: string): string {
  return `<section id="${escapeHtml(id)}"><h2>${escapeHtml(title)}</h2>\n${body}\n</section>`;
}

async function figure(chart: ChartSpec, emptyText: string): Promise<string> {
  if (chart.marks === 0) return emptyLine(emptyText);
  const svg = await renderChartSvg(chart);
  return `<figure class="chart" data-chart="${escapeHtml(chart.id)}" data-marks="${chart.marks}"><figcaption>${escapeHtml(
    chart.title,
  )}</figcaption>${svg}</figure>`;
}

async function charts(list: readonly [ChartSpec, string][]): Promise<string> {
  const rendered: string[] = [];
  // One at a time: each vega View is a full dataflow, and the machine the CLI runs on may be a login node.
  for (const [chart, empty] of list) rendered.push(await figure(chart, empty));
  return `<div class="charts">${rendered.join('\n')}</div>`;
}

/**
 * The whole report as ONE self-contained HTML file: inline CSS, charts as inline SVG drawn here on the
 * server side, no script and no reference to anything outside the file, so it opens offline and can be
 * mailed or archived. Every string from the input is escaped. Sections without data say so in one line.
 */
export async function renderReport(
  input: ReportInput,
  options: { generatedAt?: Date } = {},
): Promise<string> {
  const stages = stagesOf(input);
  const unit = input.loadUnit;
  const noLevel = 'No load level with results yet.';
  const throughput = await charts([
    [throughputChart(stages, unit), `${noLevel} Output throughput cannot be drawn.`],
    [requestRateChart(stages, unit), `${noLevel} Request throughput cannot be drawn.`],
  ]);
  const latency = await charts(
    LATENCY_KEYS.map((key) => [
      latencyChart(stages, key, unit),
      `${noLevel} ${LATENCY_NAMES[key]} has no p50 or p99.`,
    ]),
  );
  const samples = input.samples?.filter((s) => LATENCY_KEYS.some((k) => s[k].length > 0)) ?? [];
  const distributions =
    samples.length === 0
      ? emptyLine(
          'No per-request samples in this input: the CDFs and boxplots need the run’s per-request records.',
        )
      : await charts(
          LATENCY_KEYS.flatMap((key): [ChartSpec, string][] => [
            [cdfChart(samples, key, unit), `No ${LATENCY_NAMES[key]} samples.`],
            [boxplotChart(samples, key, unit), `No ${LATENCY_NAMES[key]} samples.`],
          ]),
        );
  const singleLevel =
    stages.length === 1 ? '<p class="note">One load level: each chart has one point per series.</p>' : '';
  const environment =
    input.environment && input.environment.length > 0
      ? htmlTable(
          ['what', 'value'],
          input.environment.map((e) => [escapeHtml(e.name), escapeHtml(e.value)]),
          'kv',
        )
      : emptyLine('No environment recorded for this run.');
  const generated = (options.generatedAt ?? new Date()).toISOString();

  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(`${input.name}: inference benchmark report`)}</title>
<style>${REPORT_CSS}</style>
</head>
<body>
${header(input)}
${sloSection(input)}
${resultsSection(input)}
${stagesTable(input, stages)}
${section('throughput', 'Throughput against load', singleLevel + throughput)}
${section('latency', 'Latency against load (p50 and p99)', latency)}
${section('distributions', 'Latency distributions per load level', distributions)}
${section('environment', 'Environment', environment)}
<footer>Generated ${escapeHtml(formatWhen(generated))} by kubectl hpcbench report. This file is self-contained: it loads nothing from the network.</footer>
</body>
</html>
`;
}
