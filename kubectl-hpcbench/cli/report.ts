import { writeFile } from 'node:fs/promises';
import {
  type ReportInput,
  renderReport,
  reportInputFromBenchmark,
  type StageSamples,
  type StageSummary,
} from '../report/index.js';
import { benchmarkName, CliError, connect, type KubeOptions } from './kube.js';
import { finite, loadResults, type RunResults } from './results-data.js';

const quantiles = (q: { p50: number | null; p90: number | null; p99: number | null }) => ({
  mean: null,
  p50: q.p50,
  p90: q.p90,
  p95: null,
  p99: q.p99,
});

/**
 * A sweep's levels (stages.json) as the report charts them, each with the sampled requests of its stage
 * (samples.stage.u8). A run of one level has none: its single level comes from the summary.
 */
function sweepOf(results: RunResults): Pick<ReportInput, 'stages' | 'samples'> {
  if (results.stages.length < 2) return {};
  const loadOf = (stage: RunResults['stages'][number]) =>
    stage.load.clients ?? stage.load.ratePerSecond ?? stage.stage;
  const stages: StageSummary[] = results.stages.map((stage) => ({
    load: loadOf(stage),
    outputTokensPerSecond: stage.outputTokensPerSecond,
    requestsPerSecond: stage.requestsPerSecond,
    goodput: stage.goodput,
    ttftMs: quantiles(stage.ttftMs),
    tpotMs: quantiles(stage.tpotMs),
    e2eMs: quantiles(stage.e2eMs),
  }));
  if (results.sampleStages.length === 0) return { stages };
  const samples: StageSamples[] = results.stages.map((stage) => {
    const pick = (values: (number | null)[]) =>
      finite(values.filter((_, i) => results.sampleStages[i] === stage.stage));
    return {
      load: loadOf(stage),
      ttftMs: pick(results.samples.ttftMs),
      tpotMs: pick(results.samples.tpotMs),
      e2eMs: pick(results.samples.e2eMs),
    };
  });
  return { stages, samples: samples.filter((s) => s.ttftMs.length > 0) };
}

/** The report's input from a run's results: the benchmark when it exists, its ConfigMap's environment if not. */
export function reportInputOf(results: RunResults): ReportInput {
  const sweep = sweepOf(results);
  const samples = {
    ttftMs: finite(results.samples.ttftMs),
    tpotMs: finite(results.samples.tpotMs),
    e2eMs: finite(results.samples.e2eMs),
  };
  const environment = results.environment;
  if (results.object) {
    const input = reportInputFromBenchmark(results.object, { environment });
    // The full-precision summary of the ConfigMap, and the samples at the run's single load level.
    return {
      ...input,
      ...(results.summary ? { results: results.summary } : {}),
      ...(input.load !== undefined && samples.ttftMs.length > 0
        ? { samples: [{ load: input.load, ...samples }] }
        : {}),
      ...sweep,
    };
  }
  const env = (name: string) => environment.find((e) => e.name === name)?.value;
  const clients = Number(env('Clients'));
  const open = env('Load mode') === 'open';
  const load = open ? Number(env('Rate (req/s)')) : clients;
  return {
    name: results.benchmark,
    namespace: results.namespace,
    model: env('Model') ?? 'unknown',
    engine: env('Engine') ?? 'unknown',
    ...(env('Run end') ? { when: env('Run end') } : {}),
    loadUnit: open ? 'requests/s' : 'clients',
    ...(results.summary ? { results: results.summary } : {}),
    ...(Number.isFinite(load) ? { load } : {}),
    ...(Number.isFinite(load) && samples.ttftMs.length > 0 ? { samples: [{ load, ...samples }] } : {}),
    environment,
    ...sweep,
  };
}

export async function reportCommand(
  target: string,
  options: KubeOptions & { output?: string },
  write: (text: string) => void,
): Promise<void> {
  const kube = connect(options);
  const name = benchmarkName(target);
  const results = await loadResults(kube, name);
  if (!results.summary)
    throw new CliError(`error: inferencebenchmark "${name}" has no results yet: no report`, 1, 'NotFound');
  const html = await renderReport(reportInputOf(results));
  const file = options.output ?? `${name}-report.html`;
  if (file === '-') {
    write(html);
    return;
  }
  try {
    await writeFile(file, html);
  } catch (error) {
    throw new CliError(
      `error: cannot write ${file}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  write(`report written to ${file} (${Math.round(Buffer.byteLength(html) / 1024)} KiB)\n`);
}
