import { describe, expect, it } from 'vitest';
import { roundNumbers } from './round-numbers.js';

describe('roundNumbers', () => {
  it('keeps three decimals everywhere in a results object and leaves nulls, integers and strings alone', () => {
    expect(
      roundNumbers({
        outputTokensPerSecond: 14.452010864985795,
        counts: { requests: 4 },
        ttftMs: { p50: 1309.8335890001617, p99: null },
        errors: [{ kind: 'timeout', count: 1 }],
      }),
    ).toEqual({
      outputTokensPerSecond: 14.452,
      counts: { requests: 4 },
      ttftMs: { p50: 1309.834, p99: null },
      errors: [{ kind: 'timeout', count: 1 }],
    });
  });
});
