import { describe, expect, it } from 'vitest';
import { BenchmarkResults } from '../crds/benchmark-results.js';
import type { RequestRecord, RunSummary } from './api-schema.js';
import {
  distribution,
  type MeasuredRequest,
  percentileOfSorted,
  requestMetrics,
  summarize,
} from './metrics.js';

function record(overrides: Partial<RequestRecord>): RequestRecord {
  return {
    runId: 'r',
    index: 0,
    clientId: 0,
    stage: 1,
    repeat: 1,
    warmup: false,
    startedAt: '2026-01-01T00:00:00.000Z',
    scheduledStartMs: 0,
    actualStartMs: 0,
    startLagMs: 0,
    ok: true,
    errorKind: null,
    errorMessage: null,
    httpStatus: 200,
    ttftMs: 100,
    e2eMs: 1000,
    tpotMs: 100,
    itlMeanMs: 100,
    itlMaxMs: 100,
    contentChunks: 10,
    outputTokens: 10,
    outputTokensSource: 'server',
    evalCount: 10,
    evalDurationNs: 900e6,
    promptEvalCount: 5,
    promptEvalDurationNs: 1e6,
    loadDurationNs: 1,
    totalDurationNs: 1e9,
    doneReason: 'stop',
    decodeTps: 11.1,
    clientTps: 10,
    ...overrides,
  };
}

describe('requestMetrics', () => {
  it('measures ttft, itl, e2e and tpot from the chunk arrival times', () => {
    const m = requestMetrics(
      { sentMs: 1000, contentChunkMs: [1100, 1110, 1130, 1160], doneMs: 1170 },
      { evalCount: 4, evalDurationNs: 50e6 },
    );
    expect(m.ttftMs).toBe(100);
    expect(m.e2eMs).toBe(170);
    expect(m.itlsMs).toEqual([10, 20, 30]);
    expect(m.itlMeanMs).toBe(20);
    expect(m.itlMaxMs).toBe(30);
    expect(m.tpotMs).toBe((170 - 100) / 3);
    expect(m.decodeTps).toBe(80);
    expect(m.clientTps).toBeCloseTo(4 / 0.17);
    expect(m.outputTokensSource).toBe('server');
  });

  it('prefers the server token count over the chunk count', () => {
    const m = requestMetrics(
      { sentMs: 0, contentChunkMs: [1, 2], doneMs: 3 },
      { evalCount: 7, evalDurationNs: 1e9 },
    );
    expect(m.outputTokens).toBe(7);
  });

  it('falls back to counting chunks when the server reports no eval_count, and says so', () => {
    const m = requestMetrics(
      { sentMs: 0, contentChunkMs: [1, 2, 3], doneMs: 4 },
      { evalCount: null, evalDurationNs: null },
    );
    expect(m.outputTokens).toBe(3);
    expect(m.outputTokensSource).toBe('chunks');
    expect(m.decodeTps).toBeNull();
    expect(m.clientTps).toBeNull();
  });

  it('gives null, not 0, for tpot of a single token and for a stream that never finished', () => {
    expect(
      requestMetrics({ sentMs: 0, contentChunkMs: [5], doneMs: 6 }, { evalCount: 1, evalDurationNs: 1 })
        .tpotMs,
    ).toBeNull();
    const unfinished = requestMetrics(
      { sentMs: 0, contentChunkMs: [], doneMs: null },
      { evalCount: null, evalDurationNs: null },
    );
    expect(unfinished.ttftMs).toBeNull();
    expect(unfinished.e2eMs).toBeNull();
    expect(unfinished.outputTokens).toBeNull();
  });

  it('gives a null decodeTps when eval_duration is 0', () => {
    expect(
      requestMetrics({ sentMs: 0, contentChunkMs: [1], doneMs: 2 }, { evalCount: 1, evalDurationNs: 0 })
        .decodeTps,
    ).toBeNull();
  });
});

describe('percentiles', () => {
  it('interpolate linearly between closest ranks like numpy', () => {
    const sorted = [1, 2, 3, 4];
    expect(percentileOfSorted(sorted, 50)).toBe(2.5);
    expect(percentileOfSorted(sorted, 90)).toBeCloseTo(3.7);
    expect(percentileOfSorted([42], 99)).toBe(42);
  });

  it('are all null for no values', () => {
    expect(distribution([])).toEqual({ mean: null, p50: null, p90: null, p95: null, p99: null });
  });

  it('sort numerically, not as strings', () => {
    expect(distribution([10, 9, 100]).p50).toBe(10);
  });
});

describe('summarize', () => {
  const requests: MeasuredRequest[] = [
    { record: record({ warmup: true, ttftMs: 99_999 }), itlsMs: [99_999] },
    { record: record({ ttftMs: 100 }), itlsMs: [10, 20] },
    { record: record({ ttftMs: 300, outputTokensSource: 'chunks' }), itlsMs: [30] },
    { record: record({ ok: false, errorKind: 'timeout', ttftMs: 5 }), itlsMs: [] },
    { record: record({ ok: false, errorKind: 'stream_error' }), itlsMs: [] },
    { record: record({ ok: false, errorKind: 'http_status' }), itlsMs: [] },
    { record: record({ ok: false, errorKind: 'connection' }), itlsMs: [] },
    { record: record({ ok: false, errorKind: 'cancelled' }), itlsMs: [] },
  ];
  const summary = summarize(requests, {
    runId: 'r',
    windowStartMs: 1000,
    windowEndMs: 3000,
    openLoop: false,
  });

  it('leaves warmup requests out of every figure', () => {
    expect(summary.counts.warmup).toBe(1);
    expect(summary.ttftMs.p50).toBe(200);
    expect(summary.itlMs.mean).toBe(20);
  });

  it('counts errors by kind and rates over the window', () => {
    expect(summary.counts).toEqual({ requests: 7, succeeded: 2, failed: 4, warmup: 1 });
    expect(summary.errors).toEqual({ timeout: 1, httpStatus: 1, streamError: 1, connection: 1 });
    expect(summary.wallTimeSeconds).toBe(2);
    expect(summary.requestsPerSecond).toBe(1);
    expect(summary.outputTokensPerSecond).toBe(10);
    expect(summary.tokens).toMatchObject({ output: 20, prompt: 10, estimatedOutputRequests: 1 });
  });

  it('gives the prompt and output tokens per successful request as p50/p90/p99 (warmup and failures left out)', () => {
    // Both successful records count 10 output and 5 prompt tokens (record()'s defaults).
    expect(summary.tokens.outputPerRequest).toEqual({ p50: 10, p90: 10, p99: 10 });
    expect(summary.tokens.promptPerRequest).toEqual({ p50: 5, p90: 5, p99: 5 });
    const none = summarize([], { runId: 'r', windowStartMs: null, windowEndMs: null, openLoop: false });
    expect(none.tokens.promptPerRequest).toEqual({ p50: null, p90: null, p99: null });
  });

  it('has no rates before the window opened', () => {
    const empty = summarize([], { runId: 'r', windowStartMs: null, windowEndMs: null, openLoop: true });
    expect(empty.requestsPerSecond).toBeNull();
    expect(empty.scheduleLagMs).toEqual({ mean: null, p50: null, p90: null, p95: null, p99: null });
  });

  it('is exactly what status.results accepts (crds/benchmark-results.ts)', () => {
    const strict = BenchmarkResults.strict();
    expect(strict.parse(summary)).toEqual(summary);
    const typed: RunSummary = BenchmarkResults.parse(summary) as RunSummary;
    expect(typed.runId).toBe('r');
  });
});
