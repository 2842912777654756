import { age, h, replace } from './dom.js';
import { condition, type KubeObject, type LiveNamespace, waitingReason } from './store.js';

/** The first page: the namespace's benchmarks and clusters, live, with a box per row to compare them. */

const BENCHMARK_CONDITIONS = ['MonitoringReady', 'OllamaModelLoaded', 'ClientHealthy', 'BenchmarkComplete'];

function badge(object: KubeObject, type: string): HTMLElement {
  const c = condition(object, type);
  const state = c?.status ?? 'Unknown';
  return h(
    'span',
    {
      class: `badge ${state.toLowerCase()}`,
      title: c ? `${type}=${state} ${c.reason ?? ''}: ${c.message ?? ''}` : `${type}: not reported yet`,
    },
    type.replace(/Ready|Loaded|Healthy|Complete/, (m) => ` ${m}`),
  );
}

function phaseCell(phase: string | undefined): HTMLElement {
  return h('span', { class: `phase ${(phase ?? 'Pending').toLowerCase()}` }, phase ?? 'Pending');
}

function progressCell(object: KubeObject): HTMLElement {
  const p = object.status?.progress;
  if (!p || p.totalRequests === 0) return h('span', { class: 'muted' }, '–');
  const pct = Math.min(100, Math.round((p.completedRequests / p.totalRequests) * 100));
  return h(
    'span',
    { class: 'progress', title: `${p.completedRequests} of ${p.totalRequests} measured requests` },
    h('span', { class: 'bar' }, h('span', { class: 'fill', style: `width:${pct}%` })),
    ` ${p.display ?? `${p.completedRequests}/${p.totalRequests}`}`,
  );
}

function benchmarkRow(object: KubeObject, selected: Set<string>, onSelect: () => void): HTMLElement {
  const name = object.metadata.name;
  const spec = object.spec as
    | { model?: { name?: string }; server?: { engine?: string }; workload?: { clients?: number } }
    | undefined;
  const display = object.status?.display ?? {};
  const box = h('input', {
    type: 'checkbox',
    'aria-label': `select ${name} to compare`,
    onchange: (event: Event) => {
      if ((event.target as HTMLInputElement).checked) selected.add(name);
      else selected.delete(name);
      onSelect();
    },
  });
  box.checked = selected.has(name);
  return h(
    'tr',
    { 'data-benchmark': name },
    h('td', {}, box),
    h('td', {}, h('a', { href: `#/ib/${encodeURIComponent(name)}` }, name)),
    h('td', { class: 'phase-cell' }, phaseCell(object.status?.phase)),
    h('td', {}, spec?.model?.name ?? ''),
    h('td', {}, spec?.server?.engine ?? 'ollama'),
    h('td', { class: 'num' }, String(spec?.workload?.clients ?? '')),
    h('td', {}, progressCell(object)),
    h('td', { class: 'num' }, display.outputTokensPerSecond ?? ''),
    h('td', { class: 'num' }, display.ttftP50Ms ?? ''),
    h(
      'td',
      { class: 'badges' },
      BENCHMARK_CONDITIONS.map((t) => badge(object, t)),
    ),
    h('td', { class: 'reason' }, waitingReason(object)),
    h(
      'td',
      { class: 'num', title: object.metadata.creationTimestamp ?? '' },
      age(object.metadata.creationTimestamp),
    ),
  );
}

function clusterRow(object: KubeObject): HTMLElement {
  const spec = object.spec as { host?: string; user?: string } | undefined;
  const ready = condition(object, 'Ready');
  return h(
    'tr',
    { 'data-cluster': object.metadata.name },
    h('td', {}, object.metadata.name),
    h('td', {}, spec?.host ?? ''),
    h(
      'td',
      {},
      h(
        'span',
        { class: `badge ${(ready?.status ?? 'unknown').toLowerCase()}`, title: ready?.message ?? '' },
        ready?.status ?? 'Unknown',
      ),
    ),
    h('td', {}, object.status?.slurmVersion ?? ''),
    h('td', {}, badge(object, 'MonitoringReady')),
    h('td', { class: 'reason' }, ready?.status === 'True' ? '' : (ready?.message ?? '')),
  );
}

export function renderListPage(root: HTMLElement, live: LiveNamespace, selected: Set<string>): () => void {
  const draw = () => {
    const { benchmarks, clusters, refusals, connected } = live.state;
    const compareLink = h(
      'a',
      {
        class: `button${selected.size < 2 ? ' disabled' : ''}`,
        id: 'compare-selected',
        href:
          selected.size < 2
            ? '#/compare'
            : `#/compare?names=${[...selected].map(encodeURIComponent).join(',')}`,
      },
      `Compare selected (${selected.size})`,
    );
    const sorted = [...benchmarks.values()].sort((a, b) =>
      (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? ''),
    );
    replace(
      root,
      h(
        'section',
        {},
        h(
          'div',
          { class: 'title-row' },
          h('h1', {}, `Benchmarks in ${live.namespace}`),
          h('span', { class: `live ${connected ? 'on' : 'off'}` }, connected ? 'live' : 'reconnecting…'),
          compareLink,
          h('a', { class: 'button primary', href: '#/new' }, 'New benchmark'),
        ),
        refusals.inferencebenchmarks
          ? h('p', { class: 'refusal', role: 'alert' }, refusals.inferencebenchmarks)
          : null,
        sorted.length === 0 && !refusals.inferencebenchmarks
          ? h('p', { class: 'muted' }, 'No benchmarks in this namespace yet.')
          : h(
              'table',
              { class: 'grid', id: 'benchmarks' },
              h(
                'thead',
                {},
                h(
                  'tr',
                  {},
                  [
                    '',
                    'Name',
                    'Phase',
                    'Model',
                    'Engine',
                    'Clients',
                    'Progress',
                    'Tok/s',
                    'TTFT p50',
                    'Conditions',
                    'Waiting on',
                    'Age',
                  ].map((t) => h('th', {}, t)),
                ),
              ),
              h(
                'tbody',
                {},
                sorted.map((o) => benchmarkRow(o, selected, draw)),
              ),
            ),
      ),
      h(
        'section',
        {},
        h('h2', {}, 'SLURM clusters'),
        refusals.slurmclusters ? h('p', { class: 'refusal', role: 'alert' }, refusals.slurmclusters) : null,
        clusters.size === 0 && !refusals.slurmclusters
          ? h('p', { class: 'muted' }, 'No SlurmCluster in this namespace.')
          : h(
              'table',
              { class: 'grid', id: 'clusters' },
              h(
                'thead',
                {},
                h(
                  'tr',
                  {},
                  ['Name', 'Host', 'Ready', 'SLURM', 'Monitoring', 'Message'].map((t) => h('th', {}, t)),
                ),
              ),
              h('tbody', {}, [...clusters.values()].map(clusterRow)),
            ),
      ),
    );
  };
  draw();
  return live.subscribe(draw);
}
