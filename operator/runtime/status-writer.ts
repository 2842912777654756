import * as k8s from '@kubernetes/client-node';
import type { ResourceRef } from './informer.js';
import { jsonEqual } from './merge-patch.js';
import type { OperatorMetrics } from './metrics.js';

/**
 * Writes `.status` through the status subresource, and only when it changed. The write is a full
 * update (PUT) of the object as read, with the desired status in it, not a merge patch: in a merge
 * patch `null` means "delete this field", so a result the README promises as `null` (an ITL of a
 * one-token answer) would be deleted and the apiserver would refuse the write (422, Required value).
 * The update carries the read resourceVersion, so a write based on a stale read fails with 409 (the
 * reconcile throws and retries on fresh data) instead of silently undoing a newer status.
 */
export interface StatusObject<S> {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
  status?: S;
}

export interface StatusWriteResult<T> {
  written: boolean;
  /** The object returned by the apiserver when written. */
  object?: T;
}

export class StatusWriter {
  private readonly api: k8s.CustomObjectsApi;
  /** Number of writes actually sent; handy for tests, debug logs and bench:operator. */
  writes = 0;

  constructor(
    kubeConfig: k8s.KubeConfig,
    private readonly resource: ResourceRef,
    private readonly metrics?: Pick<OperatorMetrics, 'statusWrites'>,
  ) {
    if (resource.group === '') throw new Error('StatusWriter is for custom resources (a non-empty group)');
    this.api = kubeConfig.makeApiClient(k8s.CustomObjectsApi);
  }

  async writeStatus<S, T extends StatusObject<S>>(current: T, desired: S): Promise<StatusWriteResult<T>> {
    if (current.status !== undefined && jsonEqual(current.status, desired)) return { written: false };
    const name = current.metadata?.name;
    const namespace = current.metadata?.namespace;
    if (!name || !namespace) throw new Error('writeStatus needs an object with metadata.name and namespace');
    if (!current.metadata?.resourceVersion)
      throw new Error('writeStatus needs the resourceVersion the status was computed from');
    const object = (await this.api.replaceNamespacedCustomObjectStatus({
      group: this.resource.group,
      version: this.resource.version,
      plural: this.resource.plural,
      namespace,
      name,
      body: {
        ...current,
        apiVersion: current.apiVersion ?? `${this.resource.group}/${this.resource.version}`,
        status: desired,
      },
    })) as T;
    this.writes++;
    this.metrics?.statusWrites.inc({ resource: this.resource.plural });
    return { written: true, object };
  }
}
