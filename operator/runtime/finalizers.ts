import * as k8s from '@kubernetes/client-node';
import type { ResourceRef } from './informer.js';
import { mergePatchOptions } from './merge-patch.js';

/**
 * Adds or removes one finalizer with a metadata merge patch (never an update of the whole object, so the
 * operator never writes spec). The list is sent whole with the read resourceVersion: a concurrent change
 * of the finalizers by someone else makes ours fail with 409 rather than drop theirs.
 */
export interface FinalizedObject {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string; finalizers?: string[] };
}

export function hasFinalizer(object: FinalizedObject, finalizer: string): boolean {
  return object.metadata?.finalizers?.includes(finalizer) ?? false;
}

export class FinalizerHelper {
  private readonly api: k8s.CustomObjectsApi;

  constructor(
    kubeConfig: k8s.KubeConfig,
    private readonly resource: ResourceRef,
    readonly finalizer: string,
  ) {
    this.api = kubeConfig.makeApiClient(k8s.CustomObjectsApi);
  }

  /** Returns the patched object, or undefined when the finalizer was already there. */
  async ensure<T extends FinalizedObject>(object: T): Promise<T | undefined> {
    if (hasFinalizer(object, this.finalizer)) return undefined;
    return this.write(object, [...(object.metadata?.finalizers ?? []), this.finalizer]);
  }

  /** Returns the patched object, or undefined when the finalizer was not there. */
  async remove<T extends FinalizedObject>(object: T): Promise<T | undefined> {
    if (!hasFinalizer(object, this.finalizer)) return undefined;
    return this.write(
      object,
      (object.metadata?.finalizers ?? []).filter((finalizer) => finalizer !== this.finalizer),
    );
  }

  private async write<T extends FinalizedObject>(object: T, finalizers: string[]): Promise<T> {
    const name = object.metadata?.name;
    const namespace = object.metadata?.namespace;
    if (!name || !namespace) throw new Error('finalizer patch needs metadata.name and namespace');
    const resourceVersion = object.metadata?.resourceVersion;
    return (await this.api.patchNamespacedCustomObject(
      {
        group: this.resource.group,
        version: this.resource.version,
        plural: this.resource.plural,
        namespace,
        name,
        body: { metadata: { finalizers, ...(resourceVersion ? { resourceVersion } : {}) } },
      },
      mergePatchOptions(),
    )) as T;
  }
}
