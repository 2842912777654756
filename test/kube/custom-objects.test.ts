import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminKubeConfig, uniqueName } from '../support/kube.js';
import { waitFor } from '../support/wait.js';
import { applyCrdAndWaitEstablished, deleteCrd } from './fixtures/crd-lifecycle.js';
import { type Widget, widget, widgetCrd } from './fixtures/widget-crd.js';

const crd = widgetCrd();
const namespace = 'default';
const kc = adminKubeConfig();
const custom = kc.makeApiClient(k8s.CustomObjectsApi);
const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
const target = { group: crd.group, version: crd.version, namespace, plural: crd.plural };

// The custom-objects API is untyped (it returns any); the tests know what they stored.
async function getWidget(name: string): Promise<Widget> {
  return (await custom.getNamespacedCustomObject({ ...target, name })) as Widget;
}

describe('custom objects of an Established CRD, through @kubernetes/client-node', () => {
  beforeAll(async () => {
    await applyCrdAndWaitEstablished(crd);
  });
  afterAll(async () => {
    await deleteCrd(crd);
  });

  it('an informer sees the object added, updated and deleted', async () => {
    const name = uniqueName('watched');
    const seen: Array<{ verb: string; size: number | undefined }> = [];
    const listWidgets = async () =>
      (await custom.listNamespacedCustomObject(target)) as k8s.KubernetesListObject<Widget>;
    const informer = k8s.makeInformer<Widget>(
      kc,
      `/apis/${crd.group}/${crd.version}/namespaces/${namespace}/${crd.plural}`,
      listWidgets,
    );
    const record = (verb: string) => (object: Widget) => {
      if (object.metadata.name === name) seen.push({ verb, size: object.spec?.size });
    };
    informer.on(k8s.ADD, record('add'));
    informer.on(k8s.UPDATE, record('update'));
    informer.on(k8s.DELETE, record('delete'));
    const errors: unknown[] = [];
    informer.on(k8s.ERROR, (error) => errors.push(error));
    await informer.start();
    try {
      await custom.createNamespacedCustomObject({ ...target, body: widget(crd, name, { size: 1 }) });
      await waitFor('the add event', async () => (seen.some((e) => e.verb === 'add') ? true : undefined));

      await custom.patchNamespacedCustomObject({ ...target, name, body: { spec: { size: 2 } } }, mergePatch);
      await waitFor('the update event', async () =>
        seen.some((e) => e.verb === 'update' && e.size === 2) ? true : undefined,
      );
      expect(informer.get(name, namespace)?.spec.size).toBe(2);

      await custom.deleteNamespacedCustomObject({ ...target, name });
      await waitFor('the delete event', async () =>
        seen.some((e) => e.verb === 'delete') ? true : undefined,
      );
      expect(informer.get(name, namespace)).toBeUndefined();
      expect(seen.map((e) => e.verb)).toEqual(['add', 'update', 'delete']);
      expect(errors).toEqual([]);
    } finally {
      await informer.stop();
    }
  });

  it('a status patched through the status subresource is stored, and spec in that patch is ignored', async () => {
    const name = uniqueName('status');
    await custom.createNamespacedCustomObject({ ...target, body: widget(crd, name, { size: 3 }) });
    try {
      const before = await getWidget(name);
      await custom.patchNamespacedCustomObjectStatus(
        { ...target, name, body: { spec: { size: 99 }, status: { phase: 'Ready', observedGeneration: 1 } } },
        mergePatch,
      );
      const after = await getWidget(name);
      expect(after.status).toEqual({ phase: 'Ready', observedGeneration: 1 });
      expect(after.spec.size).toBe(3);
      // A status write is not a spec change: the generation stays, so observedGeneration stays meaningful.
      expect(after.metadata.generation).toBe(before.metadata.generation);
    } finally {
      await custom.deleteNamespacedCustomObject({ ...target, name });
    }
  });

  it('a status written through the main resource is ignored once the status subresource exists', async () => {
    const name = uniqueName('no-status');
    await custom.createNamespacedCustomObject({ ...target, body: widget(crd, name, { size: 4 }) });
    try {
      await custom.patchNamespacedCustomObject(
        { ...target, name, body: { spec: { size: 5 }, status: { phase: 'Sneaky' } } },
        mergePatch,
      );
      const after = await getWidget(name);
      expect(after.spec.size).toBe(5);
      expect(after.status?.phase).toBeUndefined();
      expect(after.metadata.generation).toBe(2);
    } finally {
      await custom.deleteNamespacedCustomObject({ ...target, name });
    }
  });
});
