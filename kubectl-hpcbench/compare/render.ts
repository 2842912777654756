import type { ComparisonRow, ComparisonTable, TestName, Verdict } from './compare.js';

const TEST_NAMES: Record<TestName, string> = {
  welch: 'Welch t',
  'mann-whitney': 'Mann-Whitney',
  anova: 'ANOVA',
  'kruskal-wallis': 'Kruskal-Wallis',
};

/** Four significant digits at most, no exponent for the magnitudes benchmarks produce; "-" for null. */
export function formatValue(value: number | null): string {
  if (value === null || !Number.isFinite(value)) return '-';
  if (Math.abs(value) >= 1000) return Math.round(value).toString();
  return Number(value.toPrecision(4)).toString();
}

export function formatDelta(delta: number | null): string {
  if (delta === null || !Number.isFinite(delta)) return '-';
  const rounded = Math.abs(delta) >= 10 ? delta.toFixed(0) : delta.toFixed(1);
  return `${delta > 0 ? '+' : ''}${rounded}%`;
}

export function formatPValue(p: number): string {
  return p < 0.001 ? 'p<0.001' : `p=${Number(p.toPrecision(2))}`;
}

/** One line for a row's verdict: "significant (Welch t p=0.012)", or the reason no test ran. */
export function formatVerdict(verdict: Verdict): string {
  if (!verdict.tested) return verdict.reason;
  const effect =
    verdict.rankBiserial === undefined
      ? ''
      : `, r=${verdict.rankBiserial >= 0 ? '+' : ''}${verdict.rankBiserial.toFixed(2)}`;
  const details = `${TEST_NAMES[verdict.test]} ${formatPValue(verdict.pValue)}${effect}`;
  return `${verdict.significant ? 'significant' : 'not significant'} (${details})`;
}

function rowLabel(row: ComparisonRow): string {
  return `${row.label} (${row.unit})`;
}

/** Columns padded to their widest cell and three spaces apart, as `kubectl get` prints them. */
export function alignColumns(lines: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const line of lines) {
    line.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return lines
    .map((line) =>
      line
        .map((cell, i) => (i === line.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
        .join('   ')
        .trimEnd(),
    )
    .join('\n');
}

/** The comparison as text: a value column per run, a delta column per later run, and the verdict. */
export function renderComparisonText(table: ComparisonTable): string {
  const [, ...others] = table.runs;
  const header = ['METRIC', ...table.runs, ...others.map((name) => `Δ ${name}`), 'SIGNIFICANCE'];
  const body = table.rows.map((row) => [
    rowLabel(row),
    ...row.values.map(formatValue),
    ...row.deltaPercent.slice(1).map(formatDelta),
    formatVerdict(row.verdict),
  ]);
  const note = `Δ against ${table.runs[0] ?? 'the first run'}; significant means p < ${table.alpha}.`;
  return `${alignColumns([header, ...body])}\n\n${note}\n`;
}

/** The comparison as JSON for scripts: the table as computed, plus each verdict as the text line prints it. */
export function renderComparisonJson(table: ComparisonTable): string {
  const rows = table.rows.map((row) => ({ ...row, verdictText: formatVerdict(row.verdict) }));
  return `${JSON.stringify({ ...table, rows }, null, 2)}\n`;
}
