import { formatDelta, formatValue } from '../../compare/render.js';
import { ApiError, getJson, nsPath } from './api.js';
import { h, replace } from './dom.js';
import type { LiveNamespace } from './store.js';

/**
 * Compare runs: the same table as `kubectl hpcbench compare` (values, deltas against the first run, and the
 * significance verdict: Mann-Whitney or Kruskal-Wallis on the per-request samples, Welch or ANOVA on repeats),
 * with boxplots of each run's samples. The runs to compare are picked here or on the list page.
 */

interface Row {
  label: string;
  unit: string;
  better: 'higher' | 'lower';
  values: (number | null)[];
  deltaPercent: (number | null)[];
  verdict: { tested: boolean; significant?: boolean };
  verdictText: string;
}

interface Answer {
  table: { runs: string[]; alpha: number; rows: Row[] };
  charts: { id: string; title: string; svg: string }[];
}

/** An SVG vega rendered on the console's own server, parsed as SVG (not HTML) and adopted as a node. */
function svgNode(svg: string): Node {
  const doc = new DOMParser().parseFromString(svg, 'image/svg+xml');
  return document.importNode(doc.documentElement, true);
}

export function renderComparePage(
  root: HTMLElement,
  live: LiveNamespace,
  names: string[],
  go: (hash: string) => void,
): () => void {
  const picked = new Set(names);
  const picker = h('div', { class: 'picker' });
  const result = h('div', { id: 'comparison' });

  const drawPicker = () => {
    const withResults = [...live.state.benchmarks.values()].filter((b) => b.status?.resultsStore?.complete);
    replace(
      picker,
      withResults.length === 0
        ? h('p', { class: 'muted' }, 'No benchmark with stored results in this namespace yet.')
        : null,
      withResults.map((b) => {
        const box = h('input', {
          type: 'checkbox',
          value: b.metadata.name,
          onchange: (e: Event) => {
            if ((e.target as HTMLInputElement).checked) picked.add(b.metadata.name);
            else picked.delete(b.metadata.name);
          },
        });
        box.checked = picked.has(b.metadata.name);
        return h('label', { class: 'pick' }, box, ` ${b.metadata.name}`);
      }),
      h(
        'button',
        {
          type: 'button',
          class: 'primary',
          id: 'compare-run',
          onclick: () => go(`#/compare?names=${[...picked].map(encodeURIComponent).join(',')}`),
        },
        'Compare',
      ),
    );
  };

  const load = async () => {
    if (names.length < 2) {
      replace(result, h('p', { class: 'muted' }, 'Pick two runs or more; the first is the baseline.'));
      return;
    }
    replace(result, h('p', { class: 'muted' }, 'Comparing…'));
    try {
      const answer = await getJson<Answer>(
        `${nsPath(live.namespace)}/compare?names=${names.map(encodeURIComponent).join(',')}`,
      );
      const { runs, rows, alpha } = answer.table;
      replace(
        result,
        h(
          'table',
          { class: 'grid', id: 'compare-table' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              h('th', {}, 'Metric'),
              runs.map((r) => h('th', {}, r)),
              runs.slice(1).map((r) => h('th', {}, `Δ ${r}`)),
              h('th', {}, 'Significance'),
            ),
          ),
          h(
            'tbody',
            {},
            rows.map((row) =>
              h(
                'tr',
                { class: row.verdict.tested && row.verdict.significant ? 'significant' : '' },
                h('td', {}, `${row.label} (${row.unit})`),
                row.values.map((v) => h('td', { class: 'num' }, formatValue(v))),
                row.deltaPercent.slice(1).map((d) =>
                  h(
                    'td',
                    {
                      class: `num ${d === null ? '' : d > 0 === (row.better === 'higher') ? 'better' : 'worse'}`,
                    },
                    formatDelta(d),
                  ),
                ),
                h('td', {}, row.verdictText),
              ),
            ),
          ),
        ),
        h(
          'p',
          { class: 'muted' },
          `Δ against ${runs[0] ?? 'the first run'}; significant means p < ${alpha}.`,
        ),
        h(
          'div',
          { class: 'charts' },
          answer.charts.map((c) =>
            h('figure', { class: 'chart', 'data-chart': c.id }, h('figcaption', {}, c.title), svgNode(c.svg)),
          ),
        ),
      );
    } catch (error) {
      replace(
        result,
        h(
          'p',
          { class: 'refusal', role: 'alert' },
          error instanceof ApiError ? `${error.refusal.reason}: ${error.refusal.message}` : String(error),
        ),
      );
    }
  };

  replace(root, h('h1', {}, 'Compare runs'), picker, result);
  drawPicker();
  void load();
  return live.subscribe(drawPicker);
}
