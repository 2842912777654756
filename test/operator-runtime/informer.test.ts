import type * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResilientInformer, type ResourceRef } from '../../operator/runtime/informer.js';
import { OperatorMetrics } from '../../operator/runtime/metrics.js';
import { adminKubeConfig, uniqueName } from '../support/kube.js';
import { waitFor } from '../support/kube-wait.js';
import {
  createGadgetCrd,
  createNamespace,
  deleteCrd,
  type Gadget,
  gadgetClient,
  kubeConfigThroughProxy,
  quietLogger,
  TcpProxy,
} from './support.js';

/**
 * The informer against the sandbox's real kube-apiserver, reached through a loopback TCP proxy so the test
 * can break the watch the two ways that happen in production: a reset connection, and a silent half-open one.
 */
type Seen = { kind: 'add' | 'update' | 'delete'; name: string; size: number | undefined };

function recordingInformer(options: ConstructorParameters<typeof ResilientInformer<Gadget>>[0]) {
  const informer = new ResilientInformer<Gadget>(options);
  const seen: Seen[] = [];
  const push = (kind: Seen['kind']) => (object: Gadget) =>
    seen.push({ kind, name: object.metadata?.name ?? '', size: object.spec?.size });
  informer.addEventHandler({ onAdd: push('add'), onUpdate: push('update'), onDelete: push('delete') });
  return { informer, seen };
}

async function restarts(metrics: OperatorMetrics, cause: string): Promise<number> {
  const values = (await metrics.informerRestarts.get()).values;
  return values.filter((value) => value.labels.cause === cause).reduce((sum, value) => sum + value.value, 0);
}

