import { describe, expect, it } from 'vitest';
import { findKnee, type LevelFigures, saturation, stopReason } from './saturation.js';

/** Levels from [load, output tok/s, e2e p50 ms, sloMet?] rows; req/s is tok/s / 10. */
function levels(rows: [number, number | null, number | null, (boolean | null)?][]): LevelFigures[] {
  return rows.map(([load, tps, e2e, met], i) => ({
    stage: i + 1,
    load,
    outputTokensPerSecond: tps,
    requestsPerSecond: tps === null ? null : tps / 10,
    e2eP50Ms: e2e,
    sloMet: met ?? null,
    goodput: met === undefined || tps === null ? null : tps / 20,
  }));
}

describe('the knee', () => {
  const cases: { name: string; rows: Parameters<typeof levels>[0]; knee: number | null }[] = [
    {
      name: 'is the last level before throughput flattens while latency rises (a server with 4 slots)',
      rows: [
        [1, 100, 100],
        [2, 200, 100],
        [4, 400, 101],
        [8, 405, 200],
        [16, 402, 400],
      ],
      knee: 4,
    },
    {
      name: 'is not found while throughput keeps growing by more than the threshold',
      rows: [
        [1, 100, 100],
        [2, 190, 105],
        [4, 350, 115],
      ],
      knee: null,
    },
    {
      name: 'is not found where throughput is flat but latency does not rise (noise, not saturation)',
      rows: [
        [1, 100, 100],
        [2, 105, 99],
      ],
      knee: null,
    },
    {
      name: 'counts growth just under the threshold as flat (9 % < 10 %)',
      rows: [
        [1, 100, 100],
        [2, 109, 150],
      ],
      knee: 1,
    },
    {
      name: 'counts growth at the threshold as growth (10 % is not < 10 %)',
      rows: [
        [1, 100, 100],
        [2, 110, 150],
      ],
      knee: null,
    },
    {
      name: 'orders the levels by load, whatever order they ran in',
      rows: [
        [8, 405, 200],
        [1, 100, 100],
        [4, 400, 101],
        [2, 200, 100],
      ],
      knee: 4,
    },
    {
      name: 'falls back to requests/s for every level when one level has no token count',
      rows: [
        [1, 100, 100],
        [2, null, 100],
        [4, 400, 101],
      ],
      knee: null,
    },
  ];
  it.each(cases)('$name', ({ rows, knee }) => {
    expect(findKnee(levels(rows), 0.1)?.load ?? null).toBe(knee);
  });
});

describe('the saturation summary', () => {
  it('names the peaks, the knee and the largest level that meets the SLO with its goodput', () => {
    const s = saturation(
      levels([
        [1, 100, 100, true],
        [2, 200, 100, true],
        [4, 400, 101, true],
        [8, 410, 200, false],
        [16, 402, 400, false],
      ]),
      { load: 'clients', threshold: 0.1, stoppedAfterStage: null, stopReason: null },
    );
    expect(s.peakOutputTokensPerSecond).toEqual({ stage: 4, load: 8, value: 410 });
    expect(s.peakRequestsPerSecond).toEqual({ stage: 4, load: 8, value: 41 });
    expect(s.knee).toEqual({ stage: 3, load: 4, value: 400 });
    expect(s.maxSloLoad).toEqual({ stage: 3, load: 4, value: 20 });
    expect(s.sloMetAnywhere).toBe(true);
  });

  it('says the SLO held nowhere when every level missed it, and nothing about an SLO without one', () => {
    const opts = { load: 'clients' as const, threshold: 0.1, stoppedAfterStage: null, stopReason: null };
    const missed = saturation(levels([[1, 100, 100, false]]), opts);
    expect(missed.maxSloLoad).toBeNull();
    expect(missed.sloMetAnywhere).toBe(false);
    const none = saturation(levels([[1, 100, 100]]), opts);
    expect(none.sloMetAnywhere).toBeNull();
    expect(none.knee).toBeNull();
    expect(none.peakOutputTokensPerSecond).toEqual({ stage: 1, load: 1, value: 100 });
  });

  it('is empty before any level finished', () => {
    const s = saturation([], {
      load: 'ratePerSecond',
      threshold: 0.1,
      stoppedAfterStage: null,
      stopReason: null,
    });
    expect(s.peakOutputTokensPerSecond).toBeNull();
    expect(s.knee).toBeNull();
  });
});

describe('stopping a sweep early', () => {
  it('goes on after the first level and while throughput grows', () => {
    expect(stopReason(levels([[1, 100, 100]]), 0.1)).toBeNull();
    expect(
      stopReason(
        levels([
          [1, 100, 100],
          [2, 180, 100],
        ]),
        0.1,
      ),
    ).toBeNull();
  });

  it('stops once throughput grew by less than the threshold over the level before', () => {
    expect(
      stopReason(
        levels([
          [1, 100, 100],
          [2, 200, 100],
          [4, 205, 190],
        ]),
        0.1,
      ),
    ).toBe('saturated');
  });

  it('stops at a level that missed the SLO, even while throughput grows', () => {
    expect(
      stopReason(
        levels([
          [1, 100, 100, true],
          [2, 200, 300, false],
        ]),
        0.1,
      ),
    ).toBe('slo');
  });
});
