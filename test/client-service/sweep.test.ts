import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunStatus, StageSummary } from '../../client-service/api-schema.js';
import { SyntheticOllama } from '../synthetic-ollama/server.js';
import { type ClientServiceHandle, startClientService } from './harness.js';

/**
 * Sweeps in ONE run of the real client-service bundle, against the synthetic token server with a limit
 * on answers at once (maxParallel, like OLLAMA_NUM_PARALLEL): beyond K requests the server queues, so
 * throughput grows with clients up to K and is flat after it, while latency keeps rising. The knee must be
 * found at K, and nowhere else.
 */

const synthetic = new SyntheticOllama();
let service: ClientServiceHandle;

beforeAll(async () => {
  const ollamaUrl = await synthetic.listen();
  service = await startClientService({ ollamaUrl, model: 'synthetic' });
});

afterAll(async () => {
  await service?.stop();
  await synthetic.close();
});

/** About 135 ms per answer: 40 ms to the first token, then 9 gaps of 10 ms. */
const ANSWER = { firstTokenDelayMs: 40, interTokenDelayMs: 10, tokenCount: 10 };

/**
 * Levels of 1..16 clients. From 4 clients on each level sends 96 requests, which keep 4 places busy for
 * about 3 s, so that one late timer does not move the plateau's throughput by percents; below, 24.
 */
function clientLevels(clients: number[]) {
  return clients.map((c) => ({
    clients: c,
    requestsPerClient: Math.max(1, Math.round((c >= 4 ? 96 : 24) / c)),
  }));
}

function byLoad(stages: readonly StageSummary[]): Map<number, StageSummary> {
  return new Map(stages.map((s) => [s.load.clients as number, s]));
}

async function sweep(id: string, maxParallel: number, clients: number[]): Promise<RunStatus> {
  synthetic.configure({ maxParallel, default: ANSWER });
  synthetic.reset();
  await service.startRun({
    id,
    workload: {
      clients: 1,
      requestsPerClient: 1,
      prompt: 'p',
      sweep: { levels: clientLevels(clients), warmupRequests: 1 },
    },
  });
  const status = await service.waitForRun(id, 120_000);
  expect(status.state).toBe('succeeded');
  return status;
}

function table(status: RunStatus): string {
  return status.stages
    .map(
      (s) =>
        `clients ${s.load.clients}: ${s.requestsPerSecond} req/s, ${s.outputTokensPerSecond} tok/s, e2e p50 ${s.e2eMs.p50} ms, in flight ${s.achieved.concurrency}`,
    )
    .join('\n');
}

