import { describe, expect, it } from 'vitest';
import { type AdmissionCandidate, ClusterAdmission } from './admission.js';

const C = 'team/sandbox';

function candidate(
  key: string,
  createdAt: number,
  more: Partial<AdmissionCandidate> = {},
): AdmissionCandidate {
  return { key, createdAt, runId: `${key}-r1`, holdsJobs: false, settled: false, ...more };
}

describe('ClusterAdmission', () => {
  it('admits everyone when the cluster sets no limit', () => {
    const admission = new ClusterAdmission();
    const all = Array.from({ length: 50 }, (_, i) => candidate(`team/b${i}`, i));
    expect(all.every((c) => admission.decide(C, c.key, undefined, all).admitted)).toBe(true);
  });

  it('admits at most `limit` at once even when every reconcile asks before any status shows jobs', () => {
    const admission = new ClusterAdmission();
    const all = Array.from({ length: 10 }, (_, i) => candidate(`team/b${i}`, i));
    // Newest first: the order reconciles happen to run in must not matter.
    const admitted = [...all].reverse().filter((c) => admission.decide(C, c.key, 3, all).admitted);
    expect(admitted.map((c) => c.key).sort()).toEqual(['team/b0', 'team/b1', 'team/b2']);
  });

  it('gives the place in line by creation time, then by name', () => {
    const admission = new ClusterAdmission();
    const all = [
      candidate('team/running', 0, { holdsJobs: true }),
      candidate('team/z', 5),
      candidate('team/a', 5),
      candidate('team/late', 9),
    ];
    expect(admission.decide(C, 'team/late', 1, all)).toEqual({ admitted: false, active: 1, position: 3 });
    expect(admission.decide(C, 'team/z', 1, all)).toEqual({ admitted: false, active: 1, position: 2 });
    expect(admission.decide(C, 'team/a', 1, all)).toEqual({ admitted: false, active: 1, position: 1 });
  });

  it('does not count settled or deleted benchmarks, and keeps admitting one that already holds jobs', () => {
    const admission = new ClusterAdmission();
    const all = [
      candidate('team/done', 0, { holdsJobs: true, settled: true }),
      candidate('team/holder', 1, { holdsJobs: true }),
      candidate('team/next', 2),
    ];
    expect(admission.decide(C, 'team/next', 1, all).admitted).toBe(false);
    expect(admission.decide(C, 'team/holder', 1, all).admitted).toBe(true);
    expect(admission.decide(C, 'team/next', 2, all).admitted).toBe(true);
  });

  it('frees the place of a released run before the cache shows it settled, and only for that run', () => {
    const admission = new ClusterAdmission();
    const holder = candidate('team/holder', 0, { holdsJobs: true });
    const next = candidate('team/next', 1);
    expect(admission.decide(C, next.key, 1, [holder, next]).admitted).toBe(false);
    expect(admission.release(C, holder.key, holder.runId)).toBe(true);
    expect(admission.release(C, holder.key, holder.runId)).toBe(false);
    expect(admission.decide(C, next.key, 1, [holder, next]).admitted).toBe(true);
    // A spec change gave the holder a new run: it needs (and here holds) a place again.
    const rerun = { ...holder, runId: 'team/holder-r2' };
    const third = candidate('team/third', 2);
    expect(admission.decide(C, third.key, 2, [rerun, next, third]).admitted).toBe(false);
  });

  it('ends a reservation once its benchmark is gone or forgotten', () => {
    const admission = new ClusterAdmission();
    const first = candidate('team/first', 0);
    const second = candidate('team/second', 1);
    expect(admission.decide(C, first.key, 1, [first, second]).admitted).toBe(true);
    expect(admission.decide(C, second.key, 1, [first, second]).admitted).toBe(false);
    expect(admission.decide(C, second.key, 1, [second]).admitted).toBe(true);
    admission.forget(C, second.key);
    const third = candidate('team/third', 2);
    expect(admission.decide(C, third.key, 1, [third]).admitted).toBe(true);
  });

  it('keeps clusters apart', () => {
    const admission = new ClusterAdmission();
    const a = candidate('team/a', 0);
    const b = candidate('team/b', 0);
    expect(admission.decide('team/one', a.key, 1, [a]).admitted).toBe(true);
    expect(admission.decide('team/two', b.key, 1, [b]).admitted).toBe(true);
  });
});
