import { ApiError, getText, nsPath, send } from './api.js';
import { age, h, replace } from './dom.js';
import { type KubeObject, type LiveNamespace, waitingReason } from './store.js';

/**
 * One benchmark: live phase, progress, conditions and SLURM jobs; the report's charts once its results are
 * stored; the job logs per role (refreshed while the run goes) with download; and cancel (delete, confirmed).
 */

const LOG_ROLES = ['server', 'client', 'monitoring'] as const;
const LOG_REFRESH_MS = 5_000;
const FINAL = new Set(['Succeeded', 'Failed']);

function keyValues(rows: [string, string | undefined][]): HTMLElement {
  return h(
    'dl',
    { class: 'kv' },
    rows
      .filter(([, v]) => v !== undefined && v !== '')
      .flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v ?? '')]),
  );
}

function statusView(object: KubeObject): HTMLElement {
  const status = object.status ?? {};
  const progress = status.progress;
  const pct =
    progress && progress.totalRequests > 0
      ? Math.min(100, Math.round((progress.completedRequests / progress.totalRequests) * 100))
      : 0;
  const display = status.display ?? {};
  return h(
    'div',
    { id: 'live-status' },
    h(
      'div',
      { class: 'title-row' },
      h(
        'span',
        { class: `phase big ${(status.phase ?? 'Pending').toLowerCase()}`, id: 'phase' },
        status.phase ?? 'Pending',
      ),
      h('span', { class: 'reason' }, waitingReason(object)),
    ),
    progress
      ? h(
          'div',
          {
            class: 'progress wide',
            id: 'progress',
            title: `${progress.completedRequests} of ${progress.totalRequests}`,
          },
          h('span', { class: 'bar' }, h('span', { class: 'fill', style: `width:${pct}%` })),
          ` ${progress.completedRequests} / ${progress.totalRequests} measured requests${progress.failedRequests ? `, ${progress.failedRequests} failed` : ''}`,
        )
      : null,
    keyValues([
      ['Output tok/s', display.outputTokensPerSecond],
      ['TTFT p50 (ms)', display.ttftP50Ms],
      ['Knee / SLO', display.saturation],
      ['Started', (status.startTime as string | undefined) ?? undefined],
      ['Completed', (status.completionTime as string | undefined) ?? undefined],
      ['Run', (status.runId as string | undefined) ?? undefined],
      ['Records on the cluster', status.resultsStore?.recordsPath],
    ]),
    h('h2', {}, 'Conditions'),
    h(
      'table',
      { class: 'grid', id: 'conditions' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Type', 'Status', 'Reason', 'Message', 'Since'].map((t) => h('th', {}, t)),
        ),
      ),
      h(
        'tbody',
        {},
        (status.conditions ?? []).map((c) =>
          h(
            'tr',
            { 'data-condition': c.type },
            h('td', {}, c.type),
            h('td', {}, h('span', { class: `badge ${c.status.toLowerCase()}` }, c.status)),
            h('td', {}, c.reason ?? ''),
            h('td', { class: 'reason' }, c.message ?? ''),
            h('td', { class: 'num' }, age(c.lastTransitionTime)),
          ),
        ),
      ),
    ),
    h('h2', {}, 'SLURM jobs'),
    (status.slurmJobs ?? []).length === 0
      ? h('p', { class: 'muted' }, 'No job submitted yet.')
      : h(
          'table',
          { class: 'grid', id: 'jobs' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ['Role', 'Job', 'State', 'Reason', 'Node', 'Exit'].map((t) => h('th', {}, t)),
            ),
          ),
          h(
            'tbody',
            {},
            (status.slurmJobs ?? []).map((j) =>
              h(
                'tr',
                {},
                h('td', {}, j.role),
                h('td', {}, j.id),
                h('td', {}, j.state),
                h('td', {}, j.reason ?? ''),
                h('td', {}, j.node ?? ''),
                h('td', {}, j.exitCode ?? ''),
              ),
            ),
          ),
        ),
  );
}

