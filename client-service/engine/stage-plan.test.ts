import { describe, expect, it } from 'vitest';
import { expandRange, type StartRunInput, StartRunRequest } from '../api-schema.js';
import { planStages } from './stage-plan.js';

function plan(workload: Partial<StartRunInput['workload']>) {
  return planStages(
    StartRunRequest.parse({
      id: 'r',
      workload: { clients: 3, requestsPerClient: 5, prompt: 'p', warmupRequests: 2, ...workload },
    }),
  );
}

describe('a geometric range', () => {
  it.each([
    { range: { from: 1, to: 64, factor: 2 }, levels: [1, 2, 4, 8, 16, 32, 64] },
    { range: { from: 1, to: 100, factor: 10 }, levels: [1, 10, 100] },
    { range: { from: 1, to: 6, factor: 1.5 }, levels: [1, 2, 3, 5] },
    { range: { from: 1, to: 3, factor: 1.2 }, levels: [1, 2, 3] },
    { range: { from: 4, to: 4, factor: 2 }, levels: [4] },
    { range: { load: 'ratePerSecond' as const, from: 0.5, to: 4, factor: 2 }, levels: [0.5, 1, 2, 4] },
    {
      range: { load: 'ratePerSecond' as const, from: 0.1, to: 1000, factor: 10 },
      levels: [0.1, 1, 10, 100, 1000],
    },
  ])('expands $range to $levels (client counts rounded, repeats dropped)', ({ range, levels }) => {
    expect(expandRange({ load: 'clients', ...range })).toEqual(levels);
  });
});

describe('the stages of a run', () => {
  it('is one stage without a sweep, exactly the workload (a closed loop ignores durationSeconds, as before)', () => {
    expect(plan({ durationSeconds: 9 })).toEqual([
      {
        stage: 1,
        mode: 'closed',
        clients: 3,
        ratePerSecond: null,
        warmupRequests: 2,
        requests: 15,
        durationSeconds: null,
        maxConcurrency: null,
      },
    ]);
  });

  it('is one open stage bound by time when the open workload has a duration', () => {
    expect(plan({ mode: 'open', ratePerSecond: 4, durationSeconds: 9, maxConcurrency: 2 })[0]).toMatchObject({
      mode: 'open',
      ratePerSecond: 4,
      requests: null,
      durationSeconds: 9,
      maxConcurrency: 2,
    });
  });

  it("takes each level's own amounts, else the sweep's, else the workload's", () => {
    const stages = plan({
      sweep: {
        levels: [{ clients: 1 }, { clients: 4, requestsPerClient: 2, warmupRequests: 0 }],
        warmupRequests: 1,
      },
    });
    expect(stages.map((s) => [s.clients, s.requests, s.warmupRequests])).toEqual([
      [1, 5, 1],
      [4, 8, 0],
    ]);
  });

  it('bounds a closed level by time alone when only a duration is given, by both when a count is too', () => {
    expect(plan({ sweep: { levels: [{ clients: 2 }], durationSeconds: 3 } })[0]).toMatchObject({
      requests: null,
      durationSeconds: 3,
    });
    expect(
      plan({ sweep: { levels: [{ clients: 2, requestsPerClient: 4 }], durationSeconds: 3 } })[0],
    ).toMatchObject({
      requests: 8,
      durationSeconds: 3,
    });
  });

  it('counts an open level by its requests, else clients × requestsPerClient, and caps it by maxConcurrency', () => {
    const stages = plan({
      maxConcurrency: 7,
      sweep: { levels: [{ ratePerSecond: 1 }, { ratePerSecond: 2, requests: 40, maxConcurrency: 3 }] },
    });
    expect(stages.map((s) => [s.mode, s.ratePerSecond, s.requests, s.maxConcurrency])).toEqual([
      ['open', 1, 15, 7],
      ['open', 2, 40, 3],
    ]);
  });

  it('numbers the stages of a range in order', () => {
    const stages = plan({ sweep: { range: { from: 1, to: 16, factor: 2 } } });
    expect(stages.map((s) => [s.stage, s.clients])).toEqual([
      [1, 1],
      [2, 2],
      [3, 4],
      [4, 8],
      [5, 16],
    ]);
  });
});
