import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INFERENCE_BENCHMARK_PLURAL } from '../../crds/index.js';
import { E2E_TEST_TIMEOUT_MS, E2eEnvironment, MODEL_FROM_SANDBOX } from '../e2e/environment.js';
import { adminKubeConfig, uniqueName } from '../support/kube.js';
import { kubectl, kubectlOk } from '../support/kube-cli.js';
import { waitFor } from '../support/wait.js';
import { benchmarkReader, InstalledPlugin } from './plugin-support.js';

/**
 * `kubectl hpcbench console` as a person uses it: the plugin started through kubectl's plugin lookup, its
 * page opened in Debian's chromium with every request off loopback aborted, on real runs on the sandbox.
 * A benchmark applied with kubectl shows up live; one made in the wizard (after the apiserver's dry run
 * refused a bad field, named on the form) runs to Succeeded on its detail page, with the report's charts and
 * the job logs; the two are compared; a reader's console shows RBAC's refusal; cancel deletes. Screenshots
 * are kept in test-output/console/ (git-ignored); README's come from there.
 */

const CHROMIUM = '/usr/bin/chromium';
const OUTPUT = fileURLToPath(new URL('../../test-output/console/', import.meta.url));
const missing = !existsSync(CHROMIUM);
if (missing)
  console.warn(
    `console-browser: skipped, ${CHROMIUM} is missing (test/all.sh installs it: apt-get install -y chromium)`,
  );

const env = new E2eEnvironment(uniqueName('console'));
const elsewhere = uniqueName('console-b');
let plugin: InstalledPlugin;
const WORKLOAD = {
  clients: 2,
  requestsPerClient: 4,
  maxTokens: 8,
  prompt: 'Say hello in five words.',
  requestTimeoutSeconds: 120,
};
const consoles: ChildProcess[] = [];
let browser: Browser;
let context: BrowserContext;
let page: Page;
let readerKubeconfig = '';
/** Requests the page made to anything but 127.0.0.1 (aborted): there must be none. */
const outside: string[] = [];
const pageErrors: string[] = [];

/** `kubectl hpcbench console --port 0` as KUBECONFIG's user; resolves to the URL it prints. */
function startConsole(kubeconfig: string, namespace: string): Promise<string> {
  const child = plugin.spawn(['console', '--port', '0', '-n', namespace], kubeconfig);
  consoles.push(child);
  let stdout = '';
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (c: string) => {
    stderr += c;
  });
  return new Promise((resolve, reject) => {
    child.stdout?.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
      const url = /Console: (http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)/.exec(stdout)?.[1];
      if (url) resolve(url);
    });
    child.on('error', reject);
    child.on('close', (code) => reject(new Error(`console exited ${code}: ${stderr}`)));
  });
}

async function newPage(): Promise<Page> {
  const p = await context.newPage();
  p.on('console', (m) => {
    // The refusals the test provokes (422 dry run, 403 reader, 404 no log yet) are answers, not page errors.
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) pageErrors.push(m.text());
  });
  p.on('pageerror', (e) => pageErrors.push(e.message));
  return p;
}

async function shot(name: string, target: Page = page): Promise<void> {
  await target.screenshot({ path: join(OUTPUT, `${name}.png`), fullPage: true });
}

async function fill(path: string, value: string): Promise<void> {
  const input = page.locator(`[name="${path}"]`);
  // A closed group (optional ones start closed): open it by its summary, as a person would.
  const group = path.split('.').slice(0, -1).join('.');
  if (!(await input.isVisible())) await page.locator(`details[data-path="${group}"] > summary`).click();
  if ((await input.evaluate((el) => el.tagName)) === 'SELECT') await input.selectOption(value);
  else await input.fill(value);
}

async function benchmarkGone(name: string): Promise<boolean> {
  const result = await kubectl(['-n', env.namespace, 'get', 'ib', name, '-o', 'name']);
  if (result.code === 0) return false;
  if (result.stderr.includes('NotFound')) return true;
  throw new Error(result.stderr);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

beforeAll(async () => {
  if (missing) return;
  mkdirSync(OUTPUT, { recursive: true });
  await env.setUp({ monitoring: false });
  plugin = new InstalledPlugin(env);
  await env.startOperator();
  await env.apply(env.benchmarkManifest('applied', { workload: WORKLOAD }));

  // A reader: may read benchmarks and results here, may create nothing, and sees nothing in `elsewhere`.
  await kubectlOk(['create', 'namespace', elsewhere]);
  readerKubeconfig = await benchmarkReader(env, ['inferencebenchmarks', 'slurmclusters']);

  browser = await chromium.launch({ executablePath: CHROMIUM });
  context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, acceptDownloads: true });
  await context.route('**/*', async (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === '127.0.0.1' || url.protocol === 'blob:' || url.protocol === 'data:')
      return route.continue();
    outside.push(url.href);
    return route.abort();
  });
  page = await newPage();
}, E2E_TEST_TIMEOUT_MS);

