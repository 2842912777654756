import { describe, expect, it } from 'vitest';
import { backoffDelayMs, KeyedBackoff, validateBackoff } from './backoff.js';

describe('backoff', () => {
  const options = { baseDelayMs: 500, maxDelayMs: 60_000, jitter: 0.5 };
  const cases: Array<{ sentence: string; failures: number; random: number; want: number }> = [
    {
      sentence: 'should wait the base delay after the first failure with zero jitter drawn',
      failures: 1,
      random: 0,
      want: 500,
    },
    { sentence: 'should double the delay on the second failure', failures: 2, random: 0, want: 1_000 },
    { sentence: 'should add at most the jitter fraction on top', failures: 2, random: 1, want: 1_500 },
    { sentence: 'should never exceed the cap before jitter', failures: 30, random: 0, want: 60_000 },
    { sentence: 'should stay finite for absurd failure counts', failures: 10_000, random: 0, want: 60_000 },
  ];
  for (const { sentence, failures, random, want } of cases) {
    it(sentence, () => {
      expect(backoffDelayMs(failures, { ...options, random: () => random })).toBe(want);
    });
  }

  it('should spread the delays of keys failing together when jitter is on', () => {
    const delays = new Set(Array.from({ length: 20 }, () => backoffDelayMs(3, options)));
    expect(delays.size).toBeGreaterThan(1);
  });

  it('should refuse a cap below the base delay', () => {
    expect(() => validateBackoff({ baseDelayMs: 100, maxDelayMs: 10, jitter: 0 })).toThrow(/maxDelayMs/);
  });

  it('should count failures per key and reset on forget', () => {
    const backoff = new KeyedBackoff({ baseDelayMs: 10, maxDelayMs: 1_000, jitter: 0 });
    backoff.next('a');
    backoff.next('a');
    expect(backoff.failuresOf('a')).toBe(2);
    expect(backoff.failuresOf('b')).toBe(0);
    backoff.forget('a');
    expect(backoff.next('a')).toBe(10);
  });
});
