import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ollamaJobScript } from '../../slurm-bridge/engines/ollama/job-script.js';
import type { Dashboard } from '../../slurm-bridge/monitoring/grafana/dashboard-model.js';
import { shippedDashboards } from '../../slurm-bridge/monitoring/grafana/dashboards.js';
import { CLIENT_METRICS } from '../../slurm-bridge/monitoring/grafana/inference-dashboard.js';
import {
  endpointsFile,
  scrapeTokenFile,
  TARGET_ROLES,
  targetsDir,
} from '../../slurm-bridge/monitoring/layout.js';
import { clientServiceJobScript } from '../../slurm-bridge/scripts/client-service.js';
import { monitoringJobScript } from '../../slurm-bridge/scripts/monitoring.js';
import { shellQuote } from '../../slurm-bridge/shell/quote.js';
import { requireHpc } from '../sandbox/description.js';
import { cancelJobs, splitHostPort, submitJob, waitForJobState } from '../support/slurm.js';
import { openForward, type PortForward, remote, runRemote } from '../support/ssh.js';
import { GiveUp, waitFor } from '../support/wait.js';
import { syntheticServerJob } from './jobs.js';
import { instantQuery, labelValuesQuery, rangeQuery, substituteVariables } from './prometheus-queries.js';

/**
 * The monitoring stack end to end in the sandbox, with the project's own job scripts
 * (slurm-bridge/scripts): the monitoring job (Pushgateway, Prometheus with the generated configuration,
 * node-exporter), a model server job and the client-service job, each registering its targets through
 * file_sd. A benchmark run through the client service's HTTP API pushes its metrics; Prometheus scrapes the
 * client's /metrics with the scrape token. Then every PromQL expression of every shipped dashboard is
 * evaluated against that Prometheus.
 */

const SCRAPE_SECONDS = 2;
// What Grafana would put in for a 5-minute view with a 2 s scrape interval (4 × scrape, at least).
const GRAFANA_BUILTINS = { __rate_interval: '20s', __range: '5m', __interval: '5s' };
const ALL = { benchmark: '.*', run: '.*', node: '.*', gpu: '.*', container: '.*' };

const MonitoringEndpoints = z.object({ prometheus: z.string(), pushgateway: z.string() });
const HostPort = z.string().regex(/^[\w.-]+:\d+$/);
const RunStatus = z.object({
  state: z.string(),
  message: z.string().nullable(),
  progress: z.object({ completed: z.number(), total: z.number().nullable() }),
  pushgateway: z.object({ pushes: z.number(), failures: z.number(), lastError: z.string().nullable() }),
});

const hpc = requireHpc();
const id = randomUUID().slice(0, 8);
// A private work dir, so the test never touches a monitoring stack the operator or another test runs.
const workDir = `${hpc.workDir}/test-monitoring/${id}`;
const targets = targetsDir(workDir);
const benchmark = `monitoring-test-${id}`;
const model = hpc.ollama.model;
const runId = `run-${id}`;
const CLIENTS = 2;
const REQUESTS_PER_CLIENT = 3;

const jobs: string[] = [];
const forwards: ReopeningForward[] = [];
let serverKind: 'ollama' | 'synthetic' | 'none' = 'none';
/** The SLURM job behind each role, to check the slurm_job_id label of its targets. */
const jobIdByRole: Record<string, string> = {};

/** Ends a wait at once, with the job's log, when the job is no longer running. */
async function giveUpIfEnded(jobId: string, what: string): Promise<void> {
  const state = (await remote(hpc.ssh, `squeue -h -t all -j ${jobId} -o %T`)).trim();
  if (state !== '' && !['PENDING', 'CONFIGURING', 'RUNNING'].includes(state)) {
    const log = await runRemote(hpc.ssh, `tail -n 40 ${shellQuote(`${workDir}/logs/`)}*-${jobId}.out`);
    throw new GiveUp(`job ${jobId} ended as ${state} (${what})\n${log.stdout}`);
  }
}