describe('ResilientInformer on a real kube-apiserver', () => {
  let admin: k8s.KubeConfig;
  let resource: ResourceRef & { crdName: string };
  let namespace: string;
  let otherNamespace: string;
  let proxy: TcpProxy;
  let throughProxy: k8s.KubeConfig;
  let gadgets: ReturnType<typeof gadgetClient>;
  const informers: ResilientInformer<Gadget>[] = [];

  beforeAll(async () => {
    admin = adminKubeConfig();
    resource = await createGadgetCrd(admin);
    namespace = uniqueName('rt-informer');
    otherNamespace = uniqueName('rt-informer-other');
    await createNamespace(admin, namespace);
    await createNamespace(admin, otherNamespace);
    proxy = TcpProxy.forUrl(admin.getCurrentCluster()!.server);
    await proxy.listen();
    throughProxy = kubeConfigThroughProxy(admin, proxy.port);
    gadgets = gadgetClient(admin, resource);
  });

  afterAll(async () => {
    await Promise.all(informers.map((informer) => informer.stop()));
    await proxy?.close();
    if (resource) await deleteCrd(admin, resource.crdName);
  });

  it('should see an add, an update and a delete, and keep the cache in step', async () => {
    const { informer, seen } = recordingInformer({
      kubeConfig: throughProxy,
      resource,
      namespaces: [namespace],
      logger: quietLogger,
    });
    informers.push(informer);
    await informer.start();
    expect(await informer.waitForSync(30_000)).toBe(true);

    await gadgets.create(namespace, 'a', 1);
    await waitFor('add of a', () =>
      seen.some((s) => s.kind === 'add' && s.name === 'a') ? true : undefined,
    );
    expect(informer.get(namespace, 'a')?.spec.size).toBe(1);

    await gadgets.setSize(namespace, 'a', 2);
    await waitFor('update of a', () =>
      seen.some((s) => s.kind === 'update' && s.name === 'a' && s.size === 2) ? true : undefined,
    );
    expect(informer.get(namespace, 'a')?.spec.size).toBe(2);

    await gadgets.remove(namespace, 'a');
    await waitFor('delete of a', () =>
      seen.some((s) => s.kind === 'delete' && s.name === 'a') ? true : undefined,
    );
    expect(informer.get(namespace, 'a')).toBeUndefined();
    await informer.stop();
  });

  it('should watch only the namespaces it was given, or all of them when given none', async () => {
    const one = recordingInformer({
      kubeConfig: admin,
      resource,
      namespaces: [otherNamespace],
      logger: quietLogger,
    });
    const all = recordingInformer({ kubeConfig: admin, resource, namespaces: [], logger: quietLogger });
    informers.push(one.informer, all.informer);
    await Promise.all([one.informer.start(), all.informer.start()]);
    await gadgets.create(namespace, 'in-first', 1);
    await gadgets.create(otherNamespace, 'in-other', 1);
    await waitFor('cluster-wide informer sees both', () =>
      all.informer.get(namespace, 'in-first') && all.informer.get(otherNamespace, 'in-other')
        ? true
        : undefined,
    );
    await waitFor('namespaced informer sees its own', () => one.informer.get(otherNamespace, 'in-other'));
    expect(one.seen.map((s) => s.name)).not.toContain('in-first');
    expect(one.informer.list().map((g) => g.metadata?.namespace)).toEqual([otherNamespace]);
    await Promise.all([one.informer.stop(), all.informer.stop()]);
  });

  it('should recover after its watch connection is reset and see what changed meanwhile', async () => {
    const metrics = new OperatorMetrics({ defaultMetrics: false });
    const { informer, seen } = recordingInformer({
      kubeConfig: throughProxy,
      resource,
      namespaces: [namespace],
      logger: quietLogger,
      metrics,
      restartBaseDelayMs: 200,
    });
    informers.push(informer);
    await informer.start();
    await waitFor('a watch connection through the proxy', () =>
      proxy.openConnections() > 0 ? true : undefined,
    );
    const acceptedBefore = proxy.accepted;

    proxy.cut();
    await gadgets.create(namespace, 'after-cut', 3);

    await waitFor('the object created while the watch was cut', () => informer.get(namespace, 'after-cut'), {
      timeoutMs: 30_000,
    });
    expect(seen.some((s) => s.name === 'after-cut')).toBe(true);
    expect(proxy.accepted).toBeGreaterThan(acceptedBefore);
    // And it keeps watching after the recovery.
    await gadgets.setSize(namespace, 'after-cut', 4);
    await waitFor('an update after recovery', () =>
      informer.get(namespace, 'after-cut')?.spec.size === 4 ? true : undefined,
    );
    await informer.stop();
  });

  it('should restart a silently frozen watch through the watchdog and report the deletes it missed', async () => {
    const metrics = new OperatorMetrics({ defaultMetrics: false });
    const { informer, seen } = recordingInformer({
      kubeConfig: throughProxy,
      resource,
      namespaces: [namespace],
      logger: quietLogger,
      metrics,
      watchIdleTimeoutMs: 2_000,
    });
    informers.push(informer);
    await gadgets.create(namespace, 'doomed', 5);
    await informer.start();
    await waitFor('doomed in cache', () => informer.get(namespace, 'doomed'));

    expect(proxy.freeze()).toBeGreaterThan(0);
    await gadgets.remove(namespace, 'doomed');
    await gadgets.create(namespace, 'born-while-frozen', 6);

    await waitFor(
      'the cache to catch up after the watchdog fired',
      () =>
        informer.get(namespace, 'born-while-frozen') && !informer.get(namespace, 'doomed') ? true : undefined,
      { timeoutMs: 30_000 },
    );
    expect(seen).toContainEqual({ kind: 'delete', name: 'doomed', size: 5 });
    expect(await restarts(metrics, 'watchdog')).toBeGreaterThan(0);
    await informer.stop();
  });

  it('should relist periodically and report every live object again as a resync update', async () => {
    const metrics = new OperatorMetrics({ defaultMetrics: false });
    const { informer, seen } = recordingInformer({
      kubeConfig: throughProxy,
      resource,
      namespaces: [namespace],
      logger: quietLogger,
      metrics,
      relistIntervalMs: 1_500,
    });
    informers.push(informer);
    await gadgets.create(namespace, 'relisted', 7);
    await informer.start();
    await waitFor('relisted in cache', () => informer.get(namespace, 'relisted'));
    await waitFor('a periodic relist', async () =>
      (await restarts(metrics, 'relist')) > 0 ? true : undefined,
    );
    // A relist resyncs: every live object is reported again as an update.
    await waitFor('a resync update', () =>
      seen.some((s) => s.kind === 'update' && s.name === 'relisted') ? true : undefined,
    );
    await informer.stop();
  });
});
