import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { type InferenceBenchmarkStatus, MAX_SAMPLES, RESULTS_LABELS, ResultsKeys } from '../../crds/index.js';
import { E2E_TEST_TIMEOUT_MS, E2eEnvironment } from '../e2e/environment.js';
import { uniqueName } from '../support/kube.js';
import { kubectl, kubectlOk } from '../support/kube-cli.js';
import { remote } from '../support/ssh.js';
import { waitFor } from '../support/wait.js';
import { benchmarkReader, InstalledPlugin } from './plugin-support.js';

/**
 * `kubectl hpcbench` as a user runs it, through kubectl's own plugin lookup (an executable named
 * kubectl-hpcbench on the PATH), after real runs on the sandbox: the operator stores each run's results
 * ConfigMap; the plugin reads it with nothing but a kubeconfig. Two benchmarks of one recipe run once, side by
 * side, and every check below reuses them.
 */

const env = new E2eEnvironment(uniqueName('plugin'));
/**
 * Requests per run. The cluster admits one benchmark at a time (maxActiveBenchmarks 1), so every run has the
 * 2 cores to itself and the comparisons compare configurations, not contention: side by side, each Ollama's
 * threads fought the others' (TPOT 411 ms instead of 43), TTFT p99 was five times p50, and the slower
 * configuration's +99% TTFT was not significant (p=0.065).
 */
const REQUESTS = 24;
const elsewhere = uniqueName('plugin-b');
let plugin: InstalledPlugin;
const outDir = mkdtempSync(join(tmpdir(), 'ibo-plugin-out-'));
let readerKubeconfig = '';
/** `logs ib/base -f`, started while the run goes (on the operator's live tails); it ends by itself. */
let following: Promise<Run> | undefined;
let followedWhileRunning = false;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** `kubectl hpcbench ARGS` with the admin kubeconfig in KUBECONFIG (or the one in `kubeconfig`). */
function hpcbench(args: string[], kubeconfig = env.kube.kubeconfig): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = plugin.spawn(args, kubeconfig);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

async function ok(args: string[]): Promise<string> {
  const run = await hpcbench(args);
  if (run.code !== 0) throw new Error(`kubectl hpcbench ${args.join(' ')} exited ${run.code}: ${run.stderr}`);
  return run.stdout;
}

type Status = InferenceBenchmarkStatus & {
  resultsStore?: { configMap: string; recordsPath: string; complete: boolean };
};

async function storedStatus(name: string): Promise<Status> {
  return env.waitForBenchmark(
    name,
    'its results ConfigMap complete',
    (object) => {
      const status = object.status as Status | undefined;
      return status?.resultsStore?.complete ? status : undefined;
    },
    120_000,
  );
}

async function configMapExists(name: string): Promise<boolean> {
  const result = await kubectl(['-n', env.namespace, 'get', 'configmap', name, '-o', 'name']);
  if (result.code === 0) return true;
  if (result.stderr.includes('NotFound')) return false;
  throw new Error(result.stderr);
}

beforeAll(async () => {
  await env.setUp({ monitoring: false });
  plugin = new InstalledPlugin(env);
  await env.startOperator();
  await env.setMaxActiveBenchmarks(1);
  const workload = {
    clients: 2,
    requestsPerClient: REQUESTS / 2,
    maxTokens: 8,
    prompt: 'Say hello in five words.',
    requestTimeoutSeconds: 120,
  };
  await env.apply(env.benchmarkManifest('base', { workload }));
  await env.apply(env.benchmarkManifest('again', { workload, retainResults: true }));
  // 4 clients served 4 at a time, and the same deliberately slower: one at a time, so three of four wait.
  const four = { ...workload, clients: 4, requestsPerClient: REQUESTS / 4 };
  await env.apply(env.benchmarkManifest('wide', { workload: four }));
  await env.apply(env.benchmarkManifest('slow', { workload: four, server: { numParallel: 1 } }));
  const live = await env.waitForBenchmark(
    'base',
    'its live log tails',
    (object) => (object.status as Status | undefined)?.resultsStore,
    600_000,
  );
  followedWhileRunning = !live.complete;
  following = hpcbench(['logs', 'ib/base', '-n', env.namespace, '-f']);

  // A reader that may read benchmarks and their results in this namespace, and nothing in `elsewhere`.
  await kubectlOk(['create', 'namespace', elsewhere]);
  readerKubeconfig = await benchmarkReader(env, ['inferencebenchmarks']);

  await env.waitCondition('base', 'BenchmarkComplete', 900);
  await env.waitCondition('again', 'BenchmarkComplete', 900);
  await env.waitCondition('wide', 'BenchmarkComplete', 900);
  await env.waitCondition('slow', 'BenchmarkComplete', 900);
}, E2E_TEST_TIMEOUT_MS * 2);

