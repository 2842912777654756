import type { z } from 'zod';
import { CATEGORY, GROUP, VERSION } from './common.js';
import {
  INFERENCE_BENCHMARK_KIND,
  INFERENCE_BENCHMARK_PLURAL,
  INFERENCE_BENCHMARK_SHORT_NAMES,
  INFERENCE_BENCHMARK_SINGULAR,
  InferenceBenchmarkSpec,
  InferenceBenchmarkStatus,
  MAX_BENCHMARK_NAME_LENGTH,
} from './inference-benchmark.js';
import {
  SLURM_CLUSTER_KIND,
  SLURM_CLUSTER_PLURAL,
  SLURM_CLUSTER_SHORT_NAMES,
  SLURM_CLUSTER_SINGULAR,
  SlurmClusterSpec,
  SlurmClusterStatus,
} from './slurm-cluster.js';
import { type SchemaNode, toRootSchema, toStructuralSchema } from './to-openapi.js';

/** One column of `kubectl get` (apiextensions.k8s.io/v1 CustomResourceColumnDefinition). */
export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description?: string;
  priority?: number;
}

/** The parts of a CustomResourceDefinition this project uses, in the apiserver's field order. */
export interface CustomResourceDefinition {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string; labels: Record<string, string> };
  spec: {
    group: string;
    names: {
      kind: string;
      listKind: string;
      plural: string;
      singular: string;
      shortNames: string[];
      categories: string[];
    };
    scope: 'Namespaced';
    versions: {
      name: string;
      served: boolean;
      storage: boolean;
      subresources: { status: Record<string, never> };
      additionalPrinterColumns: PrinterColumn[];
      schema: { openAPIV3Schema: SchemaNode };
    }[];
  };
}

interface KindDefinition {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  description: string;
  spec: z.ZodType;
  status: z.ZodType;
  columns: PrinterColumn[];
  /**
   * Longest metadata.name, when shorter than Kubernetes' 253. A CRD may constrain only metadata.name and
   * generateName; a plain maxLength gives a clearer error than a CEL rule.
   */
  maxNameLength?: number;
}

const conditionStatus = (type: string) => `.status.conditions[?(@.type=="${type}")].status`;
const AGE_COLUMN: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };

function crdFor(definition: KindDefinition): CustomResourceDefinition {
  const openAPIV3Schema = toRootSchema({
    description: definition.description,
    type: 'object',
    properties: {
      apiVersion: {
        description: 'Versioned schema of this representation of an object: hpcbench.io/v1alpha1.',
        type: 'string',
      },
      kind: { description: `Kind of this object: ${definition.kind}.`, type: 'string' },
      metadata: definition.maxNameLength
        ? {
            type: 'object',
            properties: {
              name: { type: 'string', maxLength: definition.maxNameLength },
              generateName: { type: 'string', maxLength: definition.maxNameLength - 5 },
            },
          }
        : { type: 'object' },
      spec: toStructuralSchema(definition.spec, 'spec'),
      status: toStructuralSchema(definition.status, 'status'),
    },
    required: ['spec'],
  });
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${definition.plural}.${GROUP}`,
      labels: {
        'app.kubernetes.io/name': 'inference-benchmark-operator',
        'app.kubernetes.io/part-of': 'hpcbench',
      },
    },
    spec: {
      group: GROUP,
      names: {
        kind: definition.kind,
        listKind: `${definition.kind}List`,
        plural: definition.plural,
        singular: definition.singular,
        shortNames: definition.shortNames,
        categories: [CATEGORY],
      },
      scope: 'Namespaced',
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: definition.columns,
          schema: { openAPIV3Schema },
        },
      ],
    },
  };
}

export function inferenceBenchmarkCrd(): CustomResourceDefinition {
  return crdFor({
    kind: INFERENCE_BENCHMARK_KIND,
    plural: INFERENCE_BENCHMARK_PLURAL,
    singular: INFERENCE_BENCHMARK_SINGULAR,
    shortNames: INFERENCE_BENCHMARK_SHORT_NAMES,
    description:
      "InferenceBenchmark runs one LLM inference benchmark on a SLURM cluster: an Ollama server job, a load-generating client-service job and, optionally, the cluster's shared monitoring. Results land in status.results.",
    spec: InferenceBenchmarkSpec,
    status: InferenceBenchmarkStatus,
    columns: [
      { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'Phase of the current run.' },
      { name: 'Model', type: 'string', jsonPath: '.spec.model.name', description: 'Model under test.' },
      {
        name: 'Clients',
        type: 'integer',
        jsonPath: '.spec.workload.clients',
        description: 'Simulated clients.',
      },
      {
        name: 'Progress',
        type: 'string',
        jsonPath: '.status.progress.display',
        description: 'Completed of total measured requests.',
      },
      // Strings the operator rounds (status.display): a column of type number prints every digit, integer
      // truncates, and a JSONPath cannot round.
      {
        name: 'Tok/s',
        type: 'string',
        jsonPath: '.status.display.outputTokensPerSecond',
        description: 'Output tokens per second over the measured window, one decimal.',
      },
      {
        name: 'TTFT p50',
        type: 'string',
        jsonPath: '.status.display.ttftP50Ms',
        description: 'Median time to first token, whole ms.',
      },
      // Wide only (-o wide): most benchmarks are one level without an SLO, and the default view stays as it was.
      {
        name: 'Knee/SLO',
        type: 'string',
        jsonPath: '.status.display.saturation',
        description: 'The largest load that meets spec.slo, or else the knee of the sweep.',
        priority: 1,
      },
      AGE_COLUMN,
    ],
    // The name becomes a SLURM job name, file names and a Prometheus label value.
    maxNameLength: MAX_BENCHMARK_NAME_LENGTH,
  });
}

export function slurmClusterCrd(): CustomResourceDefinition {
  return crdFor({
    kind: SLURM_CLUSTER_KIND,
    plural: SLURM_CLUSTER_PLURAL,
    singular: SLURM_CLUSTER_SINGULAR,
    shortNames: SLURM_CLUSTER_SHORT_NAMES,
    description:
      'SlurmCluster says how the operator reaches one SLURM cluster over SSH (one shared connection), which defaults its benchmarks inherit, and runs the monitoring stack they share.',
    spec: SlurmClusterSpec,
    status: SlurmClusterStatus,
    columns: [
      {
        name: 'Ready',
        type: 'string',
        jsonPath: conditionStatus('Ready'),
        description: 'SSH and sinfo answer.',
      },
      { name: 'Host', type: 'string', jsonPath: '.spec.host', description: 'SSH login node.' },
      {
        name: 'Slurm Version',
        type: 'string',
        jsonPath: '.status.slurmVersion',
        description: 'SLURM version of the cluster.',
      },
      {
        name: 'Monitoring',
        type: 'string',
        jsonPath: conditionStatus('MonitoringReady'),
        description: 'The shared monitoring stack answers.',
      },
      AGE_COLUMN,
    ],
  });
}

/** Every CRD of the project, in install order. */
export function allCrds(): CustomResourceDefinition[] {
  return [slurmClusterCrd(), inferenceBenchmarkCrd()];
}
