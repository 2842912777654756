import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Dashboard } from '../../slurm-bridge/monitoring/grafana/dashboard-model.js';
import { shippedDashboards } from '../../slurm-bridge/monitoring/grafana/dashboards.js';
import { CLIENT_METRICS } from '../../slurm-bridge/monitoring/grafana/inference-dashboard.js';
import { renderPrometheusConfig } from '../../slurm-bridge/monitoring/prometheus-config.js';
import { shellQuote } from '../../slurm-bridge/shell/quote.js';
import { requireHpc } from '../sandbox/description.js';
import { cancelJobs, splitHostPort, submitJob, waitForJobState } from '../support/slurm.js';
import { openForward, type PortForward, remote, runRemote } from '../support/ssh.js';
import { GiveUp, waitFor } from '../support/wait.js';
import {
  clientJob,
  jobOutputDir,
  type ModelServer,
  monitoringEndpointsFile,
  monitoringJob,
  ollamaJob,
  prometheusConfigFile,
  type TestLayout,
  targetsDir,
} from './jobs.js';
import { instantQuery, labelValuesQuery, rangeQuery, substituteVariables } from './prometheus-queries.js';

/**
 * The monitoring stack end to end in the sandbox: a monitoring job (Pushgateway, Prometheus with the
 * generated configuration, node-exporter), an Ollama job and a client job (the client service's run engine
 * against that Ollama, pushing to the Pushgateway) all announce themselves through file_sd. Then every
 * PromQL expression of every shipped dashboard is evaluated against that Prometheus.
 */

const SCRAPE_SECONDS = 2;
// What Grafana would put in for a 5-minute view with a 2 s scrape interval (4 × scrape, at least).
const GRAFANA_BUILTINS = { __rate_interval: '20s', __range: '5m', __interval: '5s' };
const ALL = { benchmark: '.*', run: '.*', node: '.*', gpu: '.*', container: '.*' };

const Endpoints = z.object({ prometheus: z.string(), pushgateway: z.string() });
const OllamaEndpoint = z.object({ ollama: z.string() });
const ClientStatus = z.object({
  state: z.string(),
  message: z.string().nullable(),
  progress: z.object({ completed: z.number(), total: z.number().nullable() }),
  pushgateway: z.object({ pushes: z.number(), failures: z.number(), lastError: z.string().nullable() }),
});

const hpc = requireHpc();
const id = randomUUID().slice(0, 8);
const layout: TestLayout = {
  workDir: `${hpc.workDir}/test-monitoring/${id}`,
  benchmark: `monitoring-test-${id}`,
  model: hpc.ollama.model,
};
const runId = `run-${id}`;
const CLIENTS = 2;
const REQUESTS_PER_CLIENT = 3;

const jobs: string[] = [];
const forwards: PortForward[] = [];
let prometheus = '';
let serverKind: ModelServer['kind'] | 'none' = 'none';

async function readJobFile<T>(file: string, jobId: string, schema: z.ZodType<T>): Promise<T> {
  return waitFor(
    `${file} from job ${jobId}`,
    async () => {
      const out = await remote(
        hpc.ssh,
        `cat ${shellQuote(file)} 2>/dev/null || squeue -h -t all -j ${jobId} -o %T`,
      );
      const text = out.trim();
      if (text.startsWith('{')) return schema.parse(JSON.parse(text));
      if (text !== '' && !['PENDING', 'CONFIGURING', 'RUNNING'].includes(text)) {
        const log = await runRemote(
          hpc.ssh,
          `tail -n 30 ${shellQuote(`${hpc.slurm.jobOutputDir}/`)}*${jobId}* 2>/dev/null`,
        );
        throw new GiveUp(`job ${jobId} ended as ${text} before writing ${file}\n${log.stdout}`);
      }
      return undefined;
    },
    { timeoutMs: 240_000, intervalMs: 500 },
  );
}

async function submit(script: string, partition: string): Promise<string> {
  const jobId = await submitJob(hpc.ssh, script, [
    `--partition=${partition}`,
    `--output=${hpc.slurm.jobOutputDir}/ibo-test-monitoring-%j.out`,
  ]);
  jobs.push(jobId);
  return jobId;
}

async function upload(file: string, content: string, mode = '0644'): Promise<void> {
  const dir = file.slice(0, file.lastIndexOf('/'));
  await remote(
    hpc.ssh,
    `mkdir -p ${shellQuote(dir)} && cat > ${shellQuote(file)} && chmod ${mode} ${shellQuote(file)}`,
    { input: content },
  );
}

async function bundle(entry: string): Promise<string> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL(entry, import.meta.url))],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    write: false,
    // prom-client and undici are CommonJS; inside an ESM bundle their require() needs a real one.
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
  });
  const file = result.outputFiles[0];
  if (!file) throw new Error('esbuild produced no bundle');
  return file.text;
}

