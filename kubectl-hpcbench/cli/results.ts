import { stringify } from 'yaml';
import { SAMPLE_METRICS } from '../../crds/index.js';
import { alignColumns, formatValue } from '../compare/render.js';
import { benchmarkName, CliError, connect, type KubeOptions } from './kube.js';
import { loadResults, type RunResults } from './results-data.js';

export const RESULTS_FORMATS = ['json', 'yaml', 'csv'] as const;

/** The document `-o json|yaml` prints: the summary, environment, where the records are, and the samples. */
function document(results: RunResults): Record<string, unknown> {
  const object = results.object;
  return {
    benchmark: results.benchmark,
    namespace: results.namespace,
    ...(object?.status?.phase ? { phase: object.status.phase } : {}),
    ...(results.runId ? { runId: results.runId } : {}),
    configMap: results.configMap,
    complete: results.complete,
    ...(results.recordsPath ? { recordsPath: results.recordsPath } : {}),
    results: results.summary ?? null,
    environment: results.environment,
    samples: {
      ...(results.samplesIndex ?? {}),
      ...Object.fromEntries(SAMPLE_METRICS.map((m) => [m, results.samples[m]])),
    },
  };
}

/** `-o csv`: one line per sampled request, so a spreadsheet or R reads the distribution directly. */
function csv(results: RunResults): string {
  const count = results.samples.ttftMs.length;
  const lines = [`sample,${SAMPLE_METRICS.join(',')}`];
  for (let i = 0; i < count; i++)
    lines.push([i, ...SAMPLE_METRICS.map((m) => results.samples[m][i] ?? '')].join(','));
  return `${lines.join('\n')}\n`;
}

function text(results: RunResults): string {
  const s = results.summary;
  const head = [
    `Benchmark:   ${results.namespace}/${results.benchmark}${results.object?.status?.phase ? ` (${results.object.status.phase})` : ''}`,
    `Run:         ${results.runId ?? 'unknown'}`,
    `ConfigMap:   ${results.configMap}${results.complete ? '' : ' (run still going: log tails only)'}`,
    ...(results.recordsPath ? [`Records:     ${results.recordsPath} (on the cluster)`] : []),
    ...(results.samplesIndex
      ? [
          `Samples:     ${results.samplesIndex.count} of ${results.samplesIndex.measured} measured requests (${results.samplesIndex.method})`,
        ]
      : []),
  ];
  if (!s) return `${head.join('\n')}\n\nNo results yet.\n`;
  const rows: string[][] = [['METRIC', 'MEAN', 'P50', 'P90', 'P95', 'P99']];
  for (const [label, d] of [
    ['TTFT (ms)', s.ttftMs],
    ['TPOT (ms)', s.tpotMs],
    ['ITL (ms)', s.itlMs],
    ['E2E (ms)', s.e2eMs],
  ] as const)
    rows.push([
      label,
      formatValue(d.mean),
      formatValue(d.p50),
      formatValue(d.p90),
      formatValue(d.p95),
      formatValue(d.p99),
    ]);
  const totals = [
    `Requests:    ${s.counts.requests} (${s.counts.succeeded} succeeded, ${s.counts.failed} failed, ${s.counts.warmup} warmup)`,
    `Throughput:  ${formatValue(s.outputTokensPerSecond)} tok/s, ${formatValue(s.requestsPerSecond)} req/s`,
  ];
  return `${head.join('\n')}\n${totals.join('\n')}\n\n${alignColumns(rows)}\n`;
}

export async function resultsCommand(
  target: string,
  options: KubeOptions & { output?: string },
  write: (text: string) => void,
): Promise<void> {
  const format = options.output;
  if (format !== undefined && !(RESULTS_FORMATS as readonly string[]).includes(format))
    throw new CliError(
      `error: unable to match a printer suitable for the output format "${format}", allowed formats are: ${RESULTS_FORMATS.join(',')}`,
    );
  const kube = connect(options);
  const results = await loadResults(kube, benchmarkName(target));
  if (format === 'json') write(`${JSON.stringify(document(results), null, 2)}\n`);
  else if (format === 'yaml') write(stringify(document(results)));
  else if (format === 'csv') write(csv(results));
  else write(text(results));
}