describe('a client sweep against a server with 4 places', () => {
  let status: RunStatus;

  beforeAll(async () => {
    status = await sweep('knee-at-4', 4, [1, 2, 4, 8, 16]);
    console.log(`maxParallel 4:\n${table(status)}\nsaturation ${JSON.stringify(status.saturation)}`);
  }, 150_000);

  it('runs the five levels as five stages of one run, against one server that never served more than 4 at once', () => {
    expect(status.stages.map((s) => [s.stage, s.state, s.load.clients])).toEqual([
      [1, 'done', 1],
      [2, 'done', 2],
      [3, 'done', 4],
      [4, 'done', 8],
      [5, 'done', 16],
    ]);
    expect(status.progress.display).toBe('stage 5/5, 96/96 requests');
    expect(status.stages.every((s) => s.failed === 0)).toBe(true);
    // The server queued (so the limit was reached), and never answered more than 4 at once.
    const stats = synthetic.currentStats();
    expect(stats.maxOpenStreams).toBe(4);
    expect(stats.maxWaiting).toBe(12);
  });

  it('finds the knee at 4 clients', () => {
    expect(status.saturation.knee?.load).toBe(4);
    expect(status.saturation.knee?.stage).toBe(3);
  });

  it('measures throughput at 8 and 16 clients flat within 5 %, and latency rising past the knee', () => {
    const levels = byLoad(status.stages);
    const at8 = levels.get(8)?.outputTokensPerSecond as number;
    const at16 = levels.get(16)?.outputTokensPerSecond as number;
    expect(Math.abs(at16 - at8) / at8).toBeLessThan(0.05);
    const e2e = (c: number) => levels.get(c)?.e2eMs.p50 as number;
    expect(e2e(8)).toBeGreaterThan(e2e(4) * 1.5);
    expect(e2e(16)).toBeGreaterThan(e2e(8) * 1.5);
    // Below the knee throughput still doubles with the clients.
    const tps = (c: number) => levels.get(c)?.outputTokensPerSecond as number;
    expect(tps(4) / tps(2)).toBeGreaterThan(1.6);
    // The peak is on the plateau, not below the knee.
    expect(status.saturation.peakOutputTokensPerSecond?.load).toBeGreaterThanOrEqual(4);
  });

  it('writes every level in full to stages.json, and records that name their stage', () => {
    const file = JSON.parse(readFileSync(join(service.outputDir, 'knee-at-4', 'stages.json'), 'utf8'));
    expect(file.levels).toHaveLength(5);
    expect(file.repeats.map((r: { stage: number }) => r.stage)).toEqual([1, 2, 3, 4, 5]);
    expect(file.levels[4].summary.counts).toMatchObject({ requests: 96, succeeded: 96, warmup: 1 });
    const records = readFileSync(join(service.outputDir, 'knee-at-4', 'records.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { stage: number; warmup: boolean });
    expect(records.filter((r) => r.stage === 5 && !r.warmup)).toHaveLength(96);
  });
});

describe('the knee moves with the server', () => {
  it('is found at 2 clients when the server has 2 places', async () => {
    const status = await sweep('knee-at-2', 2, [1, 2, 4, 8]);
    console.log(`maxParallel 2:\n${table(status)}`);
    expect(status.saturation.knee?.load).toBe(2);
  }, 150_000);
});

describe('stopWhenSaturated, SLOs and repeats', () => {
  it('stops after the first flat level and skips the rest', async () => {
    synthetic.configure({ maxParallel: 2, default: ANSWER });
    await service.startRun({
      id: 'stop-flat',
      workload: {
        clients: 1,
        requestsPerClient: 1,
        prompt: 'p',
        sweep: { levels: clientLevels([1, 2, 4, 8]), stopWhenSaturated: true },
      },
    });
    const status = await service.waitForRun('stop-flat', 120_000);
    expect(status.stages.map((s) => s.state)).toEqual(['done', 'done', 'done', 'skipped']);
    expect(status.saturation).toMatchObject({ stoppedAfterStage: 3, stopReason: 'saturated' });
    expect(status.saturation.knee?.load).toBe(2);
    expect(status.progress.total).toBe(24 + 24 + 96);
  }, 150_000);

  it('gives goodput equal to throughput under a loose SLO, and names TTFT under one too tight to meet', async () => {
    synthetic.configure({ maxParallel: null, default: ANSWER });
    const levels = [{ clients: 2, requestsPerClient: 10 }];
    const run = (id: string, slo: { ttftMs: number; e2eMs: number }) =>
      service.startRun({
        id,
        workload: { clients: 1, requestsPerClient: 1, prompt: 'p', sweep: { levels } },
        slo,
      });
    await run('slo-loose', { ttftMs: 10_000, e2eMs: 60_000 });
    await run('slo-tight', { ttftMs: 5, e2eMs: 60_000 });
    const loose = (await service.waitForRun('slo-loose', 60_000)).stages[0] as StageSummary;
    const tight = await service.waitForRun('slo-tight', 60_000);
    expect(loose).toMatchObject({ sloMet: true, attainment: 1, sloMostViolated: null });
    expect(loose.goodput).toBe(loose.requestsPerSecond);
    expect(tight.stages[0]).toMatchObject({
      sloMet: false,
      attainment: 0,
      goodput: 0,
      sloMostViolated: 'ttftMs',
    });
    expect(tight.saturation).toMatchObject({ sloMetAnywhere: false, maxSloLoad: null });
  }, 120_000);

  it('repeats a level 3 times and gives a confidence interval around the mean of the repeats', async () => {
    synthetic.configure({ maxParallel: null, default: ANSWER });
    await service.startRun({
      id: 'repeat-3',
      workload: { clients: 4, requestsPerClient: 6, prompt: 'p', repeat: 3 },
    });
    const status = await service.waitForRun('repeat-3', 60_000);
    const stage = status.stages[0] as StageSummary;
    expect(stage.repeatsDone).toBe(3);
    expect(stage.requests).toBe(72);
    const figure = stage.repeat?.outputTokensPerSecond;
    const file = JSON.parse(readFileSync(join(service.outputDir, 'repeat-3', 'stages.json'), 'utf8'));
    const perRepeat = file.repeats.map(
      (r: { summary: { outputTokensPerSecond: number } }) => r.summary.outputTokensPerSecond,
    );
    expect(perRepeat).toHaveLength(3);
    const mean = perRepeat.reduce((a: number, b: number) => a + b, 0) / 3;
    expect(figure?.n).toBe(3);
    expect(figure?.mean).toBeCloseTo(mean, -1);
    expect(figure?.ciLower).toBeLessThan(mean);
    expect(figure?.ciUpper).toBeGreaterThan(mean);
    console.log(
      `repeat 3: tok/s ${perRepeat.map((v: number) => v.toFixed(1)).join(', ')}; ${JSON.stringify(figure)}`,
    );
  }, 90_000);

  it('runs an open-loop sweep of rates for a duration each, and reports the rate achieved', async () => {
    synthetic.configure({ maxParallel: null, default: ANSWER });
    await service.startRun({
      id: 'open-sweep',
      workload: {
        clients: 1,
        requestsPerClient: 1,
        prompt: 'p',
        seed: 3,
        sweep: { range: { load: 'ratePerSecond', from: 10, to: 40, factor: 2 }, durationSeconds: 2 },
      },
    });
    const status = await service.waitForRun('open-sweep', 60_000);
    expect(status.stages.map((s) => s.load.ratePerSecond)).toEqual([10, 20, 40]);
    expect(status.saturation.load).toBe('ratePerSecond');
    expect(status.progress.display).toMatch(/^stage 3\/3, \d+ requests$/);
    // Poisson arrivals over 2 s scatter; the largest level must still be clearly busier than the smallest.
    const achieved = status.stages.map((s) => s.achieved.ratePerSecond as number);
    expect(achieved[2]).toBeGreaterThan((achieved[0] as number) * 2);
  }, 90_000);
});