export function renderDetailPage(
  root: HTMLElement,
  live: LiveNamespace,
  name: string,
  go: (hash: string) => void,
): () => void {
  const base = `${nsPath(live.namespace)}/benchmarks/${encodeURIComponent(name)}`;
  const statusSlot = h('div', {});
  const reportSlot = h(
    'div',
    { id: 'report-slot' },
    h('p', { class: 'muted' }, 'The charts appear when the run’s results are stored.'),
  );
  const logText = h('pre', { id: 'log', class: 'code log' });
  const logNote = h('p', { class: 'muted', id: 'log-note' });
  const download = h(
    'a',
    { class: 'button', id: 'log-download', href: `${base}/logs?role=server&download=1` },
    'Download log',
  );
  const cancelSlot = h('div', { class: 'cancel' });
  let role: (typeof LOG_ROLES)[number] = 'server';
  let reportFor = '';
  let stopped = false;

  const tabs = h(
    'div',
    { class: 'tabs', role: 'tablist' },
    LOG_ROLES.map((r) =>
      h(
        'button',
        {
          type: 'button',
          role: 'tab',
          'data-role': r,
          'aria-selected': r === role ? 'true' : 'false',
          onclick: () => {
            role = r;
            for (const b of tabs.querySelectorAll('button'))
              b.setAttribute('aria-selected', String(b.dataset.role === r));
            download.setAttribute('href', `${base}/logs?role=${r}&download=1`);
            void loadLog();
          },
        },
        r,
      ),
    ),
  );

  const loadLog = async () => {
    try {
      const atBottom = logText.scrollTop + logText.clientHeight >= logText.scrollHeight - 8;
      logText.textContent = await getText(`${base}/logs?role=${role}`);
      logNote.textContent = '';
      if (atBottom) logText.scrollTop = logText.scrollHeight;
    } catch (error) {
      logText.textContent = '';
      logNote.textContent = error instanceof ApiError ? error.refusal.message : String(error);
    }
  };

  const cancel = () => {
    replace(
      cancelSlot,
      h(
        'span',
        { class: 'confirm', role: 'alertdialog' },
        `Delete ${name}? Its SLURM jobs are cancelled; its results ConfigMap goes too unless spec.retainResults is true. `,
        h(
          'button',
          {
            type: 'button',
            class: 'danger',
            id: 'confirm-delete',
            onclick: async () => {
              try {
                await send('DELETE', base);
                go('#/');
              } catch (error) {
                replace(
                  cancelSlot,
                  h(
                    'span',
                    { class: 'refusal', role: 'alert' },
                    error instanceof ApiError
                      ? `${error.refusal.reason}: ${error.refusal.message}`
                      : String(error),
                  ),
                );
              }
            },
          },
          'Delete',
        ),
        h('button', { type: 'button', onclick: () => drawCancel() }, 'Keep'),
      ),
    );
  };
  const drawCancel = () =>
    replace(
      cancelSlot,
      h(
        'button',
        { type: 'button', class: 'danger', id: 'cancel-benchmark', onclick: cancel },
        'Cancel benchmark…',
      ),
    );

  const draw = () => {
    const object = live.state.benchmarks.get(name);
    if (!object) {
      replace(
        statusSlot,
        live.state.refusals.inferencebenchmarks
          ? h('p', { class: 'refusal', role: 'alert' }, live.state.refusals.inferencebenchmarks)
          : h('p', { class: 'muted' }, `No benchmark ${name} in ${live.namespace} (yet, or any more).`),
      );
      return;
    }
    replace(statusSlot, statusView(object));
    const store = object.status?.resultsStore;
    const key = store?.complete ? `${store.configMap}` : '';
    if (key && key !== reportFor) {
      reportFor = key;
      replace(
        reportSlot,
        h(
          'div',
          { class: 'title-row' },
          h(
            'a',
            { class: 'button', href: `${base}/report?download=1`, id: 'report-download' },
            'Download report (HTML)',
          ),
        ),
        h('iframe', { id: 'report', src: `${base}/report`, title: `report of ${name}`, loading: 'eager' }),
      );
    }
  };

  replace(
    root,
    h(
      'div',
      { class: 'title-row' },
      h('h1', {}, name),
      h('span', { class: 'muted' }, `namespace ${live.namespace}`),
      cancelSlot,
    ),
    statusSlot,
    h('h2', {}, 'Report'),
    reportSlot,
    h('h2', {}, 'Logs'),
    h('div', { class: 'title-row' }, tabs, download),
    logNote,
    logText,
  );
  drawCancel();
  draw();
  void loadLog();
  // Logs: read again while the run goes (the operator refreshes the tails at most every 10 s), once more at the end.
  let lastPhase = '';
  const timer = setInterval(() => {
    const phase = live.state.benchmarks.get(name)?.status?.phase ?? '';
    if (stopped || (FINAL.has(phase) && FINAL.has(lastPhase))) return;
    lastPhase = phase;
    void loadLog();
  }, LOG_REFRESH_MS);
  const unsubscribe = live.subscribe(draw);
  return () => {
    stopped = true;
    clearInterval(timer);
    unsubscribe();
  };
}
