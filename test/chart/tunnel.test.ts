import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { requireHpc, requireKube } from '../sandbox/description.js';
import {
  adminKubeConfig,
  kubeConfigForToken,
  mintServiceAccountToken,
  uniqueName,
  writeKubeConfigFile,
} from '../support/kube.js';
import { kubectlOk } from '../support/kube-cli.js';
import { cancelJobs, jobScript, submitJob, waitForEndpoints } from '../support/slurm.js';
import { freeLocalPort } from '../support/ssh.js';
import { waitFor } from '../support/wait.js';
import { chartDir, runHelm, valuesFile } from './helm.js';

// The tunnel process, run locally against the sandbox: the SlurmCluster lives in the real kube-apiserver, the
// tunnel reads it with the chart's own tunnel ServiceAccount (so its RBAC is exercised too), and a real
// Prometheus runs as a SLURM job behind the real sshd. Done when: the Prometheus UI is served on a local port
// through SSH, and it keeps being served after the job is resubmitted on a new port and after SSH drops.

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
/**
 * The sources by default; IBO_TUNNEL_BUNDLE=1 runs the esbuild bundle the image runs (dist/operator.mjs, built
 * by `npm run build`) instead, so the shipped artifact gets the same test.
 */
const tunnelProgram = process.env.IBO_TUNNEL_BUNDLE
  ? ['dist/operator.mjs']
  : ['--import', 'tsx', 'operator/tunnel/cli.ts'];
const kube = requireKube();
const hpc = requireHpc();
const admin = adminKubeConfig(kube);
const helmEnv = { KUBECONFIG: kube.kubeconfig };

const namespace = uniqueName('ibo-tunnel');
const release = 'tun';
const clusterName = 'lab';
const secretName = 'lab-ssh';
const jobs: string[] = [];
let tunnel: ChildProcess | undefined;
let tunnelLog = '';
let kubeconfigFile = '';
let prometheusPort = 0;
let healthPort = 0;

const Readiness = z.object({
  ready: z.boolean(),
  ssh: z.string(),
  prometheus: z.string().nullable(),
  monitoringJobId: z.string().nullable(),
  problem: z.string().nullable(),
});
const Flags = z.object({ status: z.literal('success'), data: z.record(z.string(), z.string()) });

async function readiness(): Promise<z.infer<typeof Readiness>> {
  const response = await fetch(`http://127.0.0.1:${healthPort}/readyz`);
  return Readiness.parse(await response.json());
}

