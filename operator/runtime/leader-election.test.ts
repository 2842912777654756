import * as k8s from '@kubernetes/client-node';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { FakeClock } from './clock.js';
import {
  DEFAULT_LEADER_ELECTION_TIMINGS,
  LeaderElector,
  type LeaseApi,
  validateLeaderElectionTimings,
} from './leader-election.js';

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

describe('LeaderElector fencing', () => {
  /** A Lease store in memory; `down` makes every call fail as an unreachable apiserver would. */
  function fakeLeaseApi() {
    const store: { lease?: k8s.V1Lease; version: number; down: boolean } = { version: 0, down: false };
    const unreachable = () => Promise.reject(new Error('connect ECONNREFUSED'));
    const api: LeaseApi = {
      readNamespacedLease: () => {
        if (store.down) return unreachable();
        if (!store.lease) return Promise.reject(Object.assign(new Error('not found'), { code: 404 }));
        return Promise.resolve(structuredClone(store.lease));
      },
      createNamespacedLease: ({ body }) => {
        if (store.down) return unreachable();
        store.version++;
        store.lease = { ...body, metadata: { ...body.metadata, resourceVersion: String(store.version) } };
        return Promise.resolve(structuredClone(store.lease));
      },
      replaceNamespacedLease: ({ body }) => {
        if (store.down) return unreachable();
        if (body.metadata?.resourceVersion !== store.lease?.metadata?.resourceVersion)
          return Promise.reject(Object.assign(new Error('conflict'), { code: 409 }));
        store.version++;
        store.lease = { ...body, metadata: { ...body.metadata, resourceVersion: String(store.version) } };
        return Promise.resolve(structuredClone(store.lease));
      },
    } as LeaseApi;
    return { api, store };
  }

  it('stops allowing side effects renewDeadline after the last renewal was sent, before anyone may take over', async () => {
    const clock = new FakeClock();
    const { api, store } = fakeLeaseApi();
    let lost = false;
    const elector = new LeaderElector({
      kubeConfig: new k8s.KubeConfig(),
      api,
      namespace: 'ns',
      name: 'lease',
      identity: 'a',
      clock,
      random: () => 0,
      logger: pino({ level: 'silent' }),
      onStoppedLeading: () => {
        lost = true;
      },
    });
    elector.start();
    await clock.advance(0);
    expect(elector.isLeader()).toBe(true);
    expect(elector.mayAct()).toBe(true);
    await clock.advance(6_000); // renewed every 2 s meanwhile
    expect(elector.mayAct()).toBe(true);
    const lastRenew = clock.now() - ((clock.now() - Date.parse('2026-01-01T00:00:00Z')) % 2_000);
    store.down = true;
    await clock.advance(lastRenew + 9_000 - clock.now());
    expect(elector.mayAct()).toBe(true);
    // Still "leading" for a while (the renew loop has not given up), but no longer allowed to act.
    await clock.advance(1_000);
    expect(elector.isLeader()).toBe(true);
    expect(elector.mayAct()).toBe(false);
    expect(lastRenew + 10_000).toBeLessThan(lastRenew + 15_000); // renewDeadline < leaseDuration
    await clock.advance(20_000);
    expect(lost).toBe(true);
    expect(elector.mayAct()).toBe(false);
    await elector.stop();
  });

  it('never allows side effects while standing by', async () => {
    const clock = new FakeClock();
    const { api, store } = fakeLeaseApi();
    store.version = 1;
    store.lease = {
      metadata: { name: 'lease', namespace: 'ns', resourceVersion: '1' },
      spec: {
        holderIdentity: 'other',
        leaseDurationSeconds: 15,
        renewTime: new k8s.V1MicroTime(clock.now()),
      },
    };
    const elector = new LeaderElector({
      kubeConfig: new k8s.KubeConfig(),
      api,
      namespace: 'ns',
      name: 'lease',
      identity: 'b',
      clock,
      random: () => 0,
      logger: pino({ level: 'silent' }),
    });
    elector.start();
    await clock.advance(4_000);
    expect(elector.isLeader()).toBe(false);
    expect(elector.mayAct()).toBe(false);
    await elector.stop();
  });
});
