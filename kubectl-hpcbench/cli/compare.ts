import {
  compareRuns,
  type RunToCompare,
  regressed,
  renderComparisonJson,
  renderComparisonText,
} from '../compare/index.js';
import { benchmarkName, CliError, connect, type Kube, type KubeOptions } from './kube.js';
import { finite, loadResults } from './results-data.js';

/** A regression beyond --fail-if-regressed exits 1 and an error 2, as `kubectl diff` does for differences. */
export const REGRESSED_EXIT_CODE = 1;
export const COMPARE_ERROR_EXIT_CODE = 2;

export async function compareCommand(
  targets: string[],
  options: KubeOptions & { output?: string; failIfRegressed?: string; alpha?: string },
  write: (text: string) => void,
): Promise<number> {
  if (targets.length < 2)
    throw new CliError('error: compare needs at least two benchmarks: compare ib/A ib/B [ib/C ...]');
  if (options.output !== undefined && options.output !== 'json')
    throw new CliError(
      `error: unable to match a printer suitable for the output format "${options.output}", allowed formats are: json`,
    );
  const threshold = options.failIfRegressed === undefined ? undefined : Number(options.failIfRegressed);
  if (threshold !== undefined && !(threshold >= 0))
    throw new CliError(
      `error: --fail-if-regressed must be a percentage >= 0, got "${options.failIfRegressed}"`,
    );
  const alpha = options.alpha === undefined ? 0.05 : Number(options.alpha);
  if (!(alpha > 0 && alpha < 1))
    throw new CliError(`error: --alpha must be between 0 and 1, got "${options.alpha}"`);
  const table = compareRuns(await runsToCompare(connect(options), targets), { alpha });
  write(options.output === 'json' ? renderComparisonJson(table) : renderComparisonText(table));
  if (threshold === undefined) return 0;
  const found = regressed(table, threshold);
  if (found.length === 0) return 0;
  for (const r of found)
    process.stderr.write(
      `regressed: ${r.label} of ${r.run} ${r.deltaPercent > 0 ? '+' : ''}${r.deltaPercent.toFixed(1)}% (threshold ${threshold}%${r.tested ? ', significant' : ', untested'})\n`,
    );
  return REGRESSED_EXIT_CODE;
}

/** Each run's summary and per-request samples, read from its results ConfigMap (the console uses it too). */
export async function runsToCompare(kube: Kube, targets: readonly string[]): Promise<RunToCompare[]> {
  const runs: RunToCompare[] = [];
  for (const target of targets) {
    const name = benchmarkName(target);
    const results = await loadResults(kube, name);
    if (!results.summary)
      throw new CliError(
        `error: inferencebenchmark "${name}" has no results yet: nothing to compare`,
        1,
        'NotFound',
      );
    runs.push({
      name,
      results: results.summary,
      samples: {
        ttftMs: finite(results.samples.ttftMs),
        tpotMs: finite(results.samples.tpotMs),
        e2eMs: finite(results.samples.e2eMs),
      },
    });
  }
  return runs;
}
