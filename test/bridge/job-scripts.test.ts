import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { fetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ollamaJobScript } from '../../slurm-bridge/engines/ollama/job-script.js';
import { endpointsFile, scrapeTokenFile, targetsDir } from '../../slurm-bridge/monitoring/layout.js';
import { clientServiceJobScript } from '../../slurm-bridge/scripts/client-service.js';
import { monitoringJobScript } from '../../slurm-bridge/scripts/monitoring.js';
import { shellQuote } from '../../slurm-bridge/shell/quote.js';
import { SlurmClient } from '../../slurm-bridge/slurm/client.js';
import { isFound } from '../../slurm-bridge/slurm/job-info.js';
import type { SshConnection } from '../../slurm-bridge/ssh/connection.js';
import { RemoteFiles } from '../../slurm-bridge/ssh/sftp.js';
import type { SshForward } from '../../slurm-bridge/ssh/tunnel.js';
import { requireHpc } from '../sandbox/description.js';
import { connectToSandbox, waitFor } from './sandbox-connection.js';

const hpc = requireHpc();
// A private work dir, so this test never touches the monitoring stack another test or the operator runs.
const workDir = posix.join(hpc.workDir, `bridge-jobs-${randomUUID().slice(0, 8)}`);
const tag = `ibo-test-${randomUUID()}`;
const bundle = join(import.meta.dirname, '../../dist/client-service.mjs');
let connection: SshConnection;
let slurm: SlurmClient;
let files: RemoteFiles;
const jobs: string[] = [];
const forwards: SshForward[] = [];

async function submit(name: string, script: string): Promise<string> {
  const id = await slurm.submit({
    script,
    name,
    partition: 'cpu',
    time: '15',
    memGB: 2,
    tag,
    output: posix.join(workDir, 'logs', `${name}-%j.out`),
  });
  jobs.push(id);
  return id;
}

async function endpoint(path: string, jobId: string): Promise<string> {
  return waitFor(
    `${path} from job ${jobId}`,
    async () => {
      const text = await files.readFileIfExists(path);
      if (text) return text.trim();
      const job = (await slurm.queryJobs([jobId])).get(jobId);
      if (job && isFound(job) && job.failureReason) {
        const log = await files.tail(job.stdoutPath ?? posix.join(workDir, 'logs'), 4000).catch(() => '');
        throw new Error(`job ${jobId} ended ${job.state} before writing ${path}: ${log}`);
      }
      return undefined;
    },
    { timeoutMs: 120_000, intervalMs: 1000 },
  );
}

function forwardTo(hostPort: string): SshForward {
  const at = hostPort.lastIndexOf(':');
  const forward = connection.forward(hostPort.slice(0, at), Number(hostPort.slice(at + 1)));
  forwards.push(forward);
  return forward;
}

beforeAll(async () => {
  connection = connectToSandbox();
  slurm = new SlurmClient(connection.execFunction);
  files = new RemoteFiles(connection, hpc.workDir);
  await files.mkdirp(posix.join(workDir, 'logs'));
});

afterAll(async () => {
  await Promise.all(forwards.map((forward) => forward.close()));
  if (jobs.length > 0) await slurm.cancel(jobs);
  await connection.exec(`rm -rf -- ${shellQuote(workDir)}`, { timeoutSeconds: 60 });
  await connection.close();
});

