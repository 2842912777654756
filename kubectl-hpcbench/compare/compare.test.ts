import { describe, expect, it } from 'vitest';
import { welchTTest } from '../stats/index.js';
import { sleep } from '../stats/testdata/r-datasets.js';
import { benchmarkResults, runWithSamples } from '../testdata/fixtures.js';
import { type ComparisonTable, compareRuns, NOT_TESTED, type RunToCompare, regressed } from './compare.js';
import { renderComparisonJson, renderComparisonText } from './render.js';

const baseline = runWithSamples(
  'gemma-a',
  { ttftMs: 120, tpotMs: 18, e2eMs: 4800 },
  { outputTokensPerSecond: 400, requestsPerSecond: 1.6 },
  1,
);
// TTFT 40 % and e2e 25 % slower, TPOT the same distribution drawn again, throughput 20 % lower.
const slower = runWithSamples(
  'gemma-b',
  { ttftMs: 168, tpotMs: 18, e2eMs: 6000 },
  { outputTokensPerSecond: 320, requestsPerSecond: 1.3 },
  101,
);
const withRepeats = (run: RunToCompare, tokens: number[], requests: number[]): RunToCompare => ({
  ...run,
  repeats: { outputTokensPerSecond: tokens, requestsPerSecond: requests },
});

function row(table: ComparisonTable, metric: string) {
  const found = table.rows.find((r) => r.metric === metric);
  if (!found) throw new Error(`no row ${metric}`);
  return found;
}

describe('compareRuns', () => {
  it('should give every key metric a row with each run’s value and its delta against the first run', () => {
    const table = compareRuns([baseline, slower]);
    expect(table.runs).toEqual(['gemma-a', 'gemma-b']);
    expect(table.rows.map((r) => r.metric)).toEqual([
      'outputTokensPerSecond',
      'requestsPerSecond',
      'ttftP50',
      'ttftP99',
      'tpotP50',
      'tpotP99',
      'e2eP50',
      'e2eP99',
    ]);
    const tokens = row(table, 'outputTokensPerSecond');
    expect(tokens.values).toEqual([400, 320]);
    expect(tokens.deltaPercent[0]).toBeNull();
    expect(tokens.deltaPercent[1]).toBeCloseTo(-20, 10);
    const ttft = row(table, 'ttftP50');
    expect(ttft.values[0]).toBe(baseline.results.ttftMs.p50);
    expect(ttft.deltaPercent[1]).toBeCloseTo(
      ((slower.results.ttftMs.p50! - baseline.results.ttftMs.p50!) / baseline.results.ttftMs.p50!) * 100,
      10,
    );
  });

  it('should call a 40 % TTFT shift significant with Mann-Whitney and a redraw of the same TPOT not', () => {
    const table = compareRuns([baseline, slower]);
    const ttft = row(table, 'ttftP50').verdict;
    expect(ttft).toMatchObject({ tested: true, test: 'mann-whitney', significant: true });
    if (ttft.tested) expect(ttft.rankBiserial).toBeGreaterThan(0.3);
    expect(row(table, 'tpotP50').verdict).toMatchObject({ tested: true, significant: false });
  });

  it('should say "no samples: not tested" where only single values exist', () => {
    const table = compareRuns([
      { name: 'a', results: baseline.results },
      { name: 'b', results: slower.results },
    ]);
    for (const r of table.rows) expect(r.verdict).toEqual({ tested: false, reason: NOT_TESTED });
  });

  it('should not test throughput when a run has fewer than two repeats', () => {
    const table = compareRuns([
      withRepeats(baseline, [400, 402], [1.6, 1.6]),
      withRepeats(slower, [320], [1.3]),
    ]);
    expect(row(table, 'outputTokensPerSecond').verdict).toEqual({ tested: false, reason: NOT_TESTED });
  });

  it('should test repeats of two runs with Welch and agree with the t-test itself (R sleep data)', () => {
    const table = compareRuns([
      withRepeats(baseline, sleep.group1, sleep.group1),
      withRepeats(slower, sleep.group2, sleep.group2),
    ]);
    const verdict = row(table, 'outputTokensPerSecond').verdict;
    expect(verdict).toMatchObject({ tested: true, test: 'welch', significant: false });
    if (verdict.tested) {
      expect(verdict.pValue).toBeCloseTo(0.07939, 5);
      expect(verdict.statistic).toBeCloseTo(welchTTest(sleep.group2, sleep.group1).t, 12);
    }
  });

  it('should use ANOVA and Kruskal-Wallis for three runs', () => {
    const third = runWithSamples(
      'gemma-c',
      { ttftMs: 125, tpotMs: 18, e2eMs: 4900 },
      { outputTokensPerSecond: 390, requestsPerSecond: 1.55 },
      201,
    );
    const table = compareRuns([
      withRepeats(baseline, [400, 404, 398], [1.6, 1.62, 1.58]),
      withRepeats(slower, [320, 318, 325], [1.3, 1.31, 1.29]),
      withRepeats(third, [390, 395, 388], [1.55, 1.56, 1.54]),
    ]);
    expect(row(table, 'outputTokensPerSecond').verdict).toMatchObject({
      tested: true,
      test: 'anova',
      significant: true,
    });
    expect(row(table, 'e2eP99').verdict).toMatchObject({
      tested: true,
      test: 'kruskal-wallis',
      significant: true,
    });
    expect(row(table, 'requestsPerSecond').deltaPercent).toHaveLength(3);
  });

  it('should say a test is impossible when every repeat is identical', () => {
    const table = compareRuns([
      withRepeats(baseline, [400, 400], [1, 1]),
      withRepeats(slower, [400, 400], [1, 1]),
    ]);
    expect(row(table, 'outputTokensPerSecond').verdict.tested).toBe(false);
  });

  it('should refuse a single run', () => {
    expect(() => compareRuns([baseline])).toThrow(RangeError);
  });
});

