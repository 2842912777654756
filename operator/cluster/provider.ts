import type { Manager } from '../runtime/manager.js';
import { SessionRegistry } from './registry.js';

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
