import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Condition, setCondition } from '../../operator/runtime/conditions.js';
import { EventRecorder } from '../../operator/runtime/events.js';
import { FinalizerHelper } from '../../operator/runtime/finalizers.js';
import type { ResourceRef } from '../../operator/runtime/informer.js';
import { StatusWriter } from '../../operator/runtime/status-writer.js';
import { adminKubeConfig, uniqueName } from '../support/kube.js';
import { waitFor } from '../support/kube-wait.js';
import {
  createGadgetCrd,
  createNamespace,
  deleteCrd,
  type Gadget,
  gadgetClient,
  quietLogger,
} from './support.js';

interface GadgetStatus {
  phase?: string;
  observedGeneration?: number;
  conditions?: Condition[];
  detail?: string | null;
}

/** Status, finalizer and Event writes against the real apiserver: what is written, and what must not be. */
describe('status, finalizers and Events on a real kube-apiserver', () => {
  let admin: k8s.KubeConfig;
  let resource: ResourceRef & { crdName: string };
  let namespace: string;
  let gadgets: ReturnType<typeof gadgetClient>;

  beforeAll(async () => {
    admin = adminKubeConfig();
    resource = await createGadgetCrd(admin);
    namespace = uniqueName('rt-status');
    await createNamespace(admin, namespace);
    gadgets = gadgetClient(admin, resource);
  });

  afterAll(async () => {
    if (resource) await deleteCrd(admin, resource.crdName);
  });

  it('should patch status only when it changed, and keep lastTransitionTime when only the message moves', async () => {
    const writer = new StatusWriter(admin, resource);
    const created = await gadgets.create(namespace, 'status', 1);
    const t0 = Date.parse('2026-01-01T00:00:00Z');
    const ready = setCondition(
      undefined,
      { type: 'Ready', status: 'False', reason: 'Starting', message: 'a', observedGeneration: 1 },
      t0,
    );
    const first = await writer.writeStatus<GadgetStatus, Gadget>(created, {
      phase: 'Pending',
      observedGeneration: 1,
      conditions: ready.conditions,
      detail: 'temporary',
    });
    expect(first.written).toBe(true);
    const afterFirst = await gadgets.get(namespace, 'status');
    expect(afterFirst.status?.phase).toBe('Pending');

    // The same status again: no request at all, the resourceVersion stays.
    const same = await writer.writeStatus<GadgetStatus, Gadget>(
      afterFirst,
      afterFirst.status as GadgetStatus,
    );
    expect(same.written).toBe(false);
    expect((await gadgets.get(namespace, 'status')).metadata?.resourceVersion).toBe(
      afterFirst.metadata?.resourceVersion,
    );
    expect(writer.writes).toBe(1);

    // Only the message changes (an hour later): written, but lastTransitionTime stays; a dropped key is removed.
    const status = afterFirst.status as GadgetStatus;
    const moved = setCondition(
      status.conditions,
      { type: 'Ready', status: 'False', reason: 'Starting', message: 'b', observedGeneration: 1 },
      t0 + 3_600_000,
    );
    const second = await writer.writeStatus<GadgetStatus, Gadget>(afterFirst, {
      phase: 'Pending',
      observedGeneration: 1,
      conditions: moved.conditions,
    });
    expect(second.written).toBe(true);
    const afterSecond = await gadgets.get(namespace, 'status');
    const stored = (afterSecond.status as GadgetStatus).conditions?.[0];
    expect(stored?.message).toBe('b');
    expect(stored?.lastTransitionTime).toBe('2026-01-01T00:00:00Z');
    expect((afterSecond.status as GadgetStatus).detail).toBeUndefined();
    expect(afterSecond.spec.size).toBe(1); // spec untouched

    // null is a value, not "delete this field": a figure that cannot be computed is stored as null.
    const third = await writer.writeStatus<GadgetStatus, Gadget>(afterSecond, {
      ...(afterSecond.status as GadgetStatus),
      detail: null,
    });
    expect(third.written).toBe(true);
    const afterThird = await gadgets.get(namespace, 'status');
    expect(afterThird.status).toHaveProperty('detail', null);

    // A write based on a stale read is refused (409) rather than undoing the newer status.
    await expect(
      writer.writeStatus<GadgetStatus, Gadget>(afterFirst, { phase: 'Stale', observedGeneration: 1 }),
    ).rejects.toMatchObject({ code: 409 });
    expect((await gadgets.get(namespace, 'status')).status?.phase).toBe('Pending');
  });

  it('should add a finalizer once and remove it again with metadata patches only', async () => {
    const finalizers = new FinalizerHelper(admin, resource, 'hpcbench.io/test-cleanup');
    const created = await gadgets.create(namespace, 'finalized', 2);
    const added = await finalizers.ensure(created);
    expect(added?.metadata?.finalizers).toEqual(['hpcbench.io/test-cleanup']);
    expect(await finalizers.ensure(added!)).toBeUndefined();

    await gadgets.remove(namespace, 'finalized');
    const deleting = await gadgets.get(namespace, 'finalized');
    expect(deleting.metadata?.deletionTimestamp).toBeDefined();
    await finalizers.remove(deleting);
    await waitFor('the object to be gone', async () => {
      try {
        await gadgets.get(namespace, 'finalized');
        return undefined;
      } catch (error) {
        return (error as { code?: number }).code === 404 ? true : undefined;
      }
    });
  });

  it('should count a repeated Event instead of creating a second one', async () => {
    const recorder = new EventRecorder(admin, 'runtime-test', quietLogger);
    const target = await gadgets.create(namespace, 'evented', 3);
    await recorder.record(target, 'Normal', 'Started', 'it started');
    await recorder.record(target, 'Normal', 'Started', 'it started');
    await recorder.record(target, 'Warning', 'Broke', 'it broke');
    const core = admin.makeApiClient(k8s.CoreV1Api);
    const events = await core.listNamespacedEvent({
      namespace,
      fieldSelector: `involvedObject.name=evented`,
    });
    const byReason = new Map(events.items.map((event) => [event.reason, event]));
    expect(events.items).toHaveLength(2);
    expect(byReason.get('Started')?.count).toBe(2);
    expect(byReason.get('Broke')?.type).toBe('Warning');
    expect(byReason.get('Started')?.involvedObject.uid).toBe(target.metadata?.uid);
  });
});
