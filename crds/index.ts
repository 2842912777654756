// The API of hpcbench.io/v1alpha1: zod schemas (the single source of truth), inferred types, constants and
// parse helpers. Imports only zod, so the operator and the client-service bundle can both use it.
export * from './benchmark-dataset.js';
export * from './benchmark-results.js';
export * from './benchmark-sweep.js';
export * from './common.js';
export * from './conditions.js';
export * from './inference-benchmark.js';
export * from './parse.js';
export * from './results-configmap.js';
export * from './slurm-cluster.js';
