import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunStatus } from '../../client-service/api-schema.js';
import { SyntheticOllama } from '../synthetic-ollama/server.js';
import { type ClientServiceHandle, startClientService, startPushgateway, waitFor } from './harness.js';

/**
 * The client-service bundle against the synthetic token server: a measuring instrument with known delays
 * and ground-truth timestamps. These tests check the engine's measurements and mechanics; they say nothing
 * about Ollama (test/client-service/ollama.test.ts does, against the real one).
 */

const synthetic = new SyntheticOllama();
let service: ClientServiceHandle;
let pushgateway: { url: string; stop: () => Promise<void> };
let ollamaUrl: string;

beforeAll(async () => {
  ollamaUrl = await synthetic.listen();
  pushgateway = await startPushgateway();
  service = await startClientService({ ollamaUrl, model: 'synthetic', pushgatewayUrl: pushgateway.url });
});

afterAll(async () => {
  await service?.stop();
  await pushgateway?.stop();
  await synthetic.close();
});

function truthsOf(runId: string) {
  return new Map(
    synthetic
      .groundTruth()
      .filter((t) => t.requestId?.startsWith(`${runId}-`))
      .map((t) => [t.requestId, t]),
  );
}

async function recordsOf(runId: string) {
  const res = await service.request('GET', `/runs/${runId}/requests`);
  const text = await res.text();
  return text
    .trim()
    .split('\n')
    .filter((l) => l.length > 0)
    .map(
      (l) =>
        JSON.parse(l) as { index: number; ok: boolean; ttftMs: number; e2eMs: number; errorKind: string },
    );
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

describe('measurements match the synthetic ground truth', () => {
  it.each(['generate', 'chat'] as const)(
    'measures TTFT, ITL and e2e of /api/%s as configured',
    async (api) => {
      synthetic.configure({ default: { firstTokenDelayMs: 150, interTokenDelayMs: 25, tokenCount: 8 } });
      const id = `delays-${api}`;
      await service.startRun({
        id,
        api,
        workload: { clients: 4, requestsPerClient: 3, prompt: 'p', warmupRequests: 2 },
      });
      const status = await service.waitForRun(id, 60_000);
      expect(status.state).toBe('succeeded');
      const s = status.summary;
      expect(s.counts).toEqual({ requests: 12, succeeded: 12, failed: 0, warmup: 2 });
      // Physical lower bounds: a token cannot arrive before the server waited.
      expect(s.ttftMs.p50).toBeGreaterThanOrEqual(150);
      expect(s.itlMs.p50).toBeGreaterThanOrEqual(24);
      expect(s.e2eMs.p50).toBeGreaterThanOrEqual(150 + 7 * 25);
      expect(s.tokens.output).toBe(12 * 8);
      expect(s.tokens.estimatedOutputRequests).toBe(0);
      // Against ground truth: client TTFT − server TTFT is the measurement error, small on loopback.
      const truths = truthsOf(id);
      const records = (await recordsOf(id)).filter((r) => r.index >= 2);
      const errors = records.map((r) => {
        const t = truths.get(`${id}-${r.index}`);
        if (t?.firstTokenAtMs == null) throw new Error(`no ground truth for ${id}-${r.index}`);
        return r.ttftMs - (t.firstTokenAtMs - t.receivedAtMs);
      });
      expect(errors).toHaveLength(12);
      // Causality: the client never sees a token before the server wrote it.
      expect(Math.min(...errors)).toBeGreaterThan(0);
      // A guard against gross errors (a wrong start time is off by the whole delay or more). The precise
      // error is a figure of the benchmark (npm run bench:client), not a timed assertion: this machine may
      // be loaded by parallel builds.
      expect(median(errors)).toBeLessThan(100);
    },
  );
});

describe('the instrument', () => {
  it('spreads first-token delays over [delay, delay + jitter) when asked, and keeps the ground truth', async () => {
    synthetic.configure({
      default: { firstTokenDelayMs: 50, firstTokenJitterMs: 200, interTokenDelayMs: 1, tokenCount: 2 },
    });
    const id = 'jitter';
    await service.startRun({ id, workload: { clients: 20, requestsPerClient: 1, prompt: 'p' } });
    expect((await service.waitForRun(id, 60_000)).state).toBe('succeeded');
    const delays = [...truthsOf(id).values()].map((t) => (t.firstTokenAtMs ?? 0) - t.receivedAtMs);
    expect(delays).toHaveLength(20);
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(50);
    // Twenty draws from a 200 ms window: all within 10 ms of each other would mean no jitter at all.
    expect(Math.max(...delays) - Math.min(...delays)).toBeGreaterThan(10);
  });
});

describe('concurrency', () => {
  it('runs 1,000 clients really at once: the server sees 1,000 open streams', async () => {
    // Each stream stays open 10 s before its first token, so every client is connected at once.
    synthetic.configure({ default: { firstTokenDelayMs: 10_000, interTokenDelayMs: 1, tokenCount: 2 } });
    synthetic.reset();
    await service.startRun({
      id: 'thousand',
      workload: { clients: 1000, requestsPerClient: 1, prompt: 'p' },
    });
    const seen = await waitFor(
      '1,000 open streams',
      () => (synthetic.currentStats().maxOpenStreams >= 1000 ? synthetic.currentStats() : undefined),
      60_000,
      50,
    );
    expect(seen.maxOpenStreams).toBe(1000);
    const status = await service.waitForRun('thousand', 90_000);
    expect(status.summary.counts.succeeded).toBe(1000);
  });
});

describe('open loop', () => {
  it('achieves the target Poisson rate within 5% over 30 s', async () => {
    synthetic.configure({ default: { firstTokenDelayMs: 5, interTokenDelayMs: 2, tokenCount: 4 } });
    await service.startRun({
      id: 'open-rate',
      workload: {
        clients: 1,
        requestsPerClient: 1,
        prompt: 'p',
        mode: 'open',
        ratePerSecond: 100,
        durationSeconds: 30,
        seed: 7,
      },
    });
    const status = await service.waitForRun('open-rate', 90_000);
    expect(status.state).toBe('succeeded');
    expect(status.openLoop?.targetRate).toBe(100);
    const achieved = status.openLoop?.achievedRate ?? 0;
    expect(Math.abs(achieved - 100) / 100).toBeLessThan(0.05);
    // The server's own view of arrivals agrees with the client's.
    const arrivals = [...truthsOf('open-rate').values()].map((t) => t.receivedAtMs).sort((a, b) => a - b);
    const serverRate =
      (arrivals.length - 1) / (((arrivals.at(-1) as number) - (arrivals[0] as number)) / 1000);
    expect(Math.abs(serverRate - 100) / 100).toBeLessThan(0.05);
    expect(status.summary.scheduleLagMs?.p50).toBeLessThan(20);
  }, 120_000);

  it('keeps at most maxConcurrency requests in flight and reports the wait as start lag', async () => {
    synthetic.configure({ default: { firstTokenDelayMs: 100, interTokenDelayMs: 5, tokenCount: 2 } });
    synthetic.reset();
    await service.startRun({
      id: 'open-capped',
      workload: {
        clients: 60,
        requestsPerClient: 1,
        prompt: 'p',
        mode: 'open',
        ratePerSecond: 200,
        maxConcurrency: 5,
      },
    });
    const status = await service.waitForRun('open-capped', 60_000);
    expect(status.summary.counts.succeeded).toBe(60);
    expect(synthetic.currentStats().maxOpenStreams).toBe(5);
    // 60 requests of >100 ms through 5 slots take >1.2 s although they arrive within ~0.3 s.
    expect(status.startLagMs.p99).toBeGreaterThan(100);
  });
});

describe('cancel', () => {
  it('stops all traffic within 1 s of DELETE /runs/:id', async () => {
    synthetic.configure({ default: { firstTokenDelayMs: 50, interTokenDelayMs: 50, tokenCount: 200 } });
    await service.startRun({
      id: 'to-cancel',
      workload: { clients: 50, requestsPerClient: 1000, prompt: 'p' },
    });
    await waitFor(
      '50 open streams',
      () => (synthetic.currentStats().openStreams >= 50 ? true : undefined),
      30_000,
    );
    const deleteSentAt = Number(process.hrtime.bigint()) / 1e6;
    const res = await service.request('DELETE', '/runs/to-cancel');
    expect(res.status).toBe(200);
    const body = (await res.json()) as RunStatus;
    expect(body.state).toBe('cancelled');
    expect(body.progress.inFlight).toBe(0);
    await waitFor(
      'no open streams',
      () => (synthetic.currentStats().openStreams === 0 ? true : undefined),
      2_000,
      5,
    );
    const quietAt = Number(process.hrtime.bigint()) / 1e6;
    expect(quietAt - deleteSentAt).toBeLessThan(1000);
    const late = [...truthsOf('to-cancel').values()].filter((t) => t.receivedAtMs > deleteSentAt + 1000);
    expect(late).toEqual([]);
    expect(body.progress.cancelled).toBeGreaterThanOrEqual(50);
  });
});

describe('failures are classified', () => {
  beforeAll(() => {
    synthetic.configure({
      default: { firstTokenDelayMs: 5, interTokenDelayMs: 5, tokenCount: 5 },
      models: {
        'mid-stream-error': { errorAfterTokens: 2 },
        'drops-connection': { dropAfterTokens: 2, firstTokenDelayMs: 5, interTokenDelayMs: 5 },
        'http-500': { httpStatus: 500 },
        'too-slow': { firstTokenDelayMs: 30_000 },
        'no-counts': { omitCounts: true, tokenCount: 5 },
      },
    });
  });

  it.each([
    { model: 'mid-stream-error', field: 'streamError' },
    { model: 'drops-connection', field: 'connection' },
    { model: 'http-500', field: 'httpStatus' },
    { model: 'too-slow', field: 'timeout' },
  ] as const)('counts $model as $field', async ({ model, field }) => {
    const id = `fail-${model}`;
    await service.startRun({
      id,
      model,
      workload: { clients: 2, requestsPerClient: 2, prompt: 'p', requestTimeoutSeconds: 1 },
    });
    const status = await service.waitForRun(id, 30_000);
    // Every measured request failed: the run measured nothing, so it failed, and it says how.
    expect(status.state).toBe('failed');
    expect(status.message).toMatch(/^every measured request failed \(4: 4 \w+\)$/);
    expect(status.summary.counts).toMatchObject({ requests: 4, succeeded: 0, failed: 4 });
    expect(status.summary.errors[field]).toBe(4);
    expect(status.summary.ttftMs.p50).toBeNull();
  });

  it('counts output tokens from chunks when the server reports none, and says how often', async () => {
    await service.startRun({
      id: 'no-counts',
      model: 'no-counts',
      workload: { clients: 2, requestsPerClient: 2, prompt: 'p' },
    });
    const status = await service.waitForRun('no-counts', 30_000);
    expect(status.summary.counts.succeeded).toBe(4);
    expect(status.summary.tokens).toMatchObject({ output: 20, estimatedOutputRequests: 4 });
    expect(status.summary.decodeTps.p50).toBeNull();
  });
});

describe('Pushgateway', () => {
  it('holds the run metrics under the run grouping key, with the old tokens_per_second', async () => {
    synthetic.configure({ default: { firstTokenDelayMs: 5, interTokenDelayMs: 5, tokenCount: 5 } });
    await service.startRun({ id: 'pushed', workload: { clients: 3, requestsPerClient: 2, prompt: 'p' } });
    const status = await service.waitForRun('pushed', 30_000);
    expect(status.pushgateway.failures).toBe(0);
    expect(status.pushgateway.pushes).toBeGreaterThanOrEqual(1);
    const text = await (await fetch(`${pushgateway.url}/metrics`)).text();
    const lines = text.split('\n').filter((l) => l.includes('run="pushed"'));
    expect(lines.some((l) => /^tokens_per_second\{.*client_id="2".*model="synthetic"/.test(l))).toBe(true);
    expect(lines.some((l) => /^ibo_client_requests_total\{.*outcome="success".*\} 6$/.test(l))).toBe(true);
    expect(
      lines.some((l) => l.startsWith('ibo_client_ttft_seconds_count{') && l.includes('benchmark="it"')),
    ).toBe(true);
    // 6 requests × 4 gaps between 5 tokens.
    expect(lines.some((l) => /^ibo_client_itl_seconds_count\{.*\} 24$/.test(l))).toBe(true);
  });

  it('never fails a run when the Pushgateway is down; the failures are counted and reported', async () => {
    const down = await startPushgateway();
    await down.stop();
    const other = await startClientService({
      ollamaUrl,
      model: 'synthetic',
      pushgatewayUrl: down.url,
    });
    try {
      await other.startRun({ id: 'unpushed', workload: { clients: 2, requestsPerClient: 2, prompt: 'p' } });
      const status = await other.waitForRun('unpushed', 30_000);
      expect(status.state).toBe('succeeded');
      expect(status.summary.counts.succeeded).toBe(4);
      expect(status.pushgateway.failures).toBeGreaterThanOrEqual(1);
      expect(status.pushgateway.lastError).toMatch(/ECONNREFUSED/);
    } finally {
      await other.stop();
    }
  });
});

describe('protocol openai: the same measurements over server-sent events', () => {
  it.each(['completions', 'chat'] as const)(
    'measures TTFT, ITL and e2e of /v1/%s against the ground truth, with tokens from the usage chunk',
    async (openaiApi) => {
      // Chat answers open with a role-only chunk at once: counting it as content would make TTFT ~0.
      synthetic.configure({ default: { firstTokenDelayMs: 150, interTokenDelayMs: 25, tokenCount: 8 } });
      const id = `openai-delays-${openaiApi}`;
      await service.startRun({
        id,
        protocol: 'openai',
        openaiApi,
        workload: { clients: 4, requestsPerClient: 3, prompt: 'p', warmupRequests: 2, maxTokens: 64 },
      });
      const status = await service.waitForRun(id, 60_000);
      expect(status.state).toBe('succeeded');
      const s = status.summary;
      expect(s.counts).toEqual({ requests: 12, succeeded: 12, failed: 0, warmup: 2 });
      expect(s.ttftMs.p50).toBeGreaterThanOrEqual(150);
      expect(s.itlMs.p50).toBeGreaterThanOrEqual(24);
      expect(s.e2eMs.p50).toBeGreaterThanOrEqual(150 + 7 * 25);
      expect(s.tokens).toMatchObject({ output: 12 * 8, prompt: 12 * 8, estimatedOutputRequests: 0 });
      // No eval_duration in the OpenAI API: decodeTps cannot be computed, so it is null, never 0.
      expect(s.decodeTps).toEqual({ mean: null, p50: null, p90: null, p95: null, p99: null });
      expect(s.clientTps.p50).toBeGreaterThan(0);
      expect(s.tpotMs.p50).toBeGreaterThanOrEqual(24);
      const truths = truthsOf(id);
      expect([...truths.values()].every((t) => t.protocol === 'openai' && t.api === openaiApi)).toBe(true);
      const records = (await recordsOf(id)).filter((r) => r.index >= 2);
      const errors = records.map((r) => {
        const t = truths.get(`${id}-${r.index}`);
        if (t?.firstTokenAtMs == null) throw new Error(`no ground truth for ${id}-${r.index}`);
        return r.ttftMs - (t.firstTokenAtMs - t.receivedAtMs);
      });
      expect(errors).toHaveLength(12);
      expect(Math.min(...errors)).toBeGreaterThan(0);
      expect(median(errors)).toBeLessThan(100);
    },
  );

  describe('without usage, and when things go wrong', () => {
    beforeAll(() => {
      synthetic.configure({
        default: { firstTokenDelayMs: 5, interTokenDelayMs: 5, tokenCount: 5 },
        models: {
          'no-usage': { omitUsage: true, tokenCount: 5 },
          'mid-stream-error': { errorAfterTokens: 2 },
          'http-503': { httpStatus: 503 },
        },
      });
    });

    it('counts output tokens from content chunks when the server sends no usage, and says how often', async () => {
      await service.startRun({
        id: 'openai-no-usage',
        model: 'no-usage',
        protocol: 'openai',
        openaiApi: 'chat',
        workload: { clients: 2, requestsPerClient: 2, prompt: 'p' },
      });
      const status = await service.waitForRun('openai-no-usage', 30_000);
      expect(status.state).toBe('succeeded');
      expect(status.summary.counts.succeeded).toBe(4);
      expect(status.summary.tokens).toMatchObject({ output: 20, prompt: 0, estimatedOutputRequests: 4 });
      expect(status.summary.tpotMs.p50).not.toBeNull();
      expect(status.summary.decodeTps.p50).toBeNull();
    });

    it('tells a usage count from a chunk count in every record', async () => {
      await service.startRun({
        id: 'openai-usage',
        protocol: 'openai',
        workload: { clients: 1, requestsPerClient: 2, prompt: 'p' },
      });
      expect((await service.waitForRun('openai-usage', 30_000)).summary.tokens.estimatedOutputRequests).toBe(
        0,
      );
      const res = await service.request('GET', '/runs/openai-no-usage/requests');
      const sources = (await res.text())
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { outputTokensSource: string }).outputTokensSource);
      expect(sources).toEqual(['chunks', 'chunks', 'chunks', 'chunks']);
    });

    it.each([
      { model: 'mid-stream-error', field: 'streamError' },
      { model: 'http-503', field: 'httpStatus' },
    ] as const)('counts $model as $field', async ({ model, field }) => {
      const id = `openai-fail-${model}`;
      await service.startRun({
        id,
        model,
        protocol: 'openai',
        workload: { clients: 2, requestsPerClient: 2, prompt: 'p', requestTimeoutSeconds: 5 },
      });
      const status = await service.waitForRun(id, 30_000);
      expect(status.state).toBe('failed');
      expect(status.summary.counts).toMatchObject({ requests: 4, succeeded: 0, failed: 4 });
      expect(status.summary.errors[field]).toBe(4);
    });
  });

  it('achieves the target Poisson rate in open loop within 5% over 30 s', async () => {
    synthetic.configure({ default: { firstTokenDelayMs: 5, interTokenDelayMs: 2, tokenCount: 4 } });
    const id = 'openai-open-rate';
    await service.startRun({
      id,
      protocol: 'openai',
      openaiApi: 'chat',
      workload: {
        clients: 1,
        requestsPerClient: 1,
        prompt: 'p',
        mode: 'open',
        ratePerSecond: 100,
        durationSeconds: 30,
        seed: 7,
      },
    });
    const status = await service.waitForRun(id, 90_000);
    expect(status.state).toBe('succeeded');
    expect(status.summary.counts.failed).toBe(0);
    expect(Math.abs((status.openLoop?.achievedRate ?? 0) - 100) / 100).toBeLessThan(0.05);
    const arrivals = [...truthsOf(id).values()].map((t) => t.receivedAtMs).sort((a, b) => a - b);
    const serverRate =
      (arrivals.length - 1) / (((arrivals.at(-1) as number) - (arrivals[0] as number)) / 1000);
    expect(Math.abs(serverRate - 100) / 100).toBeLessThan(0.05);
    expect(status.summary.tokens.output).toBe(status.summary.counts.succeeded * 4);
  }, 120_000);
});
