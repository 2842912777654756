import { stringify } from 'yaml';
import type { InferenceBenchmarkInput } from '../../crds/index.js';
import type { ConversionProblem } from './convert.js';

/** YAML of a converted benchmark; warnings go on top as comments so they travel with the file. */
export function renderBenchmarkYaml(
  benchmark: InferenceBenchmarkInput,
  warnings: readonly ConversionProblem[] = [],
  source?: string,
): string {
  const header = [
    `# Converted${source ? ` from ${source}` : ''} by recipes/legacy/cli.ts.`,
    ...warnings.map((w) => `# warning: ${w.field}: ${w.message}`),
  ];
  return `${header.join('\n')}\n${stringify(benchmark, { lineWidth: 0, version: '1.1' })}`;
}
