import { describe, expect, it } from 'vitest';
import {
  CONFIGMAP_LIMIT_BYTES,
  LOG_TAIL_BYTES,
  LogsIndex,
  MAX_SAMPLES,
  RESULTS_LOG_ROLES,
  ResultsKeys,
  type ResultsLogRole,
  SAMPLE_METRICS,
  unpackFloat32,
} from '../../../crds/index.js';
import {
  buildResultsPayload,
  type LogTail,
  ReservoirSampler,
  type ResultsContent,
  sampleRowOf,
  seedOf,
  tailBytes,
} from './results-content.js';

/** A records.jsonl line shaped like the client-service's (client-service/engine/records.ts). */
function recordLine(index: number, warmup: boolean): string {
  const ok = index % 97 !== 0;
  return JSON.stringify({
    runId: '0b7c3f4e-1111-2222-3333-444455556666-g1',
    index,
    clientId: index % 100,
    warmup,
    startedAt: '2026-12-01T10:00:00.000Z',
    scheduledStartMs: index * 3.1,
    actualStartMs: index * 3.1 + 0.2,
    startLagMs: 0.2,
    ok,
    errorKind: ok ? null : 'timeout',
    errorMessage: ok ? null : 'request timed out after 60 s',
    httpStatus: ok ? 200 : null,
    ttftMs: 100 + (index % 1000) / 7,
    e2eMs: ok ? 1500 + (index % 5000) / 3 : null,
    tpotMs: ok ? 12 + (index % 300) / 100 : null,
    itlMeanMs: 12.5,
    itlMaxMs: 40.1,
    contentChunks: 120,
    outputTokens: 120,
    outputTokensSource: 'server',
    evalCount: 120,
    evalDurationNs: 1_400_000_000,
    promptEvalCount: 24,
    promptEvalDurationNs: 90_000_000,
    loadDurationNs: 1_000_000,
    totalDurationNs: 1_600_000_000,
    doneReason: 'stop',
    decodeTps: 85.7,
    clientTps: 80.1,
  });
}

const distribution = { mean: 1.5, p50: 1.4, p90: 2.2, p95: 2.5, p99: 3.1 };
const summary = {
  runId: 'r-g1',
  counts: { requests: 1_000_000, succeeded: 989_691, failed: 10_309, warmup: 100 },
  tokens: { output: 118_762_920, prompt: 24_000_000, estimatedOutputRequests: 0 },
  durationSeconds: 3600.123456,
  requestsPerSecond: 277.7,
  outputTokensPerSecond: 33_323.44,
  ttftMs: distribution,
  itlMs: distribution,
  tpotMs: distribution,
  e2eMs: distribution,
  decodeTps: distribution,
  clientTps: distribution,
  errors: { timeout: 10_309, httpStatus: 0, streamError: 0, connection: 0 },
};

/** A log of `bytes` bytes of Ollama-like lines. */
function bigLog(bytes: number): string {
  const line = '[GIN] 2026/12/01 - 10:00:00 | 200 |  1.52s |  127.0.0.1 | POST "/api/generate"\n';
  return line.repeat(Math.ceil(bytes / line.length));
}

function tail(role: ResultsLogRole, text: string): LogTail {
  return {
    role,
    text: tailBytes(text, LOG_TAIL_BYTES),
    info: {
      jobId: { server: '101', client: '102', monitoring: '7' }[role],
      path: `/home/u/ibo/benchmarks/ns/b/r/${role}-101.log`,
      bytes: Buffer.byteLength(text),
      truncated: Buffer.byteLength(text) > LOG_TAIL_BYTES,
      readAt: '2026-12-01T11:00:00Z',
      final: true,
    },
  };
}

