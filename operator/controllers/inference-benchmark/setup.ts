import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  BENCHMARK_FINALIZER,
  BENCHMARK_PHASES,
  GROUP,
  INFERENCE_BENCHMARK_KIND,
  INFERENCE_BENCHMARK_PLURAL,
  SLURM_CLUSTER_KIND,
  SLURM_CLUSTER_PLURAL,
  VERSION,
} from '../../../crds/index.js';
import { sessionRegistryFor } from '../../cluster/provider.js';
import type { ClusterRegistry } from '../../cluster/types.js';
import type { ResourceRef } from '../../runtime/informer.js';
import type { Manager } from '../../runtime/manager.js';
import { keyFromString, keyOf } from '../../runtime/reconciler.js';
import { SecretReader } from '../../runtime/secrets.js';
import type { ControllerSetup } from '../registry.js';
import { admissibleNow } from './admission.js';
import { clusterRefName } from './cluster-ref.js';
import { KubeConfigMapKeyReader } from './dataset-source.js';
import { type BenchmarkObject, InferenceBenchmarkReconciler, type SlurmClusterObject } from './reconciler.js';
import { KubeResultsConfigMaps } from './results-configmaps.js';
import { admissionCandidates, freesItsPlace, holdsLivePlace } from './steps/admit.js';

export const INFERENCE_BENCHMARK_RESOURCE: ResourceRef = {
  group: GROUP,
  version: VERSION,
  plural: INFERENCE_BENCHMARK_PLURAL,
  kind: INFERENCE_BENCHMARK_KIND,
};

const SLURM_CLUSTER_RESOURCE: ResourceRef = {
  group: GROUP,
  version: VERSION,
  plural: SLURM_CLUSTER_PLURAL,
  kind: SLURM_CLUSTER_KIND,
};

/**
 * The client-service bundle the operator uploads: IBO_CLIENT_SERVICE_BUNDLE, else next to the operator's
 * own bundle (dist/operator.mjs → dist/client-service.mjs), else dist/ of the checkout (tsx from source).
 */
export function clientBundlePath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [
    process.env.IBO_CLIENT_SERVICE_BUNDLE,
    join(here, 'client-service.mjs'),
    join(here, '../../../dist/client-service.mjs'),
  ].filter((path): path is string => path !== undefined && path !== '');
  const found = candidates.find((path) => existsSync(path));
  if (!found) throw new Error(`client-service bundle not found (looked at ${candidates.join(', ')})`);
  return found;
}

/**
 * Registers the InferenceBenchmark controller. It shares the SlurmCluster controller's session registry
 * (one SSH connection per cluster): `registryOf` returns it for this manager.
 */
export function inferenceBenchmarkControllerSetup(
  registryOf: (manager: Manager) => ClusterRegistry,
): ControllerSetup {
  return (manager) => {
    const registry = registryOf(manager);
    const benchmarks = manager.informer<BenchmarkObject>(INFERENCE_BENCHMARK_RESOURCE);
    const clusters = manager.informer<SlurmClusterObject>(SLURM_CLUSTER_RESOURCE);
    let bundle: Promise<Buffer> | undefined;
    const reconciler = new InferenceBenchmarkReconciler({
      benchmarks,
      clusters,
      registry,
      status: manager.statusWriter(INFERENCE_BENCHMARK_RESOURCE),
      finalizers: manager.finalizers(INFERENCE_BENCHMARK_RESOURCE, BENCHMARK_FINALIZER),
      events: manager.eventRecorder(),
      clock: manager.clock,
      clientBundle: () => {
        bundle ??= readFile(clientBundlePath());
        return bundle;
      },
      resultsConfigMaps: new KubeResultsConfigMaps(manager.kubeConfig),
      secrets: new SecretReader(manager.kubeConfig),
      configMaps: new KubeConfigMapKeyReader(manager.kubeConfig),
      // Called from reconciles only, so `controller` below is assigned by then.
      onCapacityFreed: (namespace, clusterName) => wakeAdmissible(namespace, clusterName),
    });
    /**
     * A place came free (a run ended, a benchmark is being deleted): wake only the benchmarks that the
     * admission decision now admits, the first of the line, not the whole line. Waking everyone cost one
     * reconcile (and a status write for the changed place in line) per waiting benchmark per freed place,
     * and those reconciles queued in front of the one that could start. The others' place in line is
     * refreshed by their own poll (WAITING_FOR_CAPACITY_MS).
     */
    const wakeAdmissible = (namespace: string, clusterName: string): void => {
      const limit = clusters.get(namespace, clusterName)?.spec?.maxActiveBenchmarks;
      const candidates = admissionCandidates(benchmarks, namespace, clusterName);
      for (const key of admissibleNow(typeof limit === 'number' ? limit : undefined, candidates))
        controller.enqueue(key);
    };
    const benchmarksOnCluster = (clusterKey: string): string[] => {
      const { namespace, name } = keyFromString(clusterKey);
      return benchmarks
        .list(namespace)
        .filter((benchmark) => clusterRefName(benchmark) === name)
        .map((benchmark) => keyOf(benchmark));
    };
    const controller = manager.addController<BenchmarkObject>({
      name: 'inferencebenchmark',
      forResource: INFERENCE_BENCHMARK_RESOURCE,
      reconciler,
      // A benchmark whose run holds a place (or that is being deleted) goes before those that only wait in
      // line: fifty applied at once must not queue the admitted ones' next step behind forty-seven
      // "number N in line" writes.
      priorityOf: (key) => {
        const { namespace, name } = keyFromString(key);
        const object = benchmarks.get(namespace, name);
        if (!object) return 0;
        return holdsLivePlace(object) || object.metadata?.deletionTimestamp !== undefined ? 1 : 0;
      },
      watches: [
        {
          resource: SLURM_CLUSTER_RESOURCE,
          map: (cluster) => benchmarksOnCluster(keyOf(cluster)),
        },
      ],
    });
    // A watched job moved (one batched squeue for all): wake its benchmark. Cluster owners share the
    // key space; an unknown key costs one cache miss.
    registry.onJobChange((owner) => {
      const { namespace, name } = keyFromString(owner);
      if (benchmarks.get(namespace, name)) controller.enqueue(owner);
    });
    // The place is free as soon as the apiserver holds the run's end (admission counts a settled benchmark
    // as holding none): wake the next in line on that event, without waiting for the settling reconcile's
    // clean-up (a listing and an scancel) to give the place back.
    const onFreed = (object: BenchmarkObject): void => {
      const clusterName = clusterRefName(object);
      if (clusterName && object.metadata?.namespace && freesItsPlace(object))
        wakeAdmissible(object.metadata.namespace, clusterName);
    };
    benchmarks.addEventHandler({ onUpdate: onFreed, onDelete: onFreed });
    registry.onSessionChange((cluster) => {
      for (const key of benchmarksOnCluster(cluster)) controller.enqueue(key);
    });
    manager.metrics.setBenchmarkPhaseSource(() => {
      const counts = new Map<string, number>(BENCHMARK_PHASES.map((phase) => [phase, 0]));
      for (const benchmark of benchmarks.list()) {
        const phase = benchmark.status?.phase ?? 'Pending';
        counts.set(phase, (counts.get(phase) ?? 0) + 1);
      }
      return counts;
    });
  };
}

/** The registration main.ts runs: shares the SlurmCluster controller's session registry. */
export const inferenceBenchmarkSetup: ControllerSetup = inferenceBenchmarkControllerSetup(sessionRegistryFor);