describe('job scripts run for real in the sandbox and answer through forward()', () => {
  let pushgatewayUrl = '';
  let ollamaUrl = '';
  let prometheus: SshForward | null = null;

  it('the monitoring job starts Prometheus and Pushgateway, registers targets, and cleans up on cancel', async () => {
    await files.uploadAtomic(scrapeTokenFile(workDir), randomBytes(24).toString('hex'), 0o600);
    const id = await submit('monitoring', monitoringJobScript({ workDir, scrapeIntervalSeconds: 5 }));
    const endpoints = JSON.parse(await endpoint(endpointsFile(workDir), id)) as Record<string, string | null>;
    expect(endpoints.grafana).toBeNull(); // no Grafana in the sandbox: skipped cleanly
    expect(endpoints.slurmJobId).toBe(id);
    const forward = forwardTo(endpoints.prometheus ?? '');
    prometheus = forward;
    const ready = await fetch(forward.url('/-/ready'), { dispatcher: forward });
    expect(ready.status).toBe(200);
    const pushgateway = forwardTo(endpoints.pushgateway ?? '');
    expect((await fetch(pushgateway.url('/-/ready'), { dispatcher: pushgateway })).status).toBe(200);
    pushgatewayUrl = pushgateway.baseUrl;
    const targets = targetsDir(workDir);
    for (const kind of ['prometheus', 'pushgateway']) {
      expect((await files.list(posix.join(targets, kind))).map((entry) => entry.name)).toEqual([
        `monitoring-${id}.json`,
      ]);
    }
    // Prometheus discovers itself through file_sd and scrapes it.
    await waitFor('Prometheus to see its own target up', async () => {
      const response = await fetch(forward.url('/api/v1/query?query=up%7Bjob%3D%22prometheus%22%7D'), {
        dispatcher: forward,
      });
      const body = (await response.json()) as { data: { result: Array<{ value: [number, string] }> } };
      return body.data.result.some((sample) => sample.value[1] === '1') ? true : undefined;
    });
  });

  it('the Ollama job serves the sandbox model', async (context) => {
    // The sandbox installs Ollama from a Go build that may not have succeeded yet; say so instead of failing.
    const installed = await connection.exec(`test -x ${shellQuote(hpc.bin.ollama)}`);
    if (installed.code !== 0) context.skip(`no Ollama binary at ${hpc.bin.ollama} in the sandbox`);
    const endpointPath = posix.join(workDir, 'bench', 'ollama.endpoint');
    const id = await submit(
      'ollama',
      ollamaJobScript({
        endpointFile: endpointPath,
        targetsDir: targetsDir(workDir),
        modelsDir: hpc.ollama.modelsDir,
        numParallel: 2,
        maxLoadedModels: 1,
        benchmark: 'bridge-test',
        model: hpc.ollama.model,
      }),
    );
    const hostPort = await endpoint(endpointPath, id);
    const ollama = forwardTo(hostPort);
    const tags = await waitFor('ollama /api/tags', async () => {
      const response = await fetch(ollama.url('/api/tags'), { dispatcher: ollama });
      return response.ok ? ((await response.json()) as { models: Array<{ name: string }> }) : undefined;
    });
    expect(tags.models.map((model) => model.name)).toContain(hpc.ollama.model);
    ollamaUrl = `http://${hostPort}`;
    const nodeTargets = await files.list(posix.join(targetsDir(workDir), 'node'));
    expect(nodeTargets.map((entry) => entry.name)).toContain(`ollama-${id}.json`);
  });

  it.runIf(existsLocally(bundle))('the client-service job answers /health', async () => {
    const bundlePath = await files.uploadAtomic(
      posix.join(workDir, 'bin', 'client-service.mjs'),
      readFileSync(bundle),
      0o644,
    );
    const tokenFile = await files.uploadAtomic(
      posix.join(workDir, 'bench', 'token'),
      randomBytes(24).toString('hex'),
      0o600,
    );
    const endpointPath = posix.join(workDir, 'bench', 'client.endpoint');
    const id = await submit(
      'client-service',
      clientServiceJobScript({
        bundlePath,
        endpointFile: endpointPath,
        targetsDir: targetsDir(workDir),
        tokenFile,
        metricsTokenFile: scrapeTokenFile(workDir),
        ollamaUrl: ollamaUrl || 'http://127.0.0.1:1',
        ...(pushgatewayUrl ? { pushgatewayUrl } : {}),
        outputDir: posix.join(workDir, 'bench', 'results'),
        benchmark: 'bridge-test',
        model: hpc.ollama.model,
        nodeBinary: hpc.bin.node,
      }),
    );
    const client = forwardTo(await endpoint(endpointPath, id));
    const health = await fetch(client.url('/health'), { dispatcher: client });
    expect(health.status).toBe(200);
    const clientTargets = await files.list(posix.join(targetsDir(workDir), 'client'));
    expect(clientTargets.map((entry) => entry.name)).toEqual([`client-${id}.json`]);
  });

  it('Prometheus scrapes the targets the jobs registered, including client /metrics with the scrape token', async (context) => {
    if (!prometheus || !ollamaUrl) context.skip('needs the monitoring and Ollama jobs above');
    const forward = prometheus as SshForward;
    const upByJob = async (): Promise<Record<string, string>> => {
      const response = await fetch(forward.url(`/api/v1/query?query=${encodeURIComponent('up')}`), {
        dispatcher: forward,
      });
      const body = (await response.json()) as {
        data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
      };
      return Object.fromEntries(
        body.data.result.map((s) => [`${s.metric.job}/${s.metric.role}`, s.value[1]]),
      );
    };
    const expected = ['node/ollama', 'client/client', 'pushgateway/monitoring'];
    const up = await waitFor(
      `up == 1 for ${expected.join(', ')}`,
      async () => {
        const now = await upByJob();
        return expected.every((key) => now[key] === '1') ? now : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 2000 },
    );
    expect(up['client/client']).toBe('1');
  });

  it('cancelling the jobs removes their endpoint and target files (EXIT traps)', async () => {
    await slurm.cancel(jobs);
    await waitFor(
      'all target files to be removed',
      async () => {
        const kinds = ['prometheus', 'pushgateway', 'node', 'client'];
        const left = await Promise.all(
          kinds.map((kind) => files.list(posix.join(targetsDir(workDir), kind)).catch(() => [])),
        );
        const endpointsLeft = await files.readFileIfExists(endpointsFile(workDir));
        return left.every((entries) => entries.length === 0) && endpointsLeft === null ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 1000 },
    );
  });
});

function existsLocally(path: string): boolean {
  try {
    readFileSync(path);
    return true;
  } catch {
    return false;
  }
}