/** Waits for a file a job writes; gives up with the job's log when the job ends first. */
async function readJobFile<T>(file: string, jobId: string, parse: (text: string) => T): Promise<T> {
  return waitFor(
    `${file} from job ${jobId}`,
    async () => {
      const probe = await runRemote(hpc.ssh, `cat ${shellQuote(file)}`);
      if (probe.code === 0 && probe.stdout.trim() !== '') return parse(probe.stdout.trim());
      await giveUpIfEnded(jobId, `before writing ${file}`);
      return undefined;
    },
    { timeoutMs: 240_000, intervalMs: 500 },
  );
}

async function submit(name: string, script: string, partition: string): Promise<string> {
  const jobId = await submitJob(hpc.ssh, script, [
    `--job-name=ibo-test-${name}`,
    `--partition=${partition}`,
    '--time=20',
    `--output=${workDir}/logs/${name}-%j.out`,
  ]);
  jobs.push(jobId);
  return jobId;
}

async function upload(file: string, content: string, mode = '0644'): Promise<void> {
  const dir = file.slice(0, file.lastIndexOf('/'));
  await remote(
    hpc.ssh,
    `mkdir -p ${shellQuote(dir)} && touch ${shellQuote(file)} && chmod ${mode} ${shellQuote(file)} && cat > ${shellQuote(file)}`,
    { input: content },
  );
}

/** One ESM file for `node` on the cluster, as test/build-bundles.mjs makes them, kept in memory. */
async function bundle(entry: string): Promise<string> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL(entry, import.meta.url))],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    write: false,
    external: ['cpu-features', '*.node'],
    // prom-client and others are CommonJS; inside an ESM bundle their require() needs a real one.
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
    logLevel: 'error',
  });
  const file = result.outputFiles[0];
  if (!file) throw new Error('esbuild produced no bundle');
  return file.text;
}

/**
 * Real Ollama when the sandbox has it (binary and imported model). Otherwise the synthetic token server
 * stands in for the model server only: what is under test here is Prometheus, file_sd and the dashboards,
 * and the metrics still come from the real client service. IBO_MONITORING_SERVER=ollama|synthetic forces it.
 */
async function submitModelServer(endpointFile: string): Promise<string> {
  const forced = process.env.IBO_MONITORING_SERVER;
  const hasOllama =
    (
      await runRemote(
        hpc.ssh,
        `test -x ${shellQuote(hpc.bin.ollama)} && test -d ${shellQuote(`${hpc.ollama.modelsDir}/manifests`)}`,
      )
    ).code === 0;
  if (forced === 'ollama' || (forced === undefined && hasOllama)) {
    serverKind = 'ollama';
    const script = ollamaJobScript({
      endpointFile,
      targetsDir: targets,
      modelsDir: hpc.ollama.modelsDir,
      numParallel: CLIENTS,
      benchmark,
      model,
    });
    return submit('ollama', script, 'gpu');
  }
  serverKind = 'synthetic';
  console.warn(
    `monitoring test: using the synthetic token server (${hasOllama ? 'IBO_MONITORING_SERVER=synthetic' : 'the sandbox has no Ollama build or model'})`,
  );
  const bundleFile = `${workDir}/synthetic-ollama.mjs`;
  await upload(bundleFile, await bundle('../synthetic-ollama/main.ts'));
  return submit(
    'ollama',
    syntheticServerJob({ targetsDir: targets, endpointFile, bundleFile, benchmark, model }),
    'gpu',
  );
}

async function vectorValue(expr: string): Promise<number | undefined> {
  const outcome = await instant(expr);
  if (!outcome.ok) throw new GiveUp(`${expr}: ${outcome.error}`);
  return outcome.series[0]?.values[0];
}

/**
 * An ssh -L forward that is opened again after a failure. Other sandbox tests restart sshd (as a login
 * node's admin would), which drops every forward; a request through a dead forward fails once, and the
 * next one goes through a new forward.
 */
class ReopeningForward {
  private current: PortForward | null = null;
  constructor(private readonly hostPort: string) {}