/**
 * Real Ollama when the sandbox has it (binary and imported model). Otherwise the synthetic token server
 * stands in for the model server only: what is under test here is Prometheus, file_sd and the dashboards,
 * and the metrics still come from the client service's real engine and pusher. IBO_MONITORING_SERVER
 * (ollama|synthetic) forces the choice.
 */
async function modelServer(): Promise<ModelServer> {
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
    return { kind: 'ollama', modelsDir: hpc.ollama.modelsDir };
  }
  serverKind = 'synthetic';
  console.warn('monitoring test: the sandbox has no Ollama build or model; using the synthetic token server');
  const bundleFile = `${layout.workDir}/synthetic-ollama.mjs`;
  await upload(bundleFile, await bundle('../synthetic-ollama/main.ts'));
  return { kind: 'synthetic', bundleFile };
}

async function vectorValue(expr: string): Promise<number | undefined> {
  const outcome = await instantQuery(prometheus, expr);
  if (!outcome.ok) throw new GiveUp(`${expr}: ${outcome.error}`);
  return outcome.series[0]?.values[0];
}

beforeAll(async () => {
  const scrapeToken = randomBytes(24).toString('hex');
  await upload(`${layout.workDir}/monitoring/scrape-token`, `${scrapeToken}\n`, '0600');
  await remote(hpc.ssh, `mkdir -p ${shellQuote(targetsDir(layout))}`);
  await upload(
    prometheusConfigFile(layout),
    renderPrometheusConfig({ targetsDir: targetsDir(layout), scrapeIntervalSeconds: SCRAPE_SECONDS }),
  );
  const bundleFile = `${layout.workDir}/client-run.mjs`;
  await upload(bundleFile, await bundle('./client-run.ts'));

  const monitoringId = await submit(monitoringJob(layout), 'cpu');
  const ollamaId = await submit(ollamaJob(layout, await modelServer()), 'gpu');
  const endpoints = await readJobFile(monitoringEndpointsFile(layout), monitoringId, Endpoints);
  const ollama = await readJobFile(`${jobOutputDir(layout)}/${ollamaId}.json`, ollamaId, OllamaEndpoint);

  const configFile = `${layout.workDir}/client-run.json`;
  await upload(
    configFile,
    JSON.stringify({
      ollamaUrl: `http://${ollama.ollama}`,
      pushgatewayUrl: `http://${endpoints.pushgateway}`,
      run: {
        id: runId,
        benchmark: layout.benchmark,
        model: layout.model,
        workload: {
          clients: CLIENTS,
          requestsPerClient: REQUESTS_PER_CLIENT,
          prompt: 'Name three colours of the rainbow.',
          maxTokens: 24,
          warmupRequests: 1,
          seed: 7,
          requestTimeoutSeconds: 120,
        },
      },
    }),
  );
  const clientId = await submit(clientJob(layout, bundleFile, configFile), 'cpu');
  const status = await readJobFile(`${jobOutputDir(layout)}/${clientId}.json`, clientId, ClientStatus);
  console.info(
    `monitoring test: model server ${serverKind}, run ${runId}: ${JSON.stringify(status.progress)}`,
  );
  expect(status, JSON.stringify(status)).toMatchObject({
    state: 'succeeded',
    progress: { completed: CLIENTS * REQUESTS_PER_CLIENT },
  });
  expect(status.pushgateway.pushes).toBeGreaterThan(0);

  const { host, port } = splitHostPort(endpoints.prometheus);
  const forward = await openForward(hpc.ssh, host, port);
  forwards.push(forward);
  prometheus = forward.url;

  // Prometheus has seen the final push, and every node-exporter, once these hold.
  const sel = `benchmark="${layout.benchmark}", run="${runId}"`;
  await waitFor(
    'the final push of the run in Prometheus',
    async () =>
      (await vectorValue(`${CLIENT_METRICS.completed}{${sel}}`)) === CLIENTS * REQUESTS_PER_CLIENT
        ? true
        : undefined,
    { timeoutMs: 60_000, intervalMs: 1000 },
  );
  await waitFor(
    'a successful scrape of every job target',
    async () => {
      const up = await instantQuery(prometheus, 'up == 1');
      if (!up.ok) throw new GiveUp(up.error);
      const seen = new Set(up.series.map((s) => `${s.metric.job}/${s.metric.role}`));
      const wanted = [
        'prometheus/monitoring',
        'pushgateway/monitoring',
        'node/monitoring',
        'node/server',
        'node/client',
      ];
      const missing = wanted.filter((w) => !seen.has(w));
      if (missing.length > 0)
        throw new Error(`not yet up: ${missing.join(', ')} (seen ${[...seen].join(', ')})`);
      return true;
    },
    { timeoutMs: 60_000, intervalMs: 1000 },
  );
}, 420_000);

