import { describe, expect, it } from 'vitest';
import { type AdmissionCandidate, admissibleNow, decideAdmission } from './admission.js';

const at = (second: number) => Date.parse(`2026-01-01T00:00:${String(second).padStart(2, '0')}Z`);
const candidate = (
  key: string,
  second: number,
  extra: Partial<AdmissionCandidate> = {},
): AdmissionCandidate => ({
  key,
  createdAt: at(second),
  holdsPlace: false,
  settled: false,
  ...extra,
});

describe('decideAdmission', () => {
  it('admits everyone when the cluster sets no limit', () => {
    expect(decideAdmission(candidate('ns/a', 1), undefined, [])).toEqual({
      admitted: true,
      alreadyHeld: false,
    });
  });

  it('keeps a place that is held, whatever the line', () => {
    const others = [candidate('ns/b', 0, { holdsPlace: true })];
    expect(decideAdmission(candidate('ns/a', 1, { holdsPlace: true }), 1, others)).toEqual({
      admitted: true,
      alreadyHeld: true,
    });
  });

  it('never gives more than `limit` places, whichever benchmark asks first, as long as all see the same objects', () => {
    const all = ['ns/a', 'ns/b', 'ns/c', 'ns/d', 'ns/e'].map((key, i) => candidate(key, i));
    // Every benchmark decides on the same (stale) view in which nobody holds a place yet.
    const admitted = all.filter((self) => decideAdmission(self, 2, all).admitted).map((c) => c.key);
    expect(admitted).toEqual(['ns/a', 'ns/b']);
  });

  it('counts a place given but not yet visible as one waiting ahead, so a lagging view waits rather than overfills', () => {
    // a got the place (its write is not visible to this decider yet), b holds one: c must wait.
    const view = [candidate('ns/a', 0), candidate('ns/b', 1, { holdsPlace: true })];
    expect(decideAdmission(candidate('ns/c', 2), 2, view)).toEqual({
      admitted: false,
      active: 1,
      position: 2,
    });
  });

  it('gives the place in line by creation time, then by name', () => {
    const view = [candidate('ns/z', 5), candidate('ns/y', 5), candidate('ns/x', 9)];
    expect(decideAdmission(candidate('ns/y', 5), 1, view).admitted).toBe(true);
    expect(decideAdmission(candidate('ns/z', 5), 1, view)).toEqual({
      admitted: false,
      active: 0,
      position: 2,
    });
  });

  it('does not count settled or deleted benchmarks', () => {
    const view = [
      candidate('ns/a', 0, { holdsPlace: true, settled: true }),
      candidate('ns/b', 1, { settled: true }),
    ];
    expect(decideAdmission(candidate('ns/c', 2), 1, view).admitted).toBe(true);
  });
});

describe('admissibleNow', () => {
  it('names the first waiting benchmarks of the line, as many as there are free places', () => {
    const observed = [
      candidate('ns/e', 4),
      candidate('ns/held', 0, { holdsPlace: true }),
      candidate('ns/c', 2),
      candidate('ns/done', 1, { holdsPlace: true, settled: true }),
      candidate('ns/d', 3),
    ];
    expect(admissibleNow(3, observed)).toEqual(['ns/c', 'ns/d']);
  });

  it('names exactly the benchmarks decideAdmission admits on the same view', () => {
    const observed = ['ns/a', 'ns/b', 'ns/c', 'ns/d', 'ns/e'].map((key, i) =>
      candidate(key, i % 2, { holdsPlace: key === 'ns/b', settled: key === 'ns/d' }),
    );
    for (const limit of [undefined, 0, 1, 2, 3, 5]) {
      const admitted = observed
        .filter(
          (self) => !self.holdsPlace && !self.settled && decideAdmission(self, limit, observed).admitted,
        )
        .map((self) => self.key)
        .sort();
      expect([...admissibleNow(limit, observed)].sort()).toEqual(admitted);
    }
  });

  it('names nobody while the places held fill the limit (a lowered limit included)', () => {
    const observed = [
      candidate('ns/a', 0, { holdsPlace: true }),
      candidate('ns/b', 1, { holdsPlace: true }),
      candidate('ns/c', 2),
    ];
    expect(admissibleNow(2, observed)).toEqual([]);
    expect(admissibleNow(1, observed)).toEqual([]);
  });
});
