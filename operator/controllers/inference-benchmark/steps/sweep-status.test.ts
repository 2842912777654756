import { describe, expect, it } from 'vitest';
import {
  Saturation as ClientSaturation,
  Slo as ClientSlo,
  StageSummary as ClientStageSummary,
  Sweep as ClientSweep,
  type RunStatus,
  type StageSummary,
} from '../../../../client-service/api-schema.js';
import {
  InferenceBenchmarkSpec,
  type InferenceBenchmarkSpecInput,
  peakClients,
  SaturationStatus,
  SloSpec,
  StageStatus,
  Sweep,
} from '../../../../crds/index.js';
import { condition, harness, runStatus, validSpec } from '../test-harness.js';
import {
  describeSaturation,
  judgeSlo,
  type StagesFileSlo,
  saturationDisplay,
  stagesForStatus,
} from './sweep-status.js';

const q = (p50: number | null, p90 = p50, p99 = p90) => ({ p50, p90, p99 });

/** A done closed-loop level as the client service answers it. */
function stage(n: number, clients: number, extra: Partial<StageSummary> = {}): StageSummary {
  return {
    stage: n,
    state: 'done',
    mode: 'closed',
    load: { clients, ratePerSecond: null },
    achieved: { concurrency: clients * 0.9, ratePerSecond: null },
    repeatsDone: 1,
    requests: 4 * clients,
    succeeded: 4 * clients,
    failed: 0,
    wallTimeSeconds: 2,
    requestsPerSecond: 2 * clients,
    outputTokensPerSecond: 16 * clients,
    ttftMs: q(100 * clients, 120 * clients, 150 * clients),
    itlMs: q(10),
    tpotMs: q(10),
    e2eMs: q(200 * clients),
    goodput: null,
    attainment: null,
    sloMet: null,
    sloMostViolated: null,
    errors: { timeout: 0, httpStatus: 0, streamError: 0, connection: 0 },
    repeat: null,
    warnings: [],
    ...extra,
  };
}

const parsedStages = (stages: StageSummary[]) => stagesForStatus({ stages, state: 'succeeded' }) ?? [];
const slo = (input: Record<string, unknown>) => SloSpec.parse(input);

describe('the CRD mirrors the client service (crds/ may import only zod)', () => {
  it('keeps every field of a stage but its warnings, which go into the message', () => {
    const client = ClientStageSummary.parse(
      stage(2, 4, {
        repeat: {
          repeats: 3,
          outputTokensPerSecond: { n: 3, mean: 64, ciLower: 60, ciUpper: 68, cv: 0.02 },
          requestsPerSecond: { n: 3, mean: 8, ciLower: 7, ciUpper: 9, cv: 0.03 },
          ttftP50Ms: { n: 3, mean: 400, ciLower: 380, ciUpper: 420, cv: 0.01 },
          itlP50Ms: { n: 3, mean: 10, ciLower: 9, ciUpper: 11, cv: 0.06 },
          tpotP50Ms: { n: 3, mean: 10, ciLower: 9, ciUpper: 11, cv: 0.06 },
          e2eP50Ms: { n: 3, mean: 800, ciLower: 700, ciUpper: 900, cv: 0.04 },
        },
        warnings: ['CV of itlP50Ms 6.0 % over 3 repeats (> 5 %)'],
      }),
    );
    const { warnings: _warnings, ...rest } = client;
    expect(StageStatus.parse(client)).toEqual(rest);
  });

  it('keeps a saturation summary whole', () => {
    const saturation = ClientSaturation.parse({
      load: 'clients',
      threshold: 0.1,
      peakOutputTokensPerSecond: { stage: 3, load: 4, value: 64 },
      peakRequestsPerSecond: { stage: 3, load: 4, value: 8 },
      knee: { stage: 3, load: 4, value: 64 },
      maxSloLoad: { stage: 2, load: 2, value: 3.5 },
      sloMetAnywhere: true,
      stoppedAfterStage: 4,
      stopReason: 'saturated',
    });
    expect(SaturationStatus.parse(saturation)).toEqual(saturation);
  });

  it('gives the client service a sweep and an SLO it accepts, as the operator passes them', () => {
    const spec = InferenceBenchmarkSpec.parse({
      ...validSpec,
      workload: {
        clients: 1,
        requestsPerClient: 2,
        sweep: { levels: [{ clients: 1 }, { clients: 2, requestsPerClient: 3 }], warmupRequests: 1 },
        repeat: 3,
      },
      slo: { ttftMs: 500, percentile: 95, level: 2, failBenchmark: true },
    } satisfies InferenceBenchmarkSpecInput);
    expect(ClientSweep.parse(spec.workload.sweep)).toEqual(spec.workload.sweep);
    const range = Sweep.parse({ range: { from: 1, to: 16, factor: 2 } });
    expect(ClientSweep.parse(range)).toEqual(range);
    const { level: _l, failBenchmark: _f, ...judged } = spec.slo ?? {};
    expect(ClientSlo.parse(judged)).toEqual(judged);
  });
});

