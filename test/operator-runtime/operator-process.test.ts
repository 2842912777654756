import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminKubeConfig, uniqueName, writeKubeConfigFile } from '../support/kube.js';
import { waitFor } from '../support/kube-wait.js';
import { createNamespace } from './support.js';

/**
 * The `operator` command as a real process: it becomes leader on a real Lease, answers /readyz and /metrics,
 * and on SIGTERM shuts down cleanly and releases the Lease.
 */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function httpGet(url: string): Promise<{ status: number; body: string }> {
  const response = await fetch(url);
  return { status: response.status, body: await response.text() };
}

describe('the operator process', () => {
  let admin: k8s.KubeConfig;
  let kubeconfigFile: string;
  let namespace: string;
  let child: ChildProcess | undefined;
  let output = '';

  beforeAll(async () => {
    admin = adminKubeConfig();
    kubeconfigFile = writeKubeConfigFile(admin);
    namespace = uniqueName('rt-process');
    await createNamespace(admin, namespace);
  });

  afterAll(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    rmSync(dirname(kubeconfigFile), { recursive: true, force: true });
  });

  it('should lead, serve probes and metrics, and release its Lease on SIGTERM', async () => {
    const [metricsPort, healthPort] = [await freePort(), await freePort()];
    const leaseName = uniqueName('operator');
    child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'operator/main.ts',
        'operator',
        '--kubeconfig',
        kubeconfigFile,
        '--leader-elect',
        '--lease-namespace',
        namespace,
        '--lease-name',
        leaseName,
        '--metrics-bind',
        `127.0.0.1:${metricsPort}`,
        '--health-bind',
        `127.0.0.1:${healthPort}`,
        '--lease-duration-seconds',
        '4',
        '--renew-deadline-seconds',
        '3',
        '--retry-period-seconds',
        '0.5',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, POD_NAME: 'operator-under-test' } },
    );
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });

    const ready = await waitFor(
      '/readyz to answer 200',
      async () => {
        const answer = await httpGet(`http://127.0.0.1:${healthPort}/readyz`);
        return answer.status === 200 ? answer : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    ).catch((error: unknown) => {
      throw new Error(
        `${error instanceof Error ? error.message : String(error)}\noperator output:\n${output}`,
      );
    });
    expect(ready.body).toBe('ok\n');
    expect((await httpGet(`http://127.0.0.1:${healthPort}/healthz`)).status).toBe(200);

    const metrics = await waitFor('the leader gauge at 1', async () => {
      const answer = await httpGet(`http://127.0.0.1:${metricsPort}/metrics`);
      return answer.body.includes(`ibo_leader{lease="${leaseName}"} 1`) ? answer.body : undefined;
    });
    expect(metrics).toContain('# TYPE ibo_reconcile_total counter');
    expect(metrics).toContain('ibo_process_resident_memory_bytes');

    const leases = admin.makeApiClient(k8s.CoordinationV1Api);
    expect((await leases.readNamespacedLease({ name: leaseName, namespace })).spec?.holderIdentity).toBe(
      'operator-under-test',
    );

    // Logs are JSON lines, one object each.
    const firstLine = output.split('\n').find((line) => line.trim() !== '');
    expect(JSON.parse(firstLine ?? '{}')).toMatchObject({
      level: 'info',
      name: 'inference-benchmark-operator',
    });

    const exited = new Promise<number | null>((resolve) => child?.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const released = await leases.readNamespacedLease({ name: leaseName, namespace });
    expect(released.spec?.holderIdentity ?? '').toBe('');
  });
});