/** Which Prometheus answers on the tunnel's local port: its own --web.listen-address. */
async function servedPrometheus(): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${prometheusPort}/api/v1/status/flags`);
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const flags = Flags.parse(await response.json());
  return flags.data['web.listen-address'] ?? '';
}

async function publishMonitoring(jobId: string, endpoints: Record<string, string>): Promise<void> {
  const status = {
    status: {
      monitoring: {
        jobId,
        state: 'RUNNING',
        node: 'localhost',
        prometheus: endpoints.prometheus,
        pushgateway: endpoints.pushgateway,
      },
    },
  };
  await kubectlOk([
    'patch',
    'slurmclusters.hpcbench.io',
    clusterName,
    '--namespace',
    namespace,
    '--subresource=status',
    '--type=merge',
    '--patch',
    JSON.stringify(status),
  ]);
}

async function startPrometheusJob(): Promise<{ id: string; endpoints: Record<string, string> }> {
  const id = await submitJob(hpc.ssh, jobScript('prometheus'), ['--partition=cpu']);
  jobs.push(id);
  return { id, endpoints: await waitForEndpoints(hpc, id) };
}

function run(file: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(file, args, (error, stdout, stderr) =>
      error ? reject(new Error(stderr || error.message)) : resolve(stdout),
    ),
  );
}

/**
 * The sshd processes that serve the tunnel's own SSH connection, found by the tunnel's pid and the TCP ports
 * of that one connection (never by name: other tests share this sshd).
 */
async function sshdOfTunnelConnection(
  tunnelPid: number,
): Promise<{ clientPort: number; sshdPids: number[] }> {
  const lines = (await run('ss', ['-tnpH', 'state', 'established'])).split('\n');
  const sshPort = `:${hpc.ssh.port}`;
  const ours = lines.find(
    (line) => line.includes(`pid=${tunnelPid},`) && line.split(/\s+/)[3]?.endsWith(sshPort),
  );
  const clientPort = Number(ours?.split(/\s+/)[2]?.split(':').pop());
  if (!ours || !clientPort) {
    const seen = lines.filter((line) => line.includes(sshPort)).join('\n');
    throw new Error(
      `the tunnel (pid ${tunnelPid}) has no SSH connection; connections to ${sshPort}:\n${seen}`,
    );
  }
  const serverSide = lines.find((line) => {
    const [, , local, peer] = line.split(/\s+/);
    return local?.endsWith(sshPort) && peer?.endsWith(`:${clientPort}`);
  });
  const sshdPids = [...(serverSide ?? '').matchAll(/pid=(\d+)/g)].map((m) => Number(m[1]));
  if (sshdPids.length === 0) throw new Error(`no sshd process found for client port ${clientPort}`);
  return { clientPort, sshdPids };
}

beforeAll(async () => {
  await kubectlOk(['create', 'namespace', namespace]);
  // The tunnel needs only the SlurmCluster CRD; applied directly so this test does not depend on the other.
  await kubectlOk([
    'apply',
    '--server-side',
    '--force-conflicts',
    '-f',
    `${chartDir}/crds/slurmclusters.hpcbench.io.yaml`,
  ]);
  const install = await runHelm(
    [
      'install',
      release,
      chartDir,
      '--namespace',
      namespace,
      '--skip-crds',
      '--values',
      valuesFile({
        rbac: { watchNamespaces: [namespace] },
        tunnel: { namespace, slurmCluster: clusterName, sshSecretName: secretName },
      }),
    ],
    helmEnv,
  );
  if (install.code !== 0) throw new Error(`helm install failed: ${install.stderr}`);
  await kubectlOk([
    'create',
    'secret',
    'generic',
    secretName,
    '--namespace',
    namespace,
    `--from-file=privateKey=${hpc.ssh.privateKeyPath}`,
    `--from-file=knownHosts=${hpc.ssh.knownHostsPath}`,
  ]);
  const slurmCluster = {
    apiVersion: 'hpcbench.io/v1alpha1',
    kind: 'SlurmCluster',
    metadata: { name: clusterName, namespace },
    spec: {
      host: hpc.ssh.host,
      port: hpc.ssh.port,
      user: hpc.ssh.user,
      sshSecretRef: { name: secretName },
      workDir: hpc.workDir,
      containerRuntime: 'native',
    },
  };
  await kubectlOk(['apply', '-f', '-'], { input: JSON.stringify(slurmCluster) });
  const token = await mintServiceAccountToken(
    admin,
    namespace,
    `${release}-inference-benchmark-operator-tunnel`,
    1800,
  );
  kubeconfigFile = writeKubeConfigFile(kubeConfigForToken(admin, token, 'tunnel'));
  prometheusPort = await freeLocalPort();
  healthPort = await freeLocalPort();
});

afterAll(async () => {
  if (tunnel?.pid && tunnel.exitCode === null) {
    const exited = new Promise((resolve) => tunnel?.once('exit', resolve));
    tunnel.kill('SIGTERM');
    await exited;
  }
  await cancelJobs(hpc.ssh, jobs);
  await runHelm(['uninstall', release, '--namespace', namespace], helmEnv);
  if (kubeconfigFile) rmSync(dirname(kubeconfigFile), { recursive: true, force: true });
});

describe('the tunnel process against the sandbox', () => {
  let first = { id: '', endpoints: {} as Record<string, string> };

  it('serves the monitoring job’s Prometheus UI on a local port through SSH', async () => {
    first = await startPrometheusJob();
    await publishMonitoring(first.id, first.endpoints);
    const grafanaPort = await freeLocalPort();
    tunnel = spawn(
      process.execPath,
      [
        ...tunnelProgram,
        'tunnel',
        `--kubeconfig=${kubeconfigFile}`,
        `--namespace=${namespace}`,
        `--cluster=${clusterName}`,
        '--bind=127.0.0.1',
        `--grafana-port=${grafanaPort}`,
        `--prometheus-port=${prometheusPort}`,
        `--health-bind=127.0.0.1:${healthPort}`,
      ],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: 'info' } },
    );
    tunnel.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      tunnelLog += chunk;
    });
    tunnel.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      tunnelLog += chunk;
    });

    const ready = await waitFor(
      'the tunnel to be ready',
      async () => {
        if (tunnel?.exitCode !== null) throw new Error(`tunnel exited: ${tunnelLog}`);
        const state = await readiness();
        if (!state.ready) throw new Error(state.problem ?? 'not ready');
        return state;
      },
      { timeoutMs: 60_000 },
    );
    expect(ready).toMatchObject({
      ssh: 'connected',
      prometheus: first.endpoints.prometheus,
      monitoringJobId: first.id,
    });

    const ui = await fetch(`http://127.0.0.1:${prometheusPort}/graph`);
    expect(ui.status).toBe(200);
    expect(await ui.text()).toMatch(/Prometheus/);
    expect(await servedPrometheus()).toBe(first.endpoints.prometheus);
  });

  it('keeps serving after the monitoring job is resubmitted on a new port', async () => {
    const second = await startPrometheusJob();
    expect(second.endpoints.prometheus).not.toBe(first.endpoints.prometheus);
    await cancelJobs(hpc.ssh, [first.id]);
    await publishMonitoring(second.id, second.endpoints);

    const served = await waitFor(
      'the tunnel to follow the new Prometheus',
      async () => {
        const address = await servedPrometheus();
        if (address !== second.endpoints.prometheus) throw new Error(`still served from ${address}`);
        return address;
      },
      { timeoutMs: 30_000 },
    );
    expect(served).toBe(second.endpoints.prometheus);
    expect((await readiness()).monitoringJobId).toBe(second.id);
  });

  it('reconnects and keeps serving after its SSH connection is cut', async () => {
    const pid = tunnel?.pid ?? 0;
    const before = await sshdOfTunnelConnection(pid);
    for (const sshdPid of before.sshdPids) {
      try {
        process.kill(sshdPid, 'SIGTERM');
      } catch (error) {
        // The privileged sshd takes its session child with it; that child may already be gone.
        if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
      }
    }

    const after = await waitFor(
      'a new SSH connection that serves Prometheus again',
      async () => {
        const connection = await sshdOfTunnelConnection(pid);
        if (connection.clientPort === before.clientPort) throw new Error('still the old connection');
        await servedPrometheus();
        return connection;
      },
      { timeoutMs: 60_000 },
    );
    expect(after.clientPort).not.toBe(before.clientPort);
    // One connect at start, at least one more after the cut (the same process, no restart).
    expect(tunnelLog.match(/"msg":"ssh connected"/g)?.length ?? 0).toBeGreaterThanOrEqual(2);
    expect((await readiness()).ready).toBe(true);
  });
});
