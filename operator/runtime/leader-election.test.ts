import { describe, expect, it } from 'vitest';
import { DEFAULT_LEADER_ELECTION_TIMINGS, validateLeaderElectionTimings } from './leader-election.js';

describe('validateLeaderElectionTimings', () => {
  const cases: Array<{
    sentence: string;
    timings: Parameters<typeof validateLeaderElectionTimings>[0];
    error?: RegExp;
  }> = [
    { sentence: 'should accept the defaults (15 s, 10 s, 2 s)', timings: DEFAULT_LEADER_ELECTION_TIMINGS },
    {
      sentence: 'should refuse a lease that expires no later than the renew deadline',
      timings: { leaseDurationMs: 10_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 },
      error: /leaseDuration .* must be greater than renewDeadline/,
    },
    {
      sentence: 'should refuse a renew deadline that leaves no room for one jittered retry',
      timings: { leaseDurationMs: 15_000, renewDeadlineMs: 2_400, retryPeriodMs: 2_000 },
      error: /renewDeadline .* must be greater than retryPeriod × 1.2/,
    },
    {
      sentence: 'should accept a renew deadline just above retryPeriod × 1.2',
      timings: { leaseDurationMs: 15_000, renewDeadlineMs: 2_401, retryPeriodMs: 2_000 },
    },
    {
      sentence: 'should refuse a zero retry period',
      timings: { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 0 },
      error: /retryPeriodMs must be ≥ 1 ms/,
    },
    {
      sentence: 'should refuse a value that is not a number',
      timings: { leaseDurationMs: Number.NaN, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 },
      error: /leaseDurationMs must be ≥ 1 ms/,
    },
  ];
  for (const { sentence, timings, error } of cases) {
    it(sentence, () => {
      if (error) expect(() => validateLeaderElectionTimings(timings)).toThrow(error);
      else expect(validateLeaderElectionTimings(timings)).toEqual(timings);
    });
  }
});
