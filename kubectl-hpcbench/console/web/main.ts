import { getJson, send } from './api.js';
import { renderComparePage } from './compare-page.js';
import { renderDetailPage } from './detail-page.js';
import { h, replace } from './dom.js';
import { renderListPage } from './list-page.js';
import { LiveNamespace } from './store.js';
import { CONSOLE_CSS } from './style.js';
import { renderWizardPage } from './wizard-page.js';

/**
 * The console's page: a hash router over four views (list, new, detail, compare) of one namespace, all fed by
 * one live event stream. Plain DOM (no framework): four small views, and nothing to download at view time.
 */

const app = document.getElementById('app') as HTMLElement;
const namespaceInput = document.getElementById('namespace') as HTMLInputElement;
const selected = new Set<string>();
let live: LiveNamespace | undefined;
let leave: (() => void) | undefined;

function go(hash: string): void {
  if (location.hash === hash) void route();
  else location.hash = hash;
}

function namespaceOfPage(): string {
  const fromUrl = new URLSearchParams(location.search).get('namespace');
  const meta = document.querySelector<HTMLMetaElement>('meta[name="hpcbench-namespace"]')?.content;
  return fromUrl ?? sessionStorage.getItem('hpcbench-namespace') ?? meta ?? 'default';
}

function liveFor(namespace: string): LiveNamespace {
  if (live?.namespace !== namespace) {
    live?.close();
    live = new LiveNamespace(namespace);
  }
  return live;
}

async function route(): Promise<void> {
  leave?.();
  leave = undefined;
  const current = liveFor(namespaceInput.value);
  const [path = '', query = ''] = location.hash.replace(/^#/, '').split('?');
  const parts = path
    .split('/')
    .filter((p) => p.length > 0)
    .map(decodeURIComponent);
  try {
    if (parts[0] === 'new') leave = await renderWizardPage(app, current, go);
    else if (parts[0] === 'ib' && parts[1]) leave = renderDetailPage(app, current, parts[1], go);
    else if (parts[0] === 'compare') {
      const names = (new URLSearchParams(query).get('names') ?? '').split(',').filter((n) => n.length > 0);
      leave = renderComparePage(app, current, names, go);
    } else if (parts[0] === 'grafana') {
      replace(
        app,
        h('h1', {}, 'Grafana'),
        h('p', { class: 'muted' }, 'Opening a tunnel to the Helm chart’s Grafana…'),
      );
      await openGrafana();
    } else leave = renderListPage(app, current, selected);
  } catch (error) {
    replace(
      app,
      h('p', { class: 'refusal', role: 'alert' }, error instanceof Error ? error.message : String(error)),
    );
  }
}

async function openGrafana(): Promise<void> {
  try {
    const { url } = await send<{ url: string }>('POST', '/api/grafana');
    replace(
      app,
      h('h1', {}, 'Grafana'),
      h(
        'p',
        {},
        'Grafana answers through a port-forward to the chart’s tunnel: ',
        h('a', { href: url, target: '_blank', rel: 'noopener', id: 'grafana-url' }, url),
      ),
    );
  } catch (error) {
    replace(
      app,
      h('h1', {}, 'Grafana'),
      h('p', { class: 'refusal', role: 'alert' }, error instanceof Error ? error.message : String(error)),
    );
  }
}

async function start(): Promise<void> {
  const style = document.createElement('style');
  style.textContent = CONSOLE_CSS;
  document.head.appendChild(style);
  namespaceInput.value = namespaceOfPage();
  namespaceInput.addEventListener('change', () => {
    const value = namespaceInput.value.trim();
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(value)) return;
    sessionStorage.setItem('hpcbench-namespace', value);
    go('#/');
    void route();
  });
  const context = await getJson<{ context: string; grafana: boolean }>('/api/context');
  document.title = `hpcbench console · ${context.context}`;
  if (!context.grafana)
    document
      .getElementById('grafana-link')
      ?.setAttribute('title', 'start the console with --grafana-namespace to reach Grafana');
  window.addEventListener('hashchange', () => void route());
  await route();
}

void start();
