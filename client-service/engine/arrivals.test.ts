import { describe, expect, it } from 'vitest';
import { exponentialGapMs, seededRandom } from './arrivals.js';

describe('Poisson arrivals', () => {
  it('have a mean gap of 1/rate', () => {
    const random = seededRandom(42);
    let sum = 0;
    const n = 200_000;
    for (let i = 0; i < n; i++) sum += exponentialGapMs(50, random);
    expect(sum / n).toBeGreaterThan(19.8);
    expect(sum / n).toBeLessThan(20.2);
  });

  it('repeat the same schedule for the same seed', () => {
    const a = seededRandom(7);
    const b = seededRandom(7);
    for (let i = 0; i < 10; i++) expect(a()).toBe(b());
  });
});