describe('peakClients (the server parallelism when spec.server.numParallel is unset)', () => {
  it("is the sweep's largest level, not workload.clients, so that no level queues on the server", () => {
    expect(
      peakClients({ clients: 1, sweep: Sweep.parse({ levels: [{ clients: 2 }, { clients: 16 }] }) }),
    ).toBe(16);
    expect(peakClients({ clients: 1, sweep: Sweep.parse({ range: { from: 1, to: 12, factor: 2 } }) })).toBe(
      8,
    );
    expect(peakClients({ clients: 5 })).toBe(5);
    expect(peakClients({ clients: 3, sweep: Sweep.parse({ levels: [{ ratePerSecond: 2 }] }) })).toBe(3);
    expect(peakClients({ clients: 1, sweep: Sweep.parse({ levels: [{ clients: 5000 }] }) })).toBe(1024);
  });
});

describe('judgeSlo', () => {
  const passing = (n: number, clients: number) =>
    stage(n, clients, { goodput: 2 * clients, attainment: 1, sloMet: true });
  const failing = (n: number, clients: number, attainment: number) =>
    stage(n, clients, {
      goodput: 2 * clients * attainment,
      attainment,
      sloMet: false,
      sloMostViolated: 'ttftMs',
    });

  it('is True at the largest level that met the SLO when no level is marked, with its goodput', () => {
    const verdict = judgeSlo(
      slo({ ttftMs: 500 }),
      parsedStages([passing(1, 1), passing(2, 2), failing(3, 4, 0.5)]),
      undefined,
    );
    expect(verdict).toEqual({
      status: 'True',
      reason: 'SLOMet',
      message: 'met at stage 2 (2 clients): goodput 4 req/s of 4 req/s (2 of 3 levels; the largest)',
    });
  });

  it('takes the largest level by load, not by run order, when the levels are listed out of order', () => {
    const verdict = judgeSlo(slo({ ttftMs: 500 }), parsedStages([passing(1, 8), passing(2, 2)]), undefined);
    expect(verdict.message).toContain('stage 1 (8 clients)');
  });

  it('names the failing threshold with its percentile from stages.json when every level missed', () => {
    const file: StagesFileSlo = {
      levels: [
        { slo: { percentiles: { ttftMs: 1200 } } },
        { slo: { percentiles: { ttftMs: 812.3456 } } },
        { slo: { percentiles: { ttftMs: 2400 } } },
      ],
    };
    const verdict = judgeSlo(
      slo({ ttftMs: 500, percentile: 95 }),
      parsedStages([failing(1, 1, 0.1), failing(2, 8, 0.4), failing(3, 16, 0.05)]),
      file,
    );
    expect(verdict).toEqual({
      status: 'False',
      reason: 'SLONotMet',
      message: 'ttftMs p95 812.3 ms > 500 ms at stage 2 (8 clients); missed at all 3 levels',
    });
  });

  it("falls back to the stage's own p90 when stages.json could not be read", () => {
    const verdict = judgeSlo(
      slo({ ttftMs: 50, percentile: 90 }),
      parsedStages([failing(1, 1, 0)]),
      undefined,
    );
    expect(verdict.message).toBe('ttftMs p90 120 ms > 50 ms at stage 1 (1 client)');
  });

  it('says by how many requests the attainment missed, per threshold', () => {
    const verdict = judgeSlo(slo({ e2eMs: 100, ttftMs: 50 }), parsedStages([failing(1, 4, 0.25)]), {
      levels: [{ slo: { violations: { ttftMs: 12, e2eMs: 9, errors: 0 } } }],
    });
    expect(verdict.message).toBe(
      'attainment 0.25 < 0.95 at stage 1 (4 clients): 12 of 16 requests over ttftMs 50 ms',
    );
  });

  it('judges only the marked level when slo.level is set, whatever the others did', () => {
    const stages = parsedStages([passing(1, 1), failing(2, 4, 0.5)]);
    expect(judgeSlo(slo({ ttftMs: 500, level: 4 }), stages, undefined)).toMatchObject({
      status: 'False',
      message: expect.stringContaining('at stage 2 (4 clients)'),
    });
    expect(judgeSlo(slo({ ttftMs: 500, level: 1 }), stages, undefined)).toMatchObject({ status: 'True' });
  });

  it('is False when the marked level was skipped by stopWhenSaturated', () => {
    const stages = parsedStages([passing(1, 1), stage(2, 2, { state: 'skipped', requests: 0 })]);
    expect(judgeSlo(slo({ ttftMs: 500, level: 2 }), stages, undefined)).toEqual({
      status: 'False',
      reason: 'SLONotMet',
      message: 'slo.level 2 was skipped: the SLO was not measured there',
    });
  });
});

