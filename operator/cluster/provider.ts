import type { Manager } from '../runtime/manager.js';
import { SessionRegistry } from './registry.js';

/** This replica's lease is not fresh enough to start a side effect on a cluster; the reconcile retries. */
export class NotLeaderError extends Error {
  constructor() {
    super('not allowed to act on the cluster: this replica has not renewed its leader lease in time');
    this.name = 'NotLeaderError';
  }
}

const registries = new WeakMap<Manager, SessionRegistry>();

/**
 * The one session registry of a manager, shared by the SlurmCluster controller (which fills it) and the
 * InferenceBenchmark controller (which looks sessions up), whichever registers first.
 */
export function sessionRegistryFor(manager: Manager): SessionRegistry {
  let registry = registries.get(manager);
  if (!registry) {
    const log = manager.logger.child({ component: 'cluster-sessions' });
    registry = new SessionRegistry({
      base: {
        clock: manager.clock,
        metrics: manager.metrics,
        onWarning: (message, detail) => log.warn(detail, message),
        fence: () => {
          if (!manager.mayAct()) throw new NotLeaderError();
        },
      },
    });
    registries.set(manager, registry);
  }
  return registry;
}

/** Owner key of a cluster's own jobs (the monitoring job), apart from benchmark keys "namespace/name". */
export function clusterOwnerKey(clusterKey: string): string {
  return `slurmcluster:${clusterKey}`;
}
