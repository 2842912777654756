import { describe, expect, it } from 'vitest';
import type { RequestRecord } from '../api-schema.js';
import type { MeasuredRequest } from '../metrics.js';
import { evaluateSlo } from './slo.js';

function request(r: Partial<RequestRecord>, itlsMs: number[] = []): MeasuredRequest {
  return {
    record: {
      ok: true,
      warmup: false,
      errorKind: null,
      ttftMs: 100,
      tpotMs: 10,
      itlMeanMs: 10,
      e2eMs: 500,
      ...r,
    } as RequestRecord,
    itlsMs,
  };
}

describe('SLO per request (vLLM --goodput)', () => {
  it('counts a request good only when it meets every threshold, and names the one missed most', () => {
    const requests = [
      request({}),
      request({ ttftMs: 300 }), // misses TTFT
      request({ ttftMs: 400, e2eMs: 900 }), // misses both
      request({ ok: false, errorKind: 'timeout', ttftMs: null, e2eMs: null }), // failed: never good
      request({ warmup: true, ttftMs: 9999 }), // warmup: not counted
      request({ errorKind: 'cancelled', ok: false }), // cancelled: not counted
    ];
    const e = evaluateSlo(requests, 2, { ttftMs: 200, e2eMs: 800 });
    expect(e.goodRequests).toBe(1);
    expect(e.attainment).toBe(1 / 4);
    expect(e.goodput).toBe(0.5);
    expect(e.violations).toEqual({ ttftMs: 2, tpotMs: 0, itlMs: 0, e2eMs: 1, errors: 1 });
    expect(e.mostViolated).toBe('ttftMs');
    expect(e.met).toBe(false);
  });

  it('meets a loose SLO with goodput equal to throughput', () => {
    const requests = [request({}), request({}), request({})];
    const e = evaluateSlo(requests, 1.5, { ttftMs: 10_000, tpotMs: 1_000, e2eMs: 60_000 });
    expect(e.met).toBe(true);
    expect(e.attainment).toBe(1);
    expect(e.goodput).toBe(2);
    expect(e.mostViolated).toBeNull();
  });

  it('holds the attainment target: 19 of 20 good meets the default 0.95, 18 of 20 does not', () => {
    const nineteen = [...Array(19)].map(() => request({})).concat(request({ e2eMs: 2000 }));
    expect(evaluateSlo(nineteen, 1, { e2eMs: 1000 }).met).toBe(true);
    const eighteen = nineteen.slice(1).concat(request({ e2eMs: 2000 }));
    expect(evaluateSlo(eighteen, 1, { e2eMs: 1000 }).met).toBe(false);
    expect(evaluateSlo(eighteen, 1, { e2eMs: 1000, attainment: 0.9 }).met).toBe(true);
  });

  it('does not count a TPOT or ITL that a one-token answer cannot have against it', () => {
    const e = evaluateSlo([request({ tpotMs: null, itlMeanMs: null })], 1, { tpotMs: 1, itlMs: 1 });
    expect(e.goodRequests).toBe(1);
  });

  it('judges ITL per request by its mean gap', () => {
    const e = evaluateSlo([request({ itlMeanMs: 30 }), request({ itlMeanMs: 10 })], 1, { itlMs: 20 });
    expect(e.violations.itlMs).toBe(1);
  });

  it('says nothing (null) about a window that measured nothing', () => {
    const e = evaluateSlo([], null, { ttftMs: 1 });
    expect(e.met).toBeNull();
    expect(e.attainment).toBeNull();
    expect(e.goodput).toBeNull();
  });
});

describe('SLO at a percentile', () => {
  // TTFT 100..1000 ms in steps of 100: p50 550, p90 910.
  const requests = [...Array(10)].map((_, i) => request({ ttftMs: (i + 1) * 100, e2eMs: 1000 }));

  it('meets the target when the percentile of every metric is within its threshold', () => {
    const e = evaluateSlo(requests, 1, { ttftMs: 600, percentile: 50 });
    expect(e.met).toBe(true);
    expect(e.percentiles).toEqual({ ttftMs: 550 });
    // goodput stays per request: 6 of 10 have TTFT ≤ 600 ms
    expect(e.goodRequests).toBe(6);
  });

  it('names the metric furthest over its threshold', () => {
    const e = evaluateSlo(requests, 1, { ttftMs: 600, e2eMs: 500, percentile: 90 });
    expect(e.met).toBe(false);
    // TTFT p90 910 / 600 = 1.52; e2e p90 1000 / 500 = 2: e2e is further over.
    expect(e.mostViolated).toBe('e2eMs');
  });

  it('uses the pooled inter-token gaps for ITL', () => {
    const gaps = [request({}, [5, 5, 5, 50]), request({}, [5, 5, 5, 5])];
    expect(evaluateSlo(gaps, 1, { itlMs: 40, percentile: 99 }).met).toBe(false);
    expect(evaluateSlo(gaps, 1, { itlMs: 40, percentile: 50 }).met).toBe(true);
  });
});