describe('the Knee/SLO column and the sweep sentence', () => {
  const saturation: SaturationStatus = {
    load: 'clients',
    threshold: 0.1,
    peakOutputTokensPerSecond: { stage: 4, load: 8, value: 65.43 },
    peakRequestsPerSecond: { stage: 4, load: 8, value: 8 },
    knee: { stage: 3, load: 4, value: 64 },
    maxSloLoad: { stage: 2, load: 2, value: 3.5 },
    sloMetAnywhere: true,
    stoppedAfterStage: null,
    stopReason: null,
  };
  const sweepSpec = InferenceBenchmarkSpec.parse({
    ...validSpec,
    workload: { sweep: { range: { from: 1, to: 8, factor: 2 } } },
  });

  it('shows the max-SLO load with an SLO, the knee without, and nothing for one level without SLO', () => {
    expect(saturationDisplay({ ...sweepSpec, slo: slo({ ttftMs: 1 }) }, saturation)).toBe('slo 2');
    expect(
      saturationDisplay({ ...sweepSpec, slo: slo({ ttftMs: 1 }) }, { ...saturation, maxSloLoad: null }),
    ).toBe('slo none');
    expect(saturationDisplay(sweepSpec, saturation)).toBe('knee 4');
    expect(saturationDisplay(sweepSpec, { ...saturation, load: 'ratePerSecond', knee: null })).toBe('none');
    expect(saturationDisplay(InferenceBenchmarkSpec.parse(validSpec), saturation)).toBeUndefined();
  });

  it('sums the sweep up for the BenchmarkComplete message', () => {
    const stages = parsedStages([stage(1, 1), stage(2, 2), stage(3, 4), stage(4, 8)]);
    expect(describeSaturation(stages, { ...saturation, stoppedAfterStage: 3, stopReason: 'saturated' })).toBe(
      '4 of 4 levels measured; knee at 4 clients (64 tok/s); peak 65.43 tok/s at 8 clients; stopped after stage 3 (saturated)',
    );
  });
});