afterAll(async () => {
  await env.tearDown();
  await kubectl(['delete', 'namespace', elsewhere, '--wait=false']);
  if (readerKubeconfig) rmSync(dirname(readerKubeconfig), { recursive: true, force: true });
  plugin?.remove();
  rmSync(outDir, { recursive: true, force: true });
});

describe('kubectl hpcbench after real runs on the sandbox', () => {
  it('kubectl get ib prints Tok/s with one decimal and TTFT in whole ms', async () => {
    await storedStatus('base');
    const table = await env.kubectl(['get', 'ib', 'base']);
    const [header = '', row = ''] = table.trim().split('\n');
    const cells = row.trim().split(/\s{2,}/);
    const column = (name: string) =>
      cells[
        header
          .trim()
          .split(/\s{2,}/)
          .indexOf(name)
      ];
    console.log(`kubectl get ib:\n${table}`);
    expect(column('TOK/S')).toMatch(/^\d+\.\d$/);
    expect(column('TTFT P50')).toMatch(/^\d+$/);
  });

  it('results: the summary, -o json with the samples of every request, -o yaml and -o csv', async () => {
    const status = await storedStatus('base');
    const text = await ok(['results', 'ib/base', '-n', env.namespace]);
    expect(text).toContain('TTFT (ms)');
    expect(text).toContain(`${REQUESTS} (${REQUESTS} succeeded, 0 failed`);

    const doc = JSON.parse(await ok(['results', 'ib/base', '-n', env.namespace, '-o', 'json'])) as {
      results: { counts: { requests: number }; ttftMs: { p50: number } };
      samples: {
        count: number;
        measured: number;
        method: string;
        ttftMs: (number | null)[];
        e2eMs: (number | null)[];
      };
      recordsPath: string;
      configMap: string;
    };
    expect(doc.results.counts.requests).toBe(REQUESTS);
    expect(doc.samples).toMatchObject({ count: REQUESTS, measured: REQUESTS, method: 'all' });
    expect(doc.samples.ttftMs).toHaveLength(REQUESTS);
    expect(doc.samples.ttftMs.every((v) => typeof v === 'number' && v > 0)).toBe(true);
    expect(doc.samples.e2eMs.every((v) => typeof v === 'number' && v > 0)).toBe(true);
    // The summary at full precision, not status' 3 decimals: the same figure within rounding.
    expect(doc.results.ttftMs.p50).toBeCloseTo(status.results?.ttftMs.p50 ?? Number.NaN, 2);
    // Its records path is in status, and the records are there on the cluster.
    expect(doc.recordsPath).toBe(status.resultsStore?.recordsPath);
    const lines = await remote(env.hpc.ssh, `wc -l < '${doc.recordsPath}'`);
    expect(Number(lines.trim())).toBeGreaterThanOrEqual(REQUESTS);

    const yaml = parseYaml(await ok(['results', 'ib/base', '-n', env.namespace, '-o', 'yaml'])) as typeof doc;
    expect(yaml.configMap).toBe(doc.configMap);
    const csv = (await ok(['results', 'ib/base', '-n', env.namespace, '-o', 'csv'])).trim().split('\n');
    expect(csv[0]).toBe('sample,ttftMs,tpotMs,e2eMs');
    expect(csv).toHaveLength(REQUESTS + 1);

    const cm = JSON.parse(await env.kubectl(['get', 'configmap', doc.configMap, '-o', 'json'])) as {
      metadata: { labels: Record<string, string>; ownerReferences?: { kind: string; name: string }[] };
      data: Record<string, string>;
      binaryData: Record<string, string>;
    };
    expect(cm.metadata.labels[RESULTS_LABELS.benchmark]).toBe('base');
    expect(cm.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'InferenceBenchmark', name: 'base' });
    expect(Buffer.from(cm.binaryData[ResultsKeys.sample('ttftMs')] ?? '', 'base64')).toHaveLength(
      REQUESTS * 4,
    );
    const bytes =
      Object.values(cm.data).reduce((s, v) => s + Buffer.byteLength(v), 0) +
      Object.values(cm.binaryData).reduce((s, v) => s + Buffer.from(v, 'base64').length, 0);
    console.log(`results ConfigMap of a ${REQUESTS}-request run: ${bytes} bytes (sample cap ${MAX_SAMPLES})`);
  });

  it('report: one self-contained HTML file with SVG charts', async () => {
    const file = join(outDir, 'base.html');
    const said = await ok(['report', 'ib/base', '-n', env.namespace, '-o', file]);
    expect(said).toContain(file);
    const html = readFileSync(file, 'utf8');
    expect(html).toContain('<svg');
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href="http/);
    console.log(`report of ib/base: ${statSync(file).size} bytes`);
  });

  it('compare: two runs of one recipe, with a Mann-Whitney verdict on the per-request samples', async () => {
    await storedStatus('again');
    const text = await ok(['compare', 'ib/base', 'ib/again', '-n', env.namespace]);
    console.log(text);
    expect(text).toContain('TTFT p50');
    expect(text).toContain('Mann-Whitney');
    const json = JSON.parse(
      await ok(['compare', 'ib/base', 'ib/again', '-n', env.namespace, '-o', 'json']),
    ) as {
      runs: string[];
      rows: { metric: string; verdict: { tested: boolean; test?: string; significant?: boolean } }[];
    };
    expect(json.runs).toEqual(['base', 'again']);
    // One verdict per latency (p50 and p99 share it): three tests, so each at 0.01 keeps the chance of a
    // false alarm on identical runs under 3 % (Bonferroni). All three must be tested and not significant.
    const strict = JSON.parse(
      await ok(['compare', 'ib/base', 'ib/again', '-n', env.namespace, '-o', 'json', '--alpha', '0.01']),
    ) as typeof json;
    for (const metric of ['ttftP50', 'tpotP50', 'e2eP50'])
      expect(strict.rows.find((r) => r.metric === metric)?.verdict, metric).toMatchObject({
        tested: true,
        test: 'mann-whitney',
        significant: false,
      });
    // A threshold no change can cross passes the gate; a bad one is an error (2), not a regression (1).
    expect(
      (
        await hpcbench([
          'compare',
          'ib/base',
          'ib/again',
          '-n',
          env.namespace,
          '--fail-if-regressed',
          '100000',
        ])
      ).code,
    ).toBe(0);
    expect(
      (await hpcbench(['compare', 'ib/base', 'ib/nothing', '-n', env.namespace, '--fail-if-regressed', '5']))
        .code,
    ).toBe(2);
  });

  it('compare finds the slower configuration (numParallel 1 for 4 clients, against 4): TTFT significantly higher, and the gate fails', async () => {
    await storedStatus('wide');
    await storedStatus('slow');
    const text = await ok(['compare', 'ib/wide', 'ib/slow', '-n', env.namespace]);
    console.log(text);
    const json = JSON.parse(
      await ok(['compare', 'ib/wide', 'ib/slow', '-n', env.namespace, '-o', 'json']),
    ) as {
      rows: {
        metric: string;
        values: (number | null)[];
        verdict: { tested: boolean; significant?: boolean; pValue?: number };
      }[];
    };
    const ttft = json.rows.find((r) => r.metric === 'ttftP50');
    expect(ttft?.verdict).toMatchObject({ tested: true, significant: true });
    expect(ttft?.values[1] ?? 0).toBeGreaterThan(ttft?.values[0] ?? Number.POSITIVE_INFINITY);
    const gate = await hpcbench([
      'compare',
      'ib/wide',
      'ib/slow',
      '-n',
      env.namespace,
      '--fail-if-regressed',
      '5',
    ]);
    expect(gate.code, gate.stderr).toBe(1);
    expect(gate.stderr).toContain('regressed: TTFT');
  });

  it('logs --role monitoring of a run without monitoring: one clear line', async () => {
    const run = await hpcbench(['logs', 'ib/base', '-n', env.namespace, '--role', 'monitoring']);
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/ran without monitoring \(monitoring is switched off by the SlurmCluster\)/);
  });

  it('logs -f followed the server log while the run went, and stopped by itself with the whole log once it ended', async () => {
    expect(followedWhileRunning).toBe(true);
    const followed = await following;
    expect(followed?.code, followed?.stderr).toBe(0);
    const final = JSON.parse(await ok(['results', 'ib/base', '-n', env.namespace, '-o', 'json'])) as {
      configMap: string;
    };
    const cm = JSON.parse(await env.kubectl(['get', 'configmap', final.configMap, '-o', 'json'])) as {
      data: Record<string, string>;
    };
    const server = cm.data[ResultsKeys.log('server')] ?? '';
    const { server: info } = JSON.parse(cm.data[ResultsKeys.logs] ?? '{}') as { server?: { bytes: number } };
    console.log(
      `logs -f printed ${followed?.stdout.length} characters; the server log is ${info?.bytes} bytes`,
    );
    // A log that fits one tail arrives whole, piece by piece; a longer one ends with the final tail.
    if ((info?.bytes ?? 0) <= 64 * 1024) expect(followed?.stdout).toBe(server);
    else expect(followed?.stdout.endsWith(server.slice(-1000))).toBe(true);
  });

  it("logs --role server shows Ollama's log after the jobs ended, and -f on a finished run prints it and returns", async () => {
    const status = await storedStatus('base');
    expect(
      status.slurmJobs?.every((job) => ['COMPLETED', 'CANCELLED', 'FAILED', 'TIMEOUT'].includes(job.state)),
    ).toBe(true);
    const server = await ok(['logs', 'ib/base', '-n', env.namespace, '--role', 'server']);
    // Ollama's own lines: its HTTP access log ([GIN]) or its startup (version, listening).
    expect(server).toMatch(/\[GIN\]|Listening on|ollama/i);
    const client = await ok(['logs', 'ib/base', '-n', env.namespace, '--role', 'client']);
    expect(client.length).toBeGreaterThan(0);
    const followed = await ok(['logs', 'ib/base', '-n', env.namespace, '-f']);
    expect(followed).toBe(server);
  });

  it('a ServiceAccount may read namespace A and gets one clear line for B, from every command', async () => {
    const canI = async (namespace: string, resource: string) =>
      (
        await kubectl(['auth', 'can-i', 'get', resource, '-n', namespace], { kubeconfig: readerKubeconfig })
      ).stdout.trim();
    expect(await canI(env.namespace, 'inferencebenchmarks.hpcbench.io')).toBe('yes');
    expect(await canI(env.namespace, 'configmaps')).toBe('yes');
    expect(await canI(elsewhere, 'inferencebenchmarks.hpcbench.io')).toBe('no');
    expect(await canI(elsewhere, 'configmaps')).toBe('no');

    const allowed = await hpcbench([
      'results',
      'ib/base',
      '-n',
      env.namespace,
      '--kubeconfig',
      readerKubeconfig,
    ]);
    expect(allowed.code, allowed.stderr).toBe(0);
    for (const args of [
      ['results', 'ib/base'],
      ['report', 'ib/base', '-o', join(outDir, 'refused.html')],
      ['compare', 'ib/base', 'ib/again'],
      ['logs', 'ib/base'],
      ['grafana'],
    ]) {
      const refused = await hpcbench([...args, '-n', elsewhere, '--kubeconfig', readerKubeconfig]);
      expect(refused.code, args.join(' ')).toBe(1);
      const lines = refused.stderr.trim().split('\n');
      expect(lines, `${args.join(' ')}: ${refused.stderr}`).toHaveLength(1);
      expect(lines[0]).toMatch(
        /^Error from server \(Forbidden\): .*"system:serviceaccount:.*:reader" cannot (get|list) /,
      );
      expect(lines[0]).toContain(`in the namespace "${elsewhere}"`);
    }
    expect(existsSync(join(outDir, 'refused.html'))).toBe(false);
  });

  it('retainResults keeps the ConfigMap after delete, and the plugin still reads it; without it, the ConfigMap goes with the benchmark', async () => {
    const kept = (await storedStatus('again')).resultsStore?.configMap ?? '';
    const owned = (await storedStatus('base')).resultsStore?.configMap ?? '';
    await env.kubectl(['delete', 'ib', 'again', 'base', '--timeout=120s']);
    // The garbage collector (the sandbox's kube-controller-manager) removes the owned one.
    await waitFor(
      'the owned results ConfigMap to be garbage-collected',
      async () => ((await configMapExists(owned)) ? undefined : true),
      {
        timeoutMs: 60_000,
        intervalMs: 500,
      },
    );
    expect(await configMapExists(kept)).toBe(true);
    const doc = JSON.parse(await ok(['results', 'ib/again', '-n', env.namespace, '-o', 'json'])) as {
      configMap: string;
      results: { counts: { requests: number } };
    };
    expect(doc.configMap).toBe(kept);
    expect(doc.results.counts.requests).toBe(REQUESTS);
    expect(await ok(['logs', 'ib/again', '-n', env.namespace])).toMatch(/\[GIN\]|Listening on|ollama/i);
    const gone = await hpcbench(['results', 'ib/base', '-n', env.namespace]);
    expect(gone.code).toBe(1);
    expect(gone.stderr.trim()).toMatch(
      /^Error from server \(NotFound\): inferencebenchmarks.hpcbench.io "base" not found/,
    );
    await env.kubectl(['delete', 'configmap', kept]);
  });
});