describe('regressed', () => {
  it('should report throughput that dropped and latency that rose significantly beyond the threshold', () => {
    const table = compareRuns([
      withRepeats(baseline, [400, 404, 398], [1.6, 1.62, 1.58]),
      withRepeats(slower, [320, 318, 325], [1.3, 1.31, 1.29]),
    ]);
    const found = regressed(table, 10);
    expect(found.map((r) => r.metric).sort()).toEqual(
      ['e2eP50', 'e2eP99', 'outputTokensPerSecond', 'requestsPerSecond', 'ttftP50', 'ttftP99'].sort(),
    );
    expect(found.every((r) => r.run === 'gemma-b' && r.tested)).toBe(true);
    expect(regressed(table, 50)).toEqual([]);
  });

  it('should not report a change in the better direction', () => {
    const table = compareRuns([slower, baseline]);
    expect(regressed(table, 5)).toEqual([]);
  });

  it('should not report a large change that its test calls chance', () => {
    const noisyA = withRepeats(baseline, [400, 250, 550], [1.6, 1.0, 2.2]);
    const noisyB = withRepeats({ ...slower, samples: baseline.samples }, [320, 500, 140], [1.3, 2.0, 0.6]);
    const table = compareRuns([noisyA, noisyB]);
    expect(row(table, 'outputTokensPerSecond').deltaPercent[1]).toBeCloseTo(-20, 10);
    expect(regressed(table, 10).map((r) => r.metric)).not.toContain('outputTokensPerSecond');
  });

  it('should judge untested rows on the delta alone', () => {
    const table = compareRuns([
      { name: 'a', results: benchmarkResults({ outputTokensPerSecond: 100, requestsPerSecond: 1 }) },
      { name: 'b', results: benchmarkResults({ outputTokensPerSecond: 85, requestsPerSecond: 1 }) },
    ]);
    expect(regressed(table, 10)).toEqual([
      {
        metric: 'outputTokensPerSecond',
        label: 'output throughput',
        run: 'b',
        deltaPercent: -15,
        tested: false,
      },
    ]);
  });
});

describe('rendering', () => {
  const table = compareRuns([baseline, slower]);

  it('should align the text columns like kubectl', () => {
    const lines = renderComparisonText(table).split('\n');
    const header = lines[0] ?? '';
    expect(header).toMatch(/^METRIC\s{3,}gemma-a\s{3,}gemma-b\s{3,}Δ gemma-b\s{3,}SIGNIFICANCE$/);
    const column = header.indexOf('Δ gemma-b');
    const tableLines = lines.slice(1, 1 + table.rows.length);
    expect(tableLines).toHaveLength(8);
    for (const line of tableLines) {
      expect(line[column - 1]).toBe(' ');
      expect(line[column]).toMatch(/[-+0-9]/);
    }
    expect(lines.find((l) => l.startsWith('output throughput (tok/s)'))).toMatch(
      /400\s+320\s+-20%\s+no samples/,
    );
    expect(lines.find((l) => l.startsWith('TTFT p50 (ms)'))).toMatch(
      /significant \(Mann-Whitney p<0\.001, r=\+0\.\d\d\)$/,
    );
  });

  it('should give scripts the same table as JSON', () => {
    const parsed = JSON.parse(renderComparisonJson(table));
    expect(parsed.runs).toEqual(['gemma-a', 'gemma-b']);
    expect(parsed.rows[0].values).toEqual([400, 320]);
    expect(parsed.rows[0].verdictText).toBe(NOT_TESTED);
    expect(parsed.rows[2].verdict.test).toBe('mann-whitney');
  });
});