  async fetch(path: string, init?: RequestInit): Promise<Response> {
    try {
      if (this.current === null) {
        const { host, port } = splitHostPort(this.hostPort);
        this.current = await openForward(hpc.ssh, host, port);
      }
      return await fetch(`${this.current.url}${path}`, init);
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  async close(): Promise<void> {
    const current = this.current;
    this.current = null;
    await current?.close();
  }
}

function forward(hostPort: string): ReopeningForward {
  const opened = new ReopeningForward(hostPort);
  forwards.push(opened);
  return opened;
}

let prometheusForward: ReopeningForward | null = null;

/** A Prometheus API call that survives one dropped forward. */
async function viaPrometheus<T>(call: (fetcher: typeof fetch) => Promise<T>): Promise<T> {
  const through = prometheusForward;
  if (through === null) throw new Error('no Prometheus forward yet');
  const fetcher = ((input: string | URL | Request, init?: RequestInit) =>
    through.fetch(new URL(String(input)).pathname, init)) as typeof fetch;
  try {
    return await call(fetcher);
  } catch {
    return call(fetcher);
  }
}

const instant = (expr: string) => viaPrometheus((f) => instantQuery(PROMETHEUS_BASE, expr, f));
const range = (expr: string) => viaPrometheus((f) => rangeQuery(PROMETHEUS_BASE, expr, 300, 5, f));
/** Placeholder origin: viaPrometheus sends only the path, through the forward. */
const PROMETHEUS_BASE = 'http://prometheus.invalid';

beforeAll(async () => {
  await remote(hpc.ssh, `mkdir -p ${shellQuote(`${workDir}/logs`)}`);
  // The operator writes the scrape token before the monitoring job starts; so does the test.
  await upload(scrapeTokenFile(workDir), `${randomBytes(24).toString('hex')}\n`, '0600');
  const clientToken = randomBytes(24).toString('hex');
  const clientTokenFile = `${workDir}/client-token`;
  await upload(clientTokenFile, `${clientToken}\n`, '0600');
  const clientBundle = `${workDir}/client-service.mjs`;
  await upload(clientBundle, await bundle('../../client-service/main.ts'));

  const monitoringId = await submit(
    'monitoring',
    monitoringJobScript({ workDir, scrapeIntervalSeconds: SCRAPE_SECONDS }),
    'cpu',
  );
  const serverEndpointFile = `${workDir}/endpoints/server`;
  const serverId = await submitModelServer(serverEndpointFile);
  jobIdByRole[TARGET_ROLES.monitoring] = monitoringId;
  jobIdByRole[TARGET_ROLES.ollama] = serverId;
  const endpoints = await readJobFile(endpointsFile(workDir), monitoringId, (text) =>
    MonitoringEndpoints.parse(JSON.parse(text)),
  );
  const server = await readJobFile(serverEndpointFile, serverId, (text) => HostPort.parse(text));

  const clientEndpointFile = `${workDir}/endpoints/client`;
  const clientId = await submit(
    'client',
    clientServiceJobScript({
      bundlePath: clientBundle,
      endpointFile: clientEndpointFile,
      targetsDir: targets,
      tokenFile: clientTokenFile,
      metricsTokenFile: scrapeTokenFile(workDir),
      ollamaUrl: `http://${server}`,
      pushgatewayUrl: `http://${endpoints.pushgateway}`,
      outputDir: `${workDir}/client-output`,
      benchmark,
      model,
    }),
    'cpu',
  );
  jobIdByRole[TARGET_ROLES.client] = clientId;
  const client = forward(await readJobFile(clientEndpointFile, clientId, (text) => HostPort.parse(text)));
  prometheusForward = forward(endpoints.prometheus);

  const auth = { authorization: `Bearer ${clientToken}` };
  const started = await client.fetch('/runs', {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({
      id: runId,
      benchmark,
      model,
      workload: {
        clients: CLIENTS,
        requestsPerClient: REQUESTS_PER_CLIENT,
        prompt: 'Name three colours of the rainbow.',
        maxTokens: 24,
        warmupRequests: 1,
        seed: 7,
        requestTimeoutSeconds: 120,
      },
    }),
  });
  expect(started.status, await started.clone().text()).toBe(201);
  let lastSeen = 'no answer yet';
  const status = await waitFor(
    `run ${runId} to finish`,
    async () => {
      const response = await client
        .fetch(`/runs/${runId}`, { headers: auth })
        .catch(async (error: unknown) => {
          await giveUpIfEnded(clientId, String(error));
          throw error;
        });
      const answer = RunStatus.parse(await response.json());
      lastSeen = JSON.stringify(answer);
      if (answer.state === 'running') throw new Error(`still running: ${lastSeen}`);
      return answer;
    },
    { timeoutMs: 300_000, intervalMs: 1000 },
  );
  console.info(`monitoring test: model server ${serverKind}, run ${runId}: ${JSON.stringify(status)}`);
  expect(status).toMatchObject({
    state: 'succeeded',
    progress: { completed: CLIENTS * REQUESTS_PER_CLIENT },
  });
  expect(status.pushgateway.pushes).toBeGreaterThan(0);

  // Prometheus has seen the final push, and every target of every job, once these hold.
  const sel = `benchmark="${benchmark}", run="${runId}"`;
  await waitFor(
    'the final push of the run in Prometheus',
    async () =>
      (await vectorValue(`${CLIENT_METRICS.completed}{${sel}}`)) === CLIENTS * REQUESTS_PER_CLIENT
        ? true
        : undefined,
    { timeoutMs: 60_000, intervalMs: 1000 },
  );
  // The panels use rate(...[20s]): it needs two samples in the window. A run shorter than the push interval
  // may reach Prometheus as one sample of its counters until the next scrape of the Pushgateway.
  for (const counter of [CLIENT_METRICS.outputTokens, CLIENT_METRICS.requests]) {
    await waitFor(
      `two samples of ${counter} in Prometheus`,
      async () =>
        ((await vectorValue(`min(count_over_time(${counter}{${sel}}[20s]))`)) ?? 0) >= 2 || undefined,
      { timeoutMs: 60_000, intervalMs: 1000 },
    );
  }
  await waitFor(
    'a successful scrape of every job target',
    async () => {
      const up = await instant('up == 1');
      if (!up.ok) throw new GiveUp(up.error);
      const seen = new Set(up.series.map((s) => `${s.metric.job}/${s.metric.role}`));
      const missing = EXPECTED_TARGETS.filter((w) => !seen.has(w));
      if (missing.length > 0)
        throw new Error(`not yet up: ${missing.join(', ')} (seen ${[...seen].join(', ')})`);
      return true;
    },
    { timeoutMs: 60_000, intervalMs: 1000 },
  );
}, 600_000);

/** job/role of every target the sandbox's jobs register (no DCGM: the sandbox has no NVIDIA GPU). */
const EXPECTED_TARGETS = [
  'prometheus/monitoring',
  'pushgateway/monitoring',
  'node/monitoring',
  'node/ollama',
  'node/client',
  'client/client',
];

afterAll(async () => {
  await Promise.all(forwards.map((f) => f.close()));
  if (jobs.length > 0) {
    // Retried: sshd may be restarting under another test right now.
    await waitFor(
      'scancel of the test jobs',
      async () => {
        await cancelJobs(hpc.ssh, jobs);
        return true;
      },
      { timeoutMs: 30_000, intervalMs: 1000 },
    ).catch(() => undefined);
    for (const jobId of jobs) {
      await waitForJobState(hpc.ssh, jobId, ['CANCELLED', 'COMPLETED', 'FAILED', 'TIMEOUT', 'absent']).catch(
        () => undefined,
      );
    }
  }
  await waitFor(
    'removal of the test work dir',
    async () => {
      await remote(hpc.ssh, `rm -rf ${shellQuote(workDir)}`);
      return true;
    },
    { timeoutMs: 30_000, intervalMs: 1000 },
  ).catch(() => undefined);
}, 120_000);

const dashboards: [string, Dashboard][] = Object.entries(shippedDashboards());

describe('the monitoring stack in the sandbox', () => {
  it('scrapes the client service’s /metrics with the scrape token', async () => {
    const outcome = await instant(`up{job="client", benchmark="${benchmark}"}`);
    expect(outcome.ok && outcome.series.map((s) => s.values[0])).toEqual([1]);
  });

  it('holds node-exporter samples of the monitoring, Ollama and client jobs, labelled as the contract says', async () => {
    const outcome = await instant(`node_uname_info{job="node"}`);
    expect(outcome.ok).toBe(true);
    const byRole = new Map((outcome.ok ? outcome.series : []).map((s) => [s.metric.role, s.metric]));
    for (const [role, jobId] of Object.entries(jobIdByRole)) {
      expect(byRole.get(role), role).toMatchObject({ node: 'localhost', slurm_job_id: jobId });
    }
    expect(byRole.get(TARGET_ROLES.ollama)).toMatchObject({ benchmark, model });
    expect(byRole.get(TARGET_ROLES.client)).toMatchObject({ benchmark, model });
  });

  it('holds the run’s Pushgateway metrics, grouped by benchmark and run', async () => {
    const outcome = await instant(`${CLIENT_METRICS.legacyTps}{benchmark="${benchmark}", run="${runId}"}`);
    expect(outcome.ok).toBe(true);
    const series = outcome.ok ? outcome.series : [];
    expect(series.length).toBeGreaterThan(0);
    for (const s of series) {
      expect(s.metric).toMatchObject({ job: 'inference-benchmark-client', model: model });
      expect(s.values[0]).toBeGreaterThan(0);
    }
  });

  describe.each(dashboards)('dashboard %s', (_file, dashboard) => {
    const variables = { ...ALL, ...GRAFANA_BUILTINS };

    it('has variable queries that evaluate without error', async () => {
      for (const variable of dashboard.templating.list) {
        const { expr } = labelValuesQuery(variable.query.query);
        const outcome = await instant(substituteVariables(expr, variables));
        expect(outcome, `${variable.name}: ${expr}`).toMatchObject({ ok: true });
      }
    });

    it('has panels whose every PromQL expression evaluates without error', async () => {
      let evaluated = 0;
      for (const panel of dashboard.panels) {
        for (const target of panel.targets) {
          const expr = substituteVariables(target.expr, variables);
          const outcome = target.instant ? await instant(expr) : await range(expr);
          expect(outcome, `${panel.title}: ${expr}`).toMatchObject({ ok: true });
          evaluated++;
        }
      }
      expect(evaluated).toBeGreaterThan(0);
    });
  });

  // Without a failed request these have nothing to show. The engine panels read a server's own /metrics
  // (vLLM, SGLang, llama.cpp's C++ server), which Ollama does not serve; the test above still evaluates their
  // queries. Every other panel must show the run.
  const EMPTY_WITHOUT_ERRORS = ['Errors by kind', 'Error ratio'];
  const isEnginePanel = (title: string): boolean => title.startsWith('Engine: ');

  it('fills every tokens-per-second, latency and request panel with the run’s data', async () => {
    const inference = shippedDashboards()['inference.json'];
    const ours = { ...ALL, ...GRAFANA_BUILTINS, benchmark, run: runId };
    const panels = (inference?.panels ?? []).filter(
      (panel) => !EMPTY_WITHOUT_ERRORS.includes(panel.title) && !isEnginePanel(panel.title),
    );
    expect(panels.map((p) => p.title)).toEqual(
      expect.arrayContaining([
        'Average TPS by model',
        'Model comparison (TPS)',
        'Average TPS now',
        'Inter-token latency',
      ]),
    );
    for (const panel of panels) {
      for (const target of panel.targets) {
        const expr = substituteVariables(target.expr, ours);
        const outcome = target.instant ? await instant(expr) : await range(expr);
        const values = outcome.ok ? outcome.series.flatMap((s) => s.values) : [];
        expect(
          values.filter(Number.isFinite).length,
          `${panel.title}: ${expr} → ${JSON.stringify(outcome)}`,
        ).toBeGreaterThan(0);
      }
    }
  });
});
