import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeaderElector, type LeaderElectorOptions } from '../../operator/runtime/leader-election.js';
import { adminKubeConfig, uniqueName } from '../support/kube.js';
import { waitFor } from '../support/kube-wait.js';
import { createNamespace, quietLogger } from './support.js';

/** Electors racing for one real Lease on the sandbox's kube-apiserver, with short (valid) timings. */
const fast = { leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 400 };

describe('LeaderElector on a real Lease', () => {
  let admin: k8s.KubeConfig;
  let namespace: string;
  let leases: k8s.CoordinationV1Api;
  const electors: LeaderElector[] = [];

  function elector(name: string, identity: string, extra: Partial<LeaderElectorOptions> = {}): LeaderElector {
    const created = new LeaderElector({
      kubeConfig: admin,
      namespace,
      name,
      identity,
      logger: quietLogger,
      ...fast,
      ...extra,
    });
    electors.push(created);
    return created;
  }

  beforeAll(async () => {
    admin = adminKubeConfig();
    namespace = uniqueName('rt-lease');
    await createNamespace(admin, namespace);
    leases = admin.makeApiClient(k8s.CoordinationV1Api);
  });

  afterAll(async () => {
    await Promise.all(electors.map((e) => e.stop()));
  });

  it('should let exactly one of two electors lead, and hand over when the leader stops', async () => {
    const name = uniqueName('pair');
    const first = elector(name, 'first');
    const second = elector(name, 'second');
    first.start();
    await waitFor('first to lead', () => (first.isLeader() ? true : undefined));
    second.start();
    // The second one talks to the apiserver, sees a live holder, and stands by.
    await waitFor('second to stand by healthily', () =>
      second.isHealthy() && !second.isLeader() ? true : undefined,
    );

    const lease = await leases.readNamespacedLease({ name, namespace });
    expect(lease.spec?.holderIdentity).toBe('first');
    // MicroTime went over the wire with 6 fractional digits and the apiserver kept it.
    expect(String(lease.spec?.renewTime)).toMatch(/\.\d{6}Z$/);
    expect(lease.spec?.leaseDurationSeconds).toBe(3);

    await first.stop(); // releases the Lease
    expect(first.getState()).toBe('stopped');
    await waitFor('second to take over', () => (second.isLeader() ? true : undefined), { timeoutMs: 15_000 });
    const after = await leases.readNamespacedLease({ name, namespace });
    expect(after.spec?.holderIdentity).toBe('second');
    expect(after.spec?.leaseTransitions).toBe(1);
  });

  it('should take over a Lease whose holder vanished without releasing it, only after it expires', async () => {
    const name = uniqueName('crash');
    const crashed = elector(name, 'crashed', { releaseOnStop: false });
    crashed.start();
    await waitFor('crashed to lead', () => (crashed.isLeader() ? true : undefined));
    await crashed.stop(); // like a killed process: the Lease still names it

    const successor = elector(name, 'successor');
    successor.start();
    await waitFor('successor to have read the Lease', () => (successor.isHealthy() ? true : undefined));
    expect(successor.isLeader()).toBe(false);
    await waitFor('successor to lead after expiry', () => (successor.isLeader() ? true : undefined), {
      timeoutMs: 20_000,
    });
    const lease = await leases.readNamespacedLease({ name, namespace });
    expect(lease.spec?.holderIdentity).toBe('successor');
  });

  it('should give up and call onStoppedLeading when someone else takes the Lease from under it', async () => {
    const name = uniqueName('stolen');
    let stoppedLeading = 0;
    const victim = elector(name, 'victim', { onStoppedLeading: () => stoppedLeading++ });
    victim.start();
    await waitFor('victim to lead', () => (victim.isLeader() ? true : undefined));

    const lease = await leases.readNamespacedLease({ name, namespace });
    await leases.replaceNamespacedLease({
      name,
      namespace,
      body: {
        ...lease,
        spec: {
          ...lease.spec,
          holderIdentity: 'intruder',
          leaseDurationSeconds: 60,
          renewTime: new k8s.V1MicroTime(),
        },
      },
    });

    await waitFor('victim to notice it lost', () => (victim.getState() === 'lost' ? true : undefined), {
      timeoutMs: 15_000,
    });
    expect(stoppedLeading).toBe(1);
    expect(victim.isHealthy()).toBe(false);
    const after = await leases.readNamespacedLease({ name, namespace });
    expect(after.spec?.holderIdentity).toBe('intruder');
  });
});
