import { describe, expect, it } from 'vitest';
import type { RunSummary } from '../api-schema.js';
import { summarize } from '../metrics.js';
import { repeatFigure, repeatStats, repeatWarnings } from './repeat-stats.js';

/** Agreement to the 7 significant digits R prints (a value that R prints rounded at a 5 is given with more digits). */
function expectR(actual: number | null, expected: number): void {
  expect(actual).not.toBeNull();
  expect(Number((actual as number).toPrecision(7))).toBe(Number(expected.toPrecision(7)));
}

describe('the 95 % confidence interval of a mean (Student t), against R', () => {
  it('matches t.test(1:5): 1.036757 4.963243', () => {
    const f = repeatFigure([1, 2, 3, 4, 5]);
    expect(f.n).toBe(5);
    expect(f.mean).toBe(3);
    expectR(f.ciLower, 1.036757);
    expectR(f.ciUpper, 4.963243);
  });

  it('matches t.test(sleep$extra[1:10]) (group 1 of the sleep data): -0.5297804 2.0297804', () => {
    const f = repeatFigure([0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]);
    expectR(f.mean, 0.75);
    expectR(f.ciLower, -0.5297804);
    expectR(f.ciUpper, 2.0297804);
  });

  it('matches t.test(c(10, 12, 14)) for three repeats: 7.031725 16.968275 (t quantile 4.302653 with 2 df; 12 ± 4.968275)', () => {
    const f = repeatFigure([10, 12, 14]);
    expectR(f.ciLower, 7.0317246);
    expectR(f.ciUpper, 16.968275423);
    // sd 2 over mean 12
    expectR(f.cv, 2 / 12);
  });

  it('contains the mean of the repeats it was computed from', () => {
    const f = repeatFigure([101.5, 98.2, 103.9]);
    expect(f.ciLower).toBeLessThan(f.mean as number);
    expect(f.ciUpper).toBeGreaterThan(f.mean as number);
  });

  it('gives a mean but no interval and no CV for a single repeat, and nothing for none', () => {
    expect(repeatFigure([7])).toEqual({ n: 1, mean: 7, ciLower: null, ciUpper: null, cv: null });
    expect(repeatFigure([null, null])).toEqual({ n: 0, mean: null, ciLower: null, ciUpper: null, cv: null });
  });

  it('leaves out a repeat that measured nothing', () => {
    expect(repeatFigure([1, null, 2, 3, 4, 5]).n).toBe(5);
  });

  it('has no CV for a zero mean (null, never a division by zero)', () => {
    expect(repeatFigure([-1, 1]).cv).toBeNull();
  });
});

function summaryWith(outputTokensPerSecond: number, e2eP50: number): RunSummary {
  const base = summarize([], { runId: 'r', windowStartMs: null, windowEndMs: null, openLoop: false });
  return {
    ...base,
    outputTokensPerSecond,
    requestsPerSecond: outputTokensPerSecond / 10,
    e2eMs: { ...base.e2eMs, p50: e2eP50 },
  };
}

describe('repeat statistics of a level', () => {
  it('warns when the CV of a figure is above 5 %, and names the figure', () => {
    // tok/s 100, 120, 80: CV 20 %; e2e p50 steady at 500 ms.
    const stats = repeatStats([summaryWith(100, 500), summaryWith(120, 500), summaryWith(80, 500)]);
    expect(stats.repeats).toBe(3);
    expectR(stats.outputTokensPerSecond.cv, 0.2);
    const warnings = repeatWarnings(stats);
    expect(warnings).toContain('CV of outputTokensPerSecond 20.0 % over 3 repeats (> 5 %)');
    expect(warnings.some((w) => w.includes('e2eP50Ms'))).toBe(false);
    // latencies nobody measured have no CV and no warning
    expect(stats.ttftP50Ms.n).toBe(0);
  });

  it('does not warn when every CV is at most 5 %', () => {
    const stats = repeatStats([summaryWith(100, 500), summaryWith(102, 505), summaryWith(99, 498)]);
    expect(repeatWarnings(stats)).toEqual([]);
  });
});
