import type { BenchmarkResults, Distribution } from '../../crds/benchmark-results.js';
import type { InferenceBenchmark } from '../../crds/inference-benchmark.js';

/**
 * The compact summary of one load level. Today a benchmark runs one level (workload.clients) and its summary is
 * `status.results`; DESIGN.md "Stages" plans `status.stages[]` with one of these per level.
 */
export interface StageSummary {
  /** The offered load: concurrent clients (closed loop) or requests per second (open loop). */
  load: number;
  outputTokensPerSecond: number | null;
  requestsPerSecond: number | null;
  /** Requests per second that met the SLO, when the benchmark has one. */
  goodput?: number | null;
  ttftMs: Distribution;
  tpotMs: Distribution;
  e2eMs: Distribution;
}

/** Per-request values of one load level, in ms, from the run's JSONL records. */
export interface StageSamples {
  load: number;
  ttftMs: number[];
  tpotMs: number[];
  e2eMs: number[];
}

export interface EnvironmentEntry {
  name: string;
  value: string;
}

export interface SloCheck {
  /** What is checked, e.g. "TTFT p99". */
  metric: string;
  /** The limit as the spec states it, e.g. "≤ 500 ms". */
  limit: string;
  observed: number | null;
  unit: string;
  met: boolean;
}

export interface SloVerdict {
  met: boolean;
  /** E.g. the largest load level that meets every check. */
  summary?: string;
  checks: SloCheck[];
}

export type LoadUnit = 'clients' | 'requests/s';

/** Everything a report shows. Only the header fields are required; each missing section says so. */
export interface ReportInput {
  name: string;
  namespace?: string;
  model: string;
  engine: string;
  phase?: string;
  /** ISO timestamp of the run: completion, else start, else creation. */
  when?: string;
  loadUnit: LoadUnit;
  /** `status.results`: the summary of the (single) measured window. */
  results?: BenchmarkResults;
  /** The load of `results` when there are no stages: workload.clients, or ratePerSecond in open loop. */
  load?: number;
  stages?: StageSummary[];
  samples?: StageSamples[];
  environment?: EnvironmentEntry[];
  slo?: SloVerdict;
}

/** The levels to chart: the stages when there are any, else the single level of `status.results`. */
export function stagesOf(input: ReportInput): StageSummary[] {
  if (input.stages && input.stages.length > 0) return [...input.stages].sort((a, b) => a.load - b.load);
  if (!input.results || input.load === undefined) return [];
  const r = input.results;
  return [
    {
      load: input.load,
      outputTokensPerSecond: r.outputTokensPerSecond,
      requestsPerSecond: r.requestsPerSecond,
      ttftMs: r.ttftMs,
      tpotMs: r.tpotMs,
      e2eMs: r.e2eMs,
    },
  ];
}

/** The report input of one InferenceBenchmark as the apiserver returns it, plus what only files hold. */
export function reportInputFromBenchmark(
  benchmark: InferenceBenchmark,
  extra: Pick<ReportInput, 'stages' | 'samples' | 'environment' | 'slo'> = {},
): ReportInput {
  const { metadata, spec, status } = benchmark;
  const open = spec.workload.mode === 'open';
  const load = open ? spec.workload.ratePerSecond : spec.workload.clients;
  const when = status?.completionTime ?? status?.startTime ?? metadata.creationTimestamp;
  return {
    name: metadata.name ?? '(unnamed)',
    ...(metadata.namespace === undefined ? {} : { namespace: metadata.namespace }),
    model: spec.model.name,
    engine: spec.server.engine,
    ...(status?.phase === undefined ? {} : { phase: status.phase }),
    ...(typeof when === 'string' ? { when } : {}),
    loadUnit: open ? 'requests/s' : 'clients',
    ...(status?.results === undefined ? {} : { results: status.results }),
    ...(load === undefined ? {} : { load }),
    ...extra,
  };
}