describe('the results ConfigMap of a run', () => {
  it('samples 10,000 of a 1,000,000-request run uniformly, and the ConfigMap stays under 1 MiB', () => {
    const sampler = new ReservoirSampler(MAX_SAMPLES, seedOf('r-g1'));
    for (let i = 0; i < 100; i++) {
      const row = sampleRowOf(recordLine(i, true));
      if (row) sampler.offer(row);
    }
    for (let i = 0; i < 1_000_000; i++) {
      const row = sampleRowOf(recordLine(i, false));
      if (row) sampler.offer(row);
    }
    expect(sampler.offered).toBe(1_000_000);
    const rows = sampler.rows();
    expect(rows).toHaveLength(MAX_SAMPLES);
    // Uniform: each tenth of the run holds about a tenth of the sample (binomial sd ~30 of 1000).
    const deciles = new Array<number>(10).fill(0);
    for (const row of rows)
      deciles[Math.floor(row.index / 100_000)] = (deciles[Math.floor(row.index / 100_000)] ?? 0) + 1;
    for (const count of deciles) expect(Math.abs(count - 1000)).toBeLessThan(150);

    const content: ResultsContent = {
      summary,
      environment: [
        { name: 'Model', value: 'gemma3:270m' },
        { name: 'Engine', value: 'ollama' },
      ],
      samples: {
        rows,
        index: {
          encoding: 'float32-le',
          metrics: [...SAMPLE_METRICS],
          count: rows.length,
          measured: sampler.offered,
          method: 'reservoir',
          seed: sampler.seed,
        },
      },
      logs: [
        tail('server', bigLog(5_000_000)),
        tail('client', bigLog(200_000)),
        tail('monitoring', bigLog(3_000_000)),
      ],
    };
    const payload = buildResultsPayload(content);
    const base64Bytes = Object.values(payload.binaryData).reduce(
      (s, b) => s + Buffer.from(b).toString('base64').length,
      0,
    );
    console.log(
      `results ConfigMap of a 1,000,000-request run: ${payload.bytes} bytes counted by the apiserver ` +
        `(${((payload.bytes / CONFIGMAP_LIMIT_BYTES) * 100).toFixed(1)} % of 1 MiB); samples ${rows.length} x ${SAMPLE_METRICS.length} float32; ` +
        `binaryData ${base64Bytes} bytes as base64 on the wire; keys: ${[...Object.keys(payload.data), ...Object.keys(payload.binaryData)].join(', ')}`,
    );
    expect(payload.bytes).toBeLessThan(CONFIGMAP_LIMIT_BYTES);
    expect(payload.trimmed).toEqual([]);
    for (const role of RESULTS_LOG_ROLES) {
      const kept = Buffer.byteLength(payload.data[ResultsKeys.log(role)] ?? '');
      expect(kept, role).toBeLessThanOrEqual(LOG_TAIL_BYTES);
      expect(kept, role).toBeGreaterThan(LOG_TAIL_BYTES - 200);
    }
    const ttft = unpackFloat32(payload.binaryData[ResultsKeys.sample('ttftMs')] ?? new Uint8Array());
    expect(ttft).toHaveLength(MAX_SAMPLES);
    expect(ttft[0]).toBeCloseTo(rows[0]?.ttftMs ?? Number.NaN, 3);
    // A failed request keeps its TTFT but has no e2e: NaN on the wire, null when read back.
    const e2e = unpackFloat32(payload.binaryData[ResultsKeys.sample('e2eMs')] ?? new Uint8Array());
    const failed = rows.findIndex((r) => r.e2eMs === null);
    expect(failed).toBeGreaterThanOrEqual(0);
    expect(e2e[failed]).toBeNull();
  }, 120_000);

  it('a 64-level sweep: the per-level summaries and a sample tagged by level, under 1 MiB', () => {
    const levels = 64;
    const sampler = new ReservoirSampler(MAX_SAMPLES, seedOf('sweep-g1'));
    // 64 levels of 15,625 requests each: a million in all.
    for (let i = 0; i < 1_000_000; i++)
      sampler.offer({
        index: i,
        ttftMs: 100 + (i % 977),
        tpotMs: 12,
        e2eMs: 1500,
        stage: 1 + Math.floor(i / 15_625),
      });
    const quantiles = { p50: 1234.5678, p90: 2345.6789, p99: 3456.789 };
    const stage = (n: number) => ({
      stage: n,
      state: 'done',
      mode: 'closed',
      load: { clients: n * 4, ratePerSecond: null },
      achieved: { concurrency: n * 3.9, ratePerSecond: null },
      repeatsDone: 3,
      requests: 15_625,
      succeeded: 15_600,
      failed: 25,
      wallTimeSeconds: 120.5,
      requestsPerSecond: 129.7,
      outputTokensPerSecond: 15_563.2,
      ttftMs: quantiles,
      itlMs: quantiles,
      tpotMs: quantiles,
      e2eMs: quantiles,
      goodput: 120.1,
      attainment: 0.93,
      sloMet: true,
      sloMostViolated: 'ttftMs',
      errors: { timeout: 25, httpStatus: 0, streamError: 0, connection: 0 },
      repeat: { outputTokensPerSecond: { mean: 15_563.2, cv: 0.021, ci95: [15_400.1, 15_700.2] } },
      warnings: ['coefficient of variation of output tok/s 6.1 % over 3 repeats (above 5 %)'],
    });
    const rows = sampler.rows();
    const payload = buildResultsPayload({
      summary,
      stages: {
        stages: Array.from({ length: levels }, (_, i) => stage(i + 1)),
        saturation: { load: 'clients', threshold: 0.1, knee: { stage: 40, load: 160, value: 15_000 } },
      },
      environment: [{ name: 'Model', value: 'gemma3:270m' }],
      samples: {
        rows,
        index: {
          encoding: 'float32-le',
          metrics: [...SAMPLE_METRICS],
          count: rows.length,
          measured: sampler.offered,
          method: 'reservoir',
          seed: sampler.seed,
        },
      },
      logs: [tail('server', bigLog(5_000_000)), tail('client', bigLog(5_000_000))],
    });
    const stagesBytes = Buffer.byteLength(payload.data[ResultsKeys.stages] ?? '');
    const perLevel = new Set(Array.from(payload.binaryData[ResultsKeys.sampleStage] ?? []));
    console.log(
      `results ConfigMap of a 64-level sweep of 1,000,000 requests: ${payload.bytes} bytes (${((payload.bytes / CONFIGMAP_LIMIT_BYTES) * 100).toFixed(1)} % of 1 MiB), stages.json ${stagesBytes} bytes, samples in ${perLevel.size} levels`,
    );
    expect(payload.bytes).toBeLessThan(CONFIGMAP_LIMIT_BYTES);
    expect(payload.trimmed).toEqual([]);
    expect(perLevel.size).toBe(levels);
  });

  it('keeps every request of a small run, in request order', () => {
    const sampler = new ReservoirSampler(MAX_SAMPLES, 1);
    for (let i = 9; i >= 0; i--) sampler.offer({ index: i, ttftMs: i, tpotMs: null, e2eMs: i * 2, stage: 1 });
    expect(sampler.rows().map((r) => r.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('skips warmup requests and a half-written last line', () => {
    expect(sampleRowOf(recordLine(1, true))).toBeUndefined();
    expect(sampleRowOf(recordLine(1, false).slice(0, 40))).toBeUndefined();
    expect(sampleRowOf(recordLine(1, false))?.index).toBe(1);
  });

  it('still fits when a summary is far larger than its share: written as a note, the rest intact', () => {
    const huge = { stages: Array.from({ length: 20_000 }, (_, i) => ({ load: i, ...summary })) };
    const payload = buildResultsPayload({
      summary: huge,
      environment: [],
      logs: [tail('server', bigLog(100_000))],
    });
    expect(payload.bytes).toBeLessThan(CONFIGMAP_LIMIT_BYTES);
    expect(payload.trimmed).toContain('summary.json omitted (too large)');
    expect(payload.data[ResultsKeys.summary]).toContain('omitted');
    expect(Buffer.byteLength(payload.data[ResultsKeys.log('server')] ?? '')).toBeGreaterThan(60_000);
  });

  it("keeps the monitoring job's tail beside the run's two, and says which job and file it is from", () => {
    const payload = buildResultsPayload({
      environment: [],
      logs: [tail('server', 'ollama\n'), tail('monitoring', bigLog(200_000))],
    });
    expect(payload.data[ResultsKeys.log('monitoring')]).toContain('[GIN]');
    const index = LogsIndex.parse(JSON.parse(payload.data[ResultsKeys.logs] ?? '{}'));
    expect(index.monitoring).toMatchObject({
      jobId: '7',
      truncated: true,
      bytes: Buffer.byteLength(bigLog(200_000)),
    });
    expect(Object.keys(index)).toEqual(['server', 'monitoring']);
  });

  it('cuts a log tail at a line start', () => {
    expect(tailBytes('aaaa\nbbbb\ncccc\n', 8)).toBe('cccc\n');
    expect(tailBytes('short', 8)).toBe('short');
  });
});
