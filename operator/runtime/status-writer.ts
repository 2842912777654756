import * as k8s from '@kubernetes/client-node';
import type { ResourceRef } from './informer.js';
import { createMergePatch } from './merge-patch.js';

/**
 * Writes `.status` through the status subresource, and only when it changed: the desired status is
 * diffed against the object as read (from the cache), and the RFC 7386 diff is sent as a merge patch.
 * The patch carries the read resourceVersion, so a write based on a stale read fails with 409 (the
 * reconcile throws and retries on fresh data) instead of silently undoing a newer status.
 */
export interface StatusObject<S> {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
  status?: S;
}

export interface StatusWriteResult<T> {
  written: boolean;
  /** The object returned by the apiserver when written. */
  object?: T;
}

export const mergePatchOptions = (): ReturnType<typeof k8s.setHeaderOptions> =>
  k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

export class StatusWriter {
  private readonly api: k8s.CustomObjectsApi;
  /** Number of writes actually sent; handy for tests and debug logs. */
  writes = 0;

  constructor(
    kubeConfig: k8s.KubeConfig,
    private readonly resource: ResourceRef,
    private readonly options: { checkResourceVersion?: boolean } = {},
  ) {
    if (resource.group === '') throw new Error('StatusWriter is for custom resources (a non-empty group)');
    this.api = kubeConfig.makeApiClient(k8s.CustomObjectsApi);
  }

  async patchStatus<S, T extends StatusObject<S>>(current: T, desired: S): Promise<StatusWriteResult<T>> {
    const patch = createMergePatch(current.status ?? {}, desired);
    if (patch === undefined) return { written: false };
    const name = current.metadata?.name;
    const namespace = current.metadata?.namespace;
    if (!name || !namespace) throw new Error('patchStatus needs an object with metadata.name and namespace');
    const resourceVersion = current.metadata?.resourceVersion;
    const body = {
      ...((this.options.checkResourceVersion ?? true) && resourceVersion
        ? { metadata: { resourceVersion } }
        : {}),
      status: current.status === undefined ? desired : patch,
    };
    const object = (await this.api.patchNamespacedCustomObjectStatus(
      {
        group: this.resource.group,
        version: this.resource.version,
        plural: this.resource.plural,
        namespace,
        name,
        body,
      },
      mergePatchOptions(),
    )) as T;
    this.writes++;
    return { written: true, object };
  }
}
