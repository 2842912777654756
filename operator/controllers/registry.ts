import type { Manager } from '../runtime/manager.js';
import { inferenceBenchmarkSetup } from './inference-benchmark/setup.js';
import { slurmClusterControllerSetup } from './slurm-cluster/setup.js';

/**
 * The controllers `operator` runs. Each entry registers its informers and reconciler on the manager
 * (SlurmCluster and InferenceBenchmark controllers add themselves here). main.ts imports this list; the
 * runtime never does.
 */
export type ControllerSetup = (manager: Manager) => void | Promise<void>;

export const controllerSetups: ControllerSetup[] = [slurmClusterControllerSetup, inferenceBenchmarkSetup];