describe('a sweep through the reconciler', () => {
  /** A session whose client service answers with `answer(run)` and records the POST /runs bodies. */
  function sweepHarness(spec: InferenceBenchmarkSpecInput, answer: (run: RunStatus) => RunStatus) {
    const h = harness({ spec });
    const bodies: unknown[] = [];
    const base = h.cluster.session();
    const session = {
      ...base,
      fetch: async (url: string, init?: { method?: string; body?: string }) => {
        if (init?.method === 'POST' && init.body) bodies.push(JSON.parse(init.body));
        const response = await base.fetch(url, init as never);
        if (!new URL(url).pathname.startsWith('/runs') || !response.ok) return response;
        return Response.json(answer((await response.json()) as RunStatus));
      },
    };
    h.setSession({ ok: true, session: session as typeof base });
    return { h, bodies };
  }

  async function toRunning(h: ReturnType<typeof harness>) {
    await h.reconcile();
    h.cluster.everythingUp('100', '101');
    await h.reconcile();
    await h.reconcile();
  }

  const sweepSpec: InferenceBenchmarkSpecInput = {
    ...validSpec,
    workload: {
      clients: 1,
      requestsPerClient: 2,
      maxTokens: 8,
      sweep: { levels: [{ clients: 1 }, { clients: 2 }, { clients: 4 }], stopWhenSaturated: true },
      repeat: 2,
    },
    slo: { ttftMs: 250, percentile: 90 },
  };
  const saturation: RunStatus['saturation'] = {
    ...runStatus('succeeded').saturation,
    peakOutputTokensPerSecond: { stage: 3, load: 4, value: 64 },
    knee: { stage: 2, load: 2, value: 32.123456 },
    maxSloLoad: { stage: 2, load: 2, value: 4 },
    sloMetAnywhere: true,
  };

  function answer(run: RunStatus): RunStatus {
    const done = run.state === 'succeeded';
    const met = { goodput: 4, attainment: 1, sloMet: true };
    return {
      ...run,
      progress: {
        ...run.progress,
        stage: done ? 3 : 2,
        stages: 3,
        repeat: 1,
        repeats: 2,
        display: done ? 'stage 3/3 (repeat 2/2), 16/16 requests' : 'stage 2/3 (repeat 1/2), 3/8 requests',
      },
      stages: [
        stage(1, 1, met),
        stage(2, 2, { ...met, state: done ? 'done' : 'running', outputTokensPerSecond: 32.123456 }),
        stage(3, 4, {
          state: done ? 'done' : 'pending',
          goodput: 1,
          attainment: 0.25,
          sloMet: false,
          sloMostViolated: 'ttftMs',
        }),
      ],
      saturation,
      warnings: done ? ['stage 3: CV of outputTokensPerSecond 7.2 % over 2 repeats (> 5 %)'] : [],
    };
  }

  it('passes sweep, repeat and the SLO thresholds (not level nor failBenchmark) to the client service', async () => {
    const { h, bodies } = sweepHarness(
      { ...sweepSpec, slo: { ttftMs: 250, percentile: 90, failBenchmark: true } },
      answer,
    );
    await toRunning(h);
    expect(bodies).toHaveLength(1);
    expect(bodies[0]).toMatchObject({
      workload: {
        sweep: { levels: [{ clients: 1 }, { clients: 2 }, { clients: 4 }], stopWhenSaturated: true },
        repeat: 2,
      },
      slo: { ttftMs: 250, percentile: 90 },
    });
    expect((bodies[0] as { slo: object }).slo).not.toHaveProperty('failBenchmark');
  });

  it('names the stage in the progress, shows the finished levels while it runs, and copies stages and saturation at the end', async () => {
    const { h } = sweepHarness(sweepSpec, answer);
    await toRunning(h);
    const running = h.writes.at(-1);
    expect(running?.progress?.display).toBe('stage 2/3 (repeat 1/2), 3/8 requests');
    expect(condition(running, 'BenchmarkComplete')?.message).toBe(
      `run ${running?.runId}: stage 2/3 (repeat 1/2), 3/8 requests`,
    );
    expect(running?.stages?.map((s) => s.stage)).toEqual([1]);
    expect(running?.saturation).toBeUndefined();
    expect(condition(running, 'SLOMet')).toBeUndefined();

    h.cluster.runState = 'succeeded';
    await h.reconcile();
    const last = h.writes.at(-1);
    expect(last?.phase).toBe('Succeeded');
    expect(last?.stages).toHaveLength(3);
    expect(last?.stages?.[1]?.outputTokensPerSecond).toBe(32.123);
    expect(last?.stages?.[0]).not.toHaveProperty('warnings');
    expect(last?.saturation?.knee).toEqual({ stage: 2, load: 2, value: 32.123 });
    expect(last?.display?.saturation).toBe('slo 2');
    expect(condition(last, 'SLOMet')).toMatchObject({ status: 'True', reason: 'SLOMet' });
    const complete = condition(last, 'BenchmarkComplete')?.message ?? '';
    expect(complete).toContain('3 of 3 levels measured; knee at 2 clients (32.12 tok/s)');
    expect(complete).toContain('warnings: stage 3: CV of outputTokensPerSecond 7.2 % over 2 repeats (> 5 %)');
  });

  it('ends Failed with SLONotMet when the marked level missed and slo.failBenchmark is true', async () => {
    const { h } = sweepHarness(
      { ...sweepSpec, slo: { ttftMs: 250, percentile: 90, level: 4, failBenchmark: true } },
      answer,
    );
    await toRunning(h);
    h.cluster.runState = 'succeeded';
    await h.reconcile();
    const last = h.writes.at(-1);
    expect(last?.phase).toBe('Failed');
    expect(condition(last, 'SLOMet')).toMatchObject({
      status: 'False',
      reason: 'SLONotMet',
      message: 'ttftMs p90 480 ms > 250 ms at stage 3 (4 clients)',
    });
    expect(condition(last, 'BenchmarkComplete')).toMatchObject({ status: 'False', reason: 'SLONotMet' });
    expect(condition(last, 'Ready')).toMatchObject({ status: 'False', reason: 'SLONotMet' });
    // The figures stay: a missed SLO is a finding, not a lost run.
    expect(last?.stages).toHaveLength(3);
  });

  it('reports a missed SLO but still Succeeds when slo.failBenchmark is false', async () => {
    const { h } = sweepHarness({ ...sweepSpec, slo: { ttftMs: 250, percentile: 90, level: 4 } }, answer);
    await toRunning(h);
    h.cluster.runState = 'succeeded';
    await h.reconcile();
    const last = h.writes.at(-1);
    expect(last?.phase).toBe('Succeeded');
    expect(condition(last, 'SLOMet')).toMatchObject({ status: 'False', reason: 'SLONotMet' });
    expect(condition(last, 'BenchmarkComplete')?.message).toContain(
      'SLO not met: ttftMs p90 480 ms > 250 ms',
    );
  });

  it('writes no stages, saturation or SLOMet for a one-level run without SLO, as before', async () => {
    const { h } = sweepHarness(validSpec, (run) => run);
    await toRunning(h);
    h.cluster.runState = 'succeeded';
    await h.reconcile();
    const last = h.writes.at(-1);
    expect(last?.phase).toBe('Succeeded');
    expect(last?.progress?.display).toBe('4/4');
    expect(last?.stages).toBeUndefined();
    expect(last?.saturation).toBeUndefined();
    expect(condition(last, 'SLOMet')).toBeUndefined();
  });
});
