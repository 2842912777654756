import { describe, expect, it } from 'vitest';
import { type ChartSpec, throughputChart } from './charts.js';
import { escapeHtml } from './html.js';
import { type ReportInput, reportInputFromBenchmark, stagesOf } from './input.js';
import { renderReport } from './report.js';
import { findAll, type HtmlElement, parseHtml, textOf } from './testdata/html-tree.js';
import { SWEEP_LOADS, singleLevelBenchmark, sweepReportInput } from './testdata/sweep-fixture.js';

const GENERATED_AT = new Date('2026-11-28T15:00:00Z');

/** The data marks vega draws, told apart by the role it gives each mark in the SVG. */
function marksIn(figure: HtmlElement, role: 'point' | 'line mark' | 'box'): number {
  return findAll(figure, (e) => e.attrs['aria-roledescription'] === role).length;
}

function figures(doc: HtmlElement): Map<string, HtmlElement> {
  const list = findAll(doc, (e) => e.name === 'figure' && e.attrs['data-chart'] !== undefined);
  return new Map(list.map((f) => [f.attrs['data-chart'] ?? '', f]));
}

function sectionText(doc: HtmlElement, id: string): string {
  const [section] = findAll(doc, (e) => e.name === 'section' && e.attrs['id'] === id);
  if (!section) throw new Error(`no section ${id}`);
  return textOf(section);
}

