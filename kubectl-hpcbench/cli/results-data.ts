import type * as k8s from '@kubernetes/client-node';
import { z } from 'zod';
import { StageSummary } from '../../client-service/api-schema.js';
import {
  BenchmarkResults,
  EnvironmentEntries,
  type InferenceBenchmark,
  LogsIndex,
  RESULTS_LABELS,
  RESULTS_LOG_ROLES,
  ResultsKeys,
  type ResultsLogRole,
  SAMPLE_METRICS,
  type SampleMetric,
  SamplesIndex,
  unpackFloat32,
} from '../../crds/index.js';
import { CliError, findResultsConfigMap, getBenchmarkIfExists, getConfigMap, type Kube } from './kube.js';

/** What a results ConfigMap holds (crds/results-configmap.ts), decoded. */
export interface RunResults {
  readonly benchmark: string;
  readonly namespace: string;
  /** Absent when the benchmark was deleted and its ConfigMap retained. */
  readonly object?: InferenceBenchmark;
  readonly configMap: string;
  readonly runId?: string;
  readonly recordsPath?: string;
  /** The run ended and the ConfigMap holds its final content. */
  readonly complete: boolean;
  /** Full precision from the ConfigMap when it is there, else status.results. */
  readonly summary?: BenchmarkResults;
  readonly environment: EnvironmentEntries;
  readonly samplesIndex?: SamplesIndex;
  /** Aligned arrays, one value per sampled request, null where a request has none. */
  readonly samples: Record<SampleMetric, (number | null)[]>;
  /** The load level (1-based stage) of each sampled request; 0 unknown. Empty when the ConfigMap has none. */
  readonly sampleStages: number[];
  /** One compact summary per load level (stages.json); empty before the run ended. */
  readonly stages: StageSummary[];
  readonly logsIndex: LogsIndex;
  readonly logs: Partial<Record<ResultsLogRole, string>>;
}

function json(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export function decodeResults(configMap: k8s.V1ConfigMap, object?: InferenceBenchmark): RunResults {
  const data = configMap.data ?? {};
  const binary = configMap.binaryData ?? {};
  // summary.json is the run's summary; a run status around it (an older operator stored the client-service's
  // file as it is) is read through its `summary`.
  const stored = json(data[ResultsKeys.summary]);
  const summary = BenchmarkResults.safeParse(
    typeof stored === 'object' && stored !== null && 'summary' in stored ? stored.summary : stored,
  );
  const environment = EnvironmentEntries.safeParse(json(data[ResultsKeys.environment]));
  const samplesIndex = SamplesIndex.safeParse(json(data[ResultsKeys.samples]));
  const logsIndex = LogsIndex.safeParse(json(data[ResultsKeys.logs]));
  const samples = Object.fromEntries(
    SAMPLE_METRICS.map((metric) => {
      const encoded = binary[ResultsKeys.sample(metric)];
      return [metric, encoded ? unpackFloat32(Buffer.from(encoded, 'base64')) : []];
    }),
  ) as Record<SampleMetric, (number | null)[]>;
  const stages = z.object({ stages: z.array(StageSummary) }).safeParse(json(data[ResultsKeys.stages]));
  const stageBytes = binary[ResultsKeys.sampleStage];
  const logs: Partial<Record<ResultsLogRole, string>> = {};
  for (const role of RESULTS_LOG_ROLES) {
    const text = data[ResultsKeys.log(role)];
    if (text !== undefined) logs[role] = text;
  }
  const labels = configMap.metadata?.labels ?? {};
  const annotations = configMap.metadata?.annotations ?? {};
  const statusResults = object?.status?.results;
  return {
    benchmark: labels[RESULTS_LABELS.benchmark] ?? object?.metadata.name ?? '',
    namespace: configMap.metadata?.namespace ?? '',
    ...(object ? { object } : {}),
    configMap: configMap.metadata?.name ?? '',
    ...(labels[RESULTS_LABELS.runId] ? { runId: labels[RESULTS_LABELS.runId] } : {}),
    ...(annotations['hpcbench.io/records-path']
      ? { recordsPath: annotations['hpcbench.io/records-path'] }
      : {}),
    complete: annotations['hpcbench.io/complete'] === 'true',
    ...(summary.success ? { summary: summary.data } : statusResults ? { summary: statusResults } : {}),
    environment: environment.success ? environment.data : [],
    ...(samplesIndex.success ? { samplesIndex: samplesIndex.data } : {}),
    samples,
    sampleStages: stageBytes ? Array.from(Buffer.from(stageBytes, 'base64')) : [],
    stages: stages.success ? stages.data.stages : [],
    logsIndex: logsIndex.success ? logsIndex.data : {},
    logs,
  };
}

/**
 * The results of the benchmark's current run: the ConfigMap status.resultsStore names, or, when the
 * benchmark is gone, the newest ConfigMap labelled with its name (spec.retainResults kept it).
 */
export async function loadResults(kube: Kube, name: string): Promise<RunResults> {
  const object = await getBenchmarkIfExists(kube, name);
  if (!object) {
    const retained = await findResultsConfigMap(kube, name);
    if (!retained)
      throw new CliError(
        `Error from server (NotFound): inferencebenchmarks.hpcbench.io "${name}" not found, and no results ConfigMap of it is left in namespace "${kube.namespace}"`,
        1,
        'NotFound',
      );
    return decodeResults(retained);
  }
  const configMapName = object.status?.resultsStore?.configMap;
  if (!configMapName) {
    const phase = object.status?.phase ?? 'Pending';
    throw new CliError(
      `error: inferencebenchmark "${name}" has no results ConfigMap yet (phase ${phase}); the operator writes it once the run's jobs run`,
      1,
      'NotFound',
    );
  }
  return decodeResults(await getConfigMap(kube, configMapName), object);
}

/** The finite values of one metric's samples. */
export function finite(values: readonly (number | null)[]): number[] {
  return values.filter((v): v is number => v !== null && Number.isFinite(v));
}