afterAll(async () => {
  for (const child of consoles) child.kill('SIGTERM');
  await browser?.close();
  if (missing) return;
  await env.tearDown();
  await kubectl(['delete', 'namespace', elsewhere, '--wait=false']);
  if (readerKubeconfig) rmSync(dirname(readerKubeconfig), { recursive: true, force: true });
  plugin?.remove();
});

describe.skipIf(missing)('kubectl hpcbench console in chromium, on real runs on the sandbox', () => {
  let consoleUrl = '';

  it('opens from the printed URL (the token becomes an HttpOnly cookie) and lists the benchmark applied with kubectl, live', async () => {
    consoleUrl = await startConsole(env.kube.kubeconfig, env.namespace);
    await page.goto(consoleUrl, { waitUntil: 'load' });
    // The token left the address bar: the page is at / with the session in a cookie JavaScript cannot read.
    expect(new URL(page.url()).search).toBe('');
    const cookies = await context.cookies();
    expect(cookies.find((c) => c.name === `hpcbench_console_${new URL(consoleUrl).port}`)).toMatchObject({
      httpOnly: true,
      sameSite: 'Strict',
    });
    await page.locator('tr[data-benchmark="applied"]').waitFor({ timeout: 30_000 });
    await page.locator(`tr[data-cluster="${env.clusterName}"]`).waitFor();
    const paint = await page.evaluate(
      () => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? Number.NaN,
    );
    console.log(`console first contentful paint: ${paint.toFixed(0)} ms`);
    expect(paint).toBeGreaterThan(0);

    // Without the token nothing is served, not even the page.
    const stranger = await fetch(new URL('/api/context', consoleUrl));
    expect(stranger.status).toBe(401);
  });

  it('draws a created benchmark, and a status change, within a moment (apiserver request sent -> drawn)', async () => {
    const api = adminKubeConfig(env.kube).makeApiClient(k8s.CustomObjectsApi);
    const ref = {
      group: 'hpcbench.io',
      version: 'v1alpha1',
      namespace: env.namespace,
      plural: INFERENCE_BENCHMARK_PLURAL,
    };
    /** Sends the request, then waits (polling every animation frame) for the page to show it: ms between. */
    const drawn = async (send: () => Promise<unknown>, selector: string, text: string): Promise<number> => {
      const sent = performance.now();
      await send();
      await page.locator(selector, { hasText: text }).waitFor({ timeout: 30_000 });
      return performance.now() - sent;
    };
    const created: number[] = [];
    for (let i = 0; i < 5; i++) {
      const name = `latency-${i}`;
      // A cluster that does not exist: the operator leaves it Pending, and nothing is submitted.
      const body = env.benchmarkManifest(name, { clusterRef: { name: 'no-such-cluster' } });
      created.push(
        await drawn(
          () => api.createNamespacedCustomObject({ ...ref, body }),
          `tr[data-benchmark="${name}"]`,
          name,
        ),
      );
    }
    // A status change as the operator makes one (a merge patch of the status subresource); its Tok/s cell shows it.
    const changed: number[] = [];
    for (let i = 0; i < 10; i++) {
      const value = `${100 + i}.5`;
      changed.push(
        await drawn(
          () =>
            api.patchNamespacedCustomObjectStatus(
              { ...ref, name: 'latency-0', body: { status: { display: { outputTokensPerSecond: value } } } },
              k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
            ),
          'tr[data-benchmark="latency-0"] td.num',
          value,
        ),
      );
    }
    const line = (what: string, values: number[]) =>
      `${what}: median ${median(values).toFixed(0)} ms, max ${Math.max(...values).toFixed(0)} ms over ${values.length}`;
    console.log(
      `console update latency (request sent -> on screen)\n  ${line('create', created)}\n  ${line('status change', changed)}`,
    );
    await kubectlOk([
      '-n',
      env.namespace,
      'delete',
      'ib',
      ...created.map((_, i) => `latency-${i}`),
      '--wait=false',
    ]);
    await page
      .locator('tr[data-benchmark^="latency-"]')
      .first()
      .waitFor({ state: 'detached', timeout: 60_000 });
  });

  it('wizard: the apiserver’s dry run refuses clients 0 and the form marks that field; fixed, it creates the benchmark', async () => {
    await page.goto(new URL('/#/new', consoleUrl).href);
    await page.locator('#wizard [name="spec.workload.clients"]').waitFor();
    await fill('metadata.name', 'from-wizard');
    await fill('spec.clusterRef.name', env.clusterName);
    await fill('spec.model.name', MODEL_FROM_SANDBOX());
    await fill('spec.slurm.partition', 'cpu');
    await fill('spec.slurm.memGB', '2');
    await fill('spec.slurm.time', '00:20:00');
    await fill('spec.clientService.partition', 'cpu');
    await fill('spec.clientService.memGB', '1');
    await fill('spec.clientService.time', '00:20:00');
    await fill('spec.clientService.cpus', '1');
    await fill('spec.workload.clients', '0');
    await fill('spec.workload.requestsPerClient', String(WORKLOAD.requestsPerClient));
    await fill('spec.workload.maxTokens', String(WORKLOAD.maxTokens));
    await fill('spec.workload.prompt', WORKLOAD.prompt);
    await expect(page.locator('#yaml-preview').textContent()).resolves.toContain('clients: 0');

    await page.click('#check');
    const refusal = page.locator('#dry-run-refusal');
    await refusal.waitFor();
    expect(await refusal.textContent()).toContain('spec.workload.clients');
    await expect(
      page.locator('.field.invalid[data-path="spec.workload.clients"] .field-error').textContent(),
    ).resolves.toMatch(/greater than or equal to 1|should be >= 1/);
    await shot('wizard-refused');
    // A dry run stores nothing.
    expect(await benchmarkGone('from-wizard')).toBe(true);

    await fill('spec.workload.clients', String(WORKLOAD.clients));
    await page.click('#check');
    await page.locator('#dry-run-ok').waitFor();
    expect(await page.locator('.field.invalid').count()).toBe(0);
    expect(await benchmarkGone('from-wizard')).toBe(true);

    const download = page.waitForEvent('download');
    await page.click('#download-yaml');
    expect((await download).suggestedFilename()).toBe('from-wizard.yaml');

    await page.click('#create');
    await page.waitForURL(/#\/ib\/from-wizard$/);
    const created = JSON.parse(
      await env.kubectl(['get', 'ib', 'from-wizard', '-o', 'json', '--show-managed-fields']),
    ) as {
      spec: { workload: { clients: number; prompt: string } };
      metadata: { managedFields: { manager: string }[] };
    };
    expect(created.spec.workload).toMatchObject({ clients: WORKLOAD.clients, prompt: WORKLOAD.prompt });
    expect(created.metadata.managedFields.map((f) => f.manager)).toContain('kubectl-hpcbench-console');
  });

  it('detail: the wizard’s benchmark runs to Succeeded live, with the report’s charts and the job logs', async () => {
    const phase = page.locator('#phase');
    await page.locator('#phase', { hasText: /^(Running|Succeeded)$/ }).waitFor({
      timeout: 600_000,
    });
    await shot('detail-running');
    await waitFor(
      'the detail page to show Succeeded',
      async () => (await phase.textContent()) === 'Succeeded' || undefined,
      { timeoutMs: 900_000 },
    );
    const iframe = page.frameLocator('iframe#report');
    await iframe.locator('figure.chart svg').first().waitFor({ timeout: 60_000 });
    expect(await iframe.locator('svg [aria-roledescription]').count()).toBeGreaterThan(0);
    await expect(
      page.locator('#conditions tr[data-condition="BenchmarkComplete"]').textContent(),
    ).resolves.toContain('True');
    await expect(page.locator('#jobs').textContent()).resolves.toMatch(/server/);

    await page.click('button[data-role="server"]');
    await waitFor(
      'the server log on the page',
      async () => ((await page.locator('pre#log').textContent()) ?? '').length > 0 || undefined,
      { timeoutMs: 30_000 },
    );
    expect(await page.locator('pre#log').textContent()).toMatch(/\[GIN\]|Listening on|ollama/i);
    await page.click('button[data-role="client"]');
    await waitFor(
      'the client log on the page',
      async () => ((await page.locator('pre#log').textContent()) ?? '').length > 0 || undefined,
      { timeoutMs: 30_000 },
    );
    // This cluster runs without monitoring: the page says why there is no monitoring log.
    await page.click('button[data-role="monitoring"]');
    await waitFor(
      'a note that there is no monitoring log',
      async () => ((await page.locator('#log-note').textContent()) ?? '').length > 0 || undefined,
      { timeoutMs: 30_000 },
    );
    await page.click('button[data-role="server"]');
    await waitFor(
      'the server log again',
      async () => ((await page.locator('pre#log').textContent()) ?? '').length > 0 || undefined,
      { timeoutMs: 30_000 },
    );
    await shot('detail');
  });

  it('compare: the kubectl run and the wizard run side by side, as a table and charts', async () => {
    await env.waitCondition('applied', 'BenchmarkComplete', 900);
    await env.waitForBenchmark(
      'applied',
      'its results stored',
      (o) =>
        (o.status as { resultsStore?: { complete?: boolean } } | undefined)?.resultsStore?.complete
          ? true
          : undefined,
      120_000,
    );
    await page.goto(new URL('/#/', consoleUrl).href);
    await page.locator('tr[data-benchmark="applied"] input[type=checkbox]').check();
    await page.locator('tr[data-benchmark="from-wizard"] input[type=checkbox]').check();
    await shot('list');
    await page.click('#compare-selected');
    await page.waitForURL(/#\/compare\?names=/);
    const table = page.locator('#compare-table');
    await table.waitFor({ timeout: 60_000 });
    expect(await table.textContent()).toMatch(/TTFT/);
    expect(await page.locator('#compare-table th').allTextContents()).toEqual(
      expect.arrayContaining(['applied', 'from-wizard']),
    );
    const charts = page.locator('figure.chart[data-chart] svg');
    expect(await charts.count()).toBeGreaterThan(0);
    expect(await page.locator('figure.chart svg [aria-roledescription]').count()).toBeGreaterThan(0);
    await shot('compare');
  });

  it('RBAC: a reader’s console shows the apiserver’s refusal for a namespace it may not read, and may not create', async () => {
    const readerUrl = await startConsole(readerKubeconfig, env.namespace);
    const reader = await newPage();
    await reader.goto(readerUrl);
    await reader.locator('tr[data-benchmark="from-wizard"]').waitFor({ timeout: 30_000 });
    // Another namespace: the list says what the apiserver said (forbidden), not an empty table.
    await reader.goto(new URL(`/?namespace=${elsewhere}#/`, readerUrl).href);
    const refusal = reader.locator('p.refusal').first();
    await refusal.waitFor({ timeout: 30_000 });
    expect(await refusal.textContent()).toMatch(/forbidden/i);
    await shot('reader-forbidden', reader);
    // Create, even as a dry run, is refused by RBAC and shown as such.
    const answer = await reader.evaluate(async (ns) => {
      const response = await fetch(`/api/namespaces/${ns}/benchmarks?dryRun=All`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-hpcbench-console': '1' },
        body: JSON.stringify({
          apiVersion: 'hpcbench.io/v1alpha1',
          kind: 'InferenceBenchmark',
          metadata: { name: 'nope' },
          spec: {},
        }),
      });
      return { status: response.status, body: (await response.json()) as { reason: string } };
    }, env.namespace);
    expect(answer).toMatchObject({ status: 403, body: { reason: 'Forbidden' } });
    await reader.close();
  });

  it('cancel: confirmed, it deletes the benchmark, and the list drops it', async () => {
    await page.goto(new URL('/#/ib/from-wizard', consoleUrl).href);
    await page.click('#cancel-benchmark');
    await page.click('#confirm-delete');
    await page.waitForURL(/#\/$/);
    await waitFor('from-wizard deleted', async () => (await benchmarkGone('from-wizard')) || undefined, {
      timeoutMs: 120_000,
    });
    await page.locator('tr[data-benchmark="from-wizard"]').waitFor({ state: 'detached', timeout: 60_000 });
  });

  it('loaded nothing from off the machine and logged no page error', () => {
    expect(outside).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
