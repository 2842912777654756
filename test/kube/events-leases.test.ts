import * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { adminKubeConfig, uniqueName } from '../support/kube.js';

const namespace = 'default';
const kc = adminKubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);
const coordination = kc.makeApiClient(k8s.CoordinationV1Api);

function statusCode(error: unknown): number | undefined {
  return error instanceof k8s.ApiException ? error.code : undefined;
}

describe('Events and Leases, the objects the operator writes besides its own', () => {
  it('a core/v1 Event about an object is stored and found by the involved object', async () => {
    const involved = uniqueName('benchmark');
    const name = uniqueName('event');
    const now = new Date();
    await core.createNamespacedEvent({
      namespace,
      body: {
        metadata: { name, namespace },
        involvedObject: {
          apiVersion: 'hpcbench.io/v1alpha1',
          kind: 'InferenceBenchmark',
          name: involved,
          namespace,
        },
        type: 'Normal',
        reason: 'JobSubmitted',
        message: 'submitted the ollama job',
        source: { component: 'inference-benchmark-operator' },
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      },
    });
    try {
      const found = await core.listNamespacedEvent({
        namespace,
        fieldSelector: `involvedObject.name=${involved}`,
      });
      expect(found.items).toHaveLength(1);
      expect(found.items[0]).toMatchObject({
        reason: 'JobSubmitted',
        type: 'Normal',
        involvedObject: { kind: 'InferenceBenchmark', name: involved },
      });
    } finally {
      await core.deleteNamespacedEvent({ namespace, name });
    }
  });

  it('a Lease is created with microsecond times, renewed at its resourceVersion, and a stale renew gets 409', async () => {
    const name = uniqueName('leader');
    // V1MicroTime serializes with six fractional digits, which MicroTime fields require.
    const created = await coordination.createNamespacedLease({
      namespace,
      body: {
        metadata: { name, namespace },
        spec: {
          holderIdentity: 'replica-a',
          leaseDurationSeconds: 15,
          acquireTime: new k8s.V1MicroTime(),
          renewTime: new k8s.V1MicroTime(),
          leaseTransitions: 0,
        },
      },
    });
    try {
      expect(created.spec?.holderIdentity).toBe('replica-a');
      const renewTime = new k8s.V1MicroTime(Date.now() + 1000);
      const renewed = await coordination.replaceNamespacedLease({
        namespace,
        name,
        body: { ...created, spec: { ...created.spec, renewTime } },
      });
      expect(renewed.metadata?.resourceVersion).not.toBe(created.metadata?.resourceVersion);
      // client-node 1.4 types MicroTime fields as Date but hands them back as the raw string: parse it.
      expect(typeof renewed.spec?.renewTime).toBe('string');
      expect(String(renewed.spec?.renewTime)).toBe(renewTime.toISOString());

      // Another replica still holding the old resourceVersion must lose: this is the leader-election guard.
      const stale = coordination.replaceNamespacedLease({
        namespace,
        name,
        body: { ...created, spec: { ...created.spec, holderIdentity: 'replica-b' } },
      });
      await expect(stale.catch(statusCode)).resolves.toBe(409);
      const current = await coordination.readNamespacedLease({ namespace, name });
      expect(current.spec?.holderIdentity).toBe('replica-a');
    } finally {
      await coordination.deleteNamespacedLease({ namespace, name });
    }
  });

  it('a Lease time sent as a plain Date (three fractional digits) is refused with 400', async () => {
    const refused = await coordination
      .createNamespacedLease({
        namespace,
        body: {
          metadata: { name: uniqueName('plain-date') },
          spec: { holderIdentity: 'x', renewTime: new Date() },
        },
      })
      .then(
        () => 201,
        (error: unknown) => statusCode(error),
      );
    expect(refused).toBe(400);
  });
});
