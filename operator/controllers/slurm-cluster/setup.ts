import {
  GROUP,
  SLURM_CLUSTER_FINALIZER,
  SLURM_CLUSTER_KIND,
  SLURM_CLUSTER_PLURAL,
  VERSION,
} from '../../../crds/index.js';
import { sessionRegistryFor } from '../../cluster/provider.js';
import type { ResourceRef } from '../../runtime/informer.js';
import { SecretReader } from '../../runtime/secrets.js';
import type { ControllerSetup } from '../registry.js';
import { type SlurmClusterObject, SlurmClusterReconciler } from './reconciler.js';

export const SLURM_CLUSTER_RESOURCE: ResourceRef = {
  group: GROUP,
  version: VERSION,
  plural: SLURM_CLUSTER_PLURAL,
  kind: SLURM_CLUSTER_KIND,
};

const CLUSTER_OWNER_PREFIX = 'slurmcluster:';

/** Registers the SlurmCluster controller; it fills the session registry the benchmarks use. */
export const slurmClusterControllerSetup: ControllerSetup = (manager) => {
  const registry = sessionRegistryFor(manager);
  const clusters = manager.informer<SlurmClusterObject>(SLURM_CLUSTER_RESOURCE);
  const controller = manager.addController<SlurmClusterObject>({
    name: 'slurmcluster',
    forResource: SLURM_CLUSTER_RESOURCE,
    reconciler: new SlurmClusterReconciler({
      clusters,
      registry,
      secrets: new SecretReader(manager.kubeConfig),
      status: manager.statusWriter(SLURM_CLUSTER_RESOURCE),
      finalizers: manager.finalizers(SLURM_CLUSTER_RESOURCE, SLURM_CLUSTER_FINALIZER),
      events: manager.eventRecorder(),
      clock: manager.clock,
    }),
  });
  // The monitoring job moved (seen by the cluster's one batched squeue): look at the cluster again.
  registry.onJobChange((owner) => {
    if (owner.startsWith(CLUSTER_OWNER_PREFIX)) controller.enqueue(owner.slice(CLUSTER_OWNER_PREFIX.length));
  });
};