/** Every http(s) address in the file; only the SVG and XLink namespaces may appear. */
function addresses(html: string): string[] {
  return [...html.matchAll(/https?:\/\/[^\s"'<>)]*/g)].map((m) => m[0]);
}
const NAMESPACES = ['http://www.w3.org/2000/svg', 'http://www.w3.org/1999/xlink'];

describe('renderReport on a sweep with samples, environment and SLO', async () => {
  const input = sweepReportInput();
  const html = await renderReport(input, { generatedAt: GENERATED_AT });
  const doc = parseHtml(html);
  const charts = figures(doc);
  const levels = SWEEP_LOADS.length;

  it('should be one well-formed HTML document with every chart as inline SVG', () => {
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect([...charts.keys()].sort()).toEqual(
      [
        'throughput',
        'requests',
        'latency-ttftMs',
        'latency-tpotMs',
        'latency-e2eMs',
        'cdf-ttftMs',
        'box-ttftMs',
        'cdf-tpotMs',
        'box-tpotMs',
        'cdf-e2eMs',
        'box-e2eMs',
      ].sort(),
    );
    for (const figure of charts.values()) {
      expect(figure.children.filter((c) => c.name === 'svg')).toHaveLength(1);
    }
  });

  it('should draw one point per load level for throughput, and two (real and goodput) for requests', () => {
    expect(marksIn(charts.get('throughput')!, 'point')).toBe(levels);
    expect(marksIn(charts.get('requests')!, 'point')).toBe(2 * levels);
  });

  it('should draw a p50 and a p99 point per load level for each latency', () => {
    for (const key of ['ttftMs', 'tpotMs', 'e2eMs']) {
      expect(marksIn(charts.get(`latency-${key}`)!, 'point')).toBe(2 * levels);
    }
  });

  it('should draw one CDF line and one box per load level', () => {
    for (const key of ['ttftMs', 'tpotMs', 'e2eMs']) {
      expect(marksIn(charts.get(`cdf-${key}`)!, 'line mark')).toBe(levels);
      expect(marksIn(charts.get(`box-${key}`)!, 'box')).toBe(levels);
    }
  });

  it('should reference nothing outside the file', () => {
    expect(addresses(html).filter((a) => !NAMESPACES.includes(a))).toEqual([]);
    expect(
      findAll(doc, (e) => ['script', 'link', 'img', 'iframe', 'object', 'embed'].includes(e.name)),
    ).toEqual([]);
    expect(findAll(doc, (e) => 'src' in e.attrs || 'href' in e.attrs || 'xlink:href' in e.attrs)).toEqual([]);
  });

  it('should carry the header, the environment and the SLO verdict', () => {
    const header = textOf(findAll(doc, (e) => e.name === 'header')[0]!);
    for (const fact of [
      'gemma3-sweep-gpu-a100',
      'gemma3:270m',
      'ollama',
      'Succeeded',
      '2026-11-28 14:03 UTC',
    ]) {
      expect(header).toContain(fact);
    }
    expect(sectionText(doc, 'environment')).toContain('1 x NVIDIA A100-SXM4-40GB, driver 550.54');
    expect(sectionText(doc, 'slo')).toMatch(/SLO met: largest load that meets every check: \d+ clients/);
  });

  it('should label axes with their units', () => {
    const titles = findAll(doc, (e) => e.name === 'text' && e.attrs['aria-roledescription'] !== 'text mark')
      .map(textOf)
      .join('|');
    for (const title of [
      'Load (concurrent clients)',
      'Output throughput (tokens/s)',
      'TTFT (ms)',
      'Share of requests',
    ]) {
      expect(titles).toContain(title);
    }
  });
});

describe('renderReport on a benchmark as it is today: one level, no stages', async () => {
  const input = reportInputFromBenchmark(singleLevelBenchmark());
  const html = await renderReport(input, { generatedAt: GENERATED_AT });
  const doc = parseHtml(html);
  const charts = figures(doc);

  it('should fall back to the single level of status.results at workload.clients', () => {
    expect(stagesOf(input)).toEqual([
      expect.objectContaining({ load: 4, outputTokensPerSecond: 41.3, requestsPerSecond: 0.42 }),
    ]);
    expect(marksIn(charts.get('throughput')!, 'point')).toBe(1);
    expect(marksIn(charts.get('requests')!, 'point')).toBe(1);
    expect(marksIn(charts.get('latency-ttftMs')!, 'point')).toBe(2);
    expect(sectionText(doc, 'results')).toContain('41.3');
  });

  it('should say in one line what it cannot show instead of dropping the section', () => {
    expect(sectionText(doc, 'distributions')).toContain('No per-request samples');
    expect(sectionText(doc, 'environment')).toContain('No environment recorded');
    expect(sectionText(doc, 'slo')).toContain('No SLO is set');
    expect([...charts.keys()].some((id) => id.startsWith('cdf-') || id.startsWith('box-'))).toBe(false);
  });

  it('should say so when the run has no results yet', async () => {
    const pending = reportInputFromBenchmark({ ...singleLevelBenchmark(), status: { phase: 'Queued' } });
    const doc = parseHtml(await renderReport(pending, { generatedAt: GENERATED_AT }));
    expect(figures(doc).size).toBe(0);
    expect(sectionText(doc, 'results')).toContain('No results yet');
    expect(sectionText(doc, 'throughput')).toContain('No load level with results yet');
  });
});

describe('reportInputFromBenchmark', () => {
  it('should take the load of an open-loop benchmark from ratePerSecond, in requests/s', () => {
    const benchmark = singleLevelBenchmark();
    benchmark.spec.workload = { ...benchmark.spec.workload, mode: 'open', ratePerSecond: 2.5 };
    const input = reportInputFromBenchmark(benchmark);
    expect([input.load, input.loadUnit]).toEqual([2.5, 'requests/s']);
    expect(input.when).toBe('2026-11-28T14:01:12Z');
  });
});

describe('escaping', () => {
  const hostile = `<script>alert("x")</script><img src=x onerror='y'>&amp;`;

  it('should escape the five characters that matter in HTML', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });

  it('should put every input string into the report as text, never as markup', async () => {
    const input: ReportInput = {
      ...sweepReportInput(),
      name: hostile,
      model: hostile,
      engine: hostile,
      phase: hostile,
      when: hostile,
      namespace: hostile,
      environment: [{ name: hostile, value: hostile }],
      slo: {
        met: false,
        summary: hostile,
        checks: [{ metric: hostile, limit: hostile, observed: 1, unit: hostile, met: false }],
      },
    };
    const html = await renderReport(input, { generatedAt: GENERATED_AT });
    const doc = parseHtml(html);
    expect(findAll(doc, (e) => e.name === 'script' || e.name === 'img')).toEqual([]);
    expect(html).not.toContain(hostile);
    expect(html).toContain(escapeHtml(hostile));
  });
});

describe('charts', () => {
  it('should leave out levels without a value rather than draw them at 0', () => {
    const stages = stagesOf(sweepReportInput()).map((s, i) =>
      i === 0 ? { ...s, outputTokensPerSecond: null } : s,
    );
    const chart: ChartSpec = throughputChart(stages, 'clients');
    expect(chart.marks).toBe(SWEEP_LOADS.length - 1);
  });

  it('should chart stages in load order whatever order they come in', () => {
    const input = sweepReportInput();
    const shuffled = { ...input, stages: [...(input.stages ?? [])].reverse() };
    expect(stagesOf(shuffled).map((s) => s.load)).toEqual([...SWEEP_LOADS]);
  });
});