afterAll(async () => {
  await Promise.all(forwards.map((f) => f.close()));
  if (jobs.length > 0) {
    await cancelJobs(hpc.ssh, jobs).catch(() => undefined);
    for (const jobId of jobs) {
      await waitForJobState(hpc.ssh, jobId, ['CANCELLED', 'COMPLETED', 'FAILED', 'TIMEOUT', 'absent']).catch(
        () => undefined,
      );
    }
  }
  await runRemote(hpc.ssh, `rm -rf ${shellQuote(layout.workDir)}`);
}, 120_000);

const dashboards: [string, Dashboard][] = Object.entries(shippedDashboards());

describe('the monitoring stack in the sandbox', () => {
  it('holds node-exporter samples of the monitoring, Ollama and client jobs, labelled as the contract says', async () => {
    const outcome = await instantQuery(prometheus, `node_uname_info{job="node"}`);
    expect(outcome.ok).toBe(true);
    const byRole = new Map((outcome.ok ? outcome.series : []).map((s) => [s.metric.role, s.metric]));
    for (const role of ['monitoring', 'server', 'client']) {
      expect(byRole.get(role), role).toMatchObject({
        node: 'localhost',
        slurm_job_id: expect.stringMatching(/^\d+$/),
      });
    }
    expect(byRole.get('server')).toMatchObject({ benchmark: layout.benchmark, model: layout.model });
  });

  it('holds the run’s Pushgateway metrics, grouped by benchmark and run', async () => {
    const outcome = await instantQuery(
      prometheus,
      `${CLIENT_METRICS.legacyTps}{benchmark="${layout.benchmark}", run="${runId}"}`,
    );
    expect(outcome.ok).toBe(true);
    const series = outcome.ok ? outcome.series : [];
    expect(series.length).toBeGreaterThan(0);
    for (const s of series) {
      expect(s.metric).toMatchObject({ job: 'inference-benchmark-client', model: layout.model });
      expect(s.values[0]).toBeGreaterThan(0);
    }
  });

  describe.each(dashboards)('dashboard %s', (_file, dashboard) => {
    const variables = { ...ALL, ...GRAFANA_BUILTINS };

    it('has variable queries that evaluate without error', async () => {
      for (const variable of dashboard.templating.list) {
        const { expr } = labelValuesQuery(variable.query.query);
        const outcome = await instantQuery(prometheus, substituteVariables(expr, variables));
        expect(outcome, `${variable.name}: ${expr}`).toMatchObject({ ok: true });
      }
    });

    it('has panels whose every PromQL expression evaluates without error', async () => {
      let evaluated = 0;
      for (const panel of dashboard.panels) {
        for (const target of panel.targets) {
          const expr = substituteVariables(target.expr, variables);
          const outcome = target.instant
            ? await instantQuery(prometheus, expr)
            : await rangeQuery(prometheus, expr, 300, 5);
          expect(outcome, `${panel.title}: ${expr}`).toMatchObject({ ok: true });
          evaluated++;
        }
      }
      expect(evaluated).toBeGreaterThan(0);
    });
  });

  it('fills the tokens-per-second panels (and latency percentiles) for the run', async () => {
    const inference = shippedDashboards()['inference.json'];
    const ours = { ...ALL, ...GRAFANA_BUILTINS, benchmark: layout.benchmark, run: runId };
    const mustHaveData = inference?.panels.filter((panel) =>
      panel.targets.some((t) =>
        [
          CLIENT_METRICS.legacyTps,
          CLIENT_METRICS.outputTokens,
          CLIENT_METRICS.decodeTps,
          CLIENT_METRICS.ttft,
          CLIENT_METRICS.e2e,
        ].some((metric) => t.expr.includes(`${metric}{`) || t.expr.includes(`${metric}_bucket{`)),
      ),
    );
    expect(mustHaveData?.map((p) => p.title)).toEqual(
      expect.arrayContaining([
        'Average TPS by model',
        'Model comparison (TPS)',
        'Average TPS now',
        'Time to first token',
        'End-to-end latency',
      ]),
    );
    for (const panel of mustHaveData ?? []) {
      const target = panel.targets[0];
      if (!target) throw new Error(`${panel.title} has no target`);
      const expr = substituteVariables(target.expr, ours);
      const outcome = target.instant
        ? await instantQuery(prometheus, expr)
        : await rangeQuery(prometheus, expr, 300, 5);
      const values = outcome.ok ? outcome.series.flatMap((s) => s.values) : [];
      expect(
        values.filter(Number.isFinite).length,
        `${panel.title}: ${expr} → ${JSON.stringify(outcome)}`,
      ).toBeGreaterThan(0);
    }
  });
});
