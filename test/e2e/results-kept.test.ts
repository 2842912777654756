import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConflictProxy, startConflictProxy } from '../support/conflict-proxy.js';
import { uniqueName } from '../support/kube.js';
import { kubectl } from '../support/kube-cli.js';
import { waitFor } from '../support/wait.js';
import { type BenchmarkObject, E2E_TEST_TIMEOUT_MS, E2eEnvironment, metricSum } from './environment.js';

/**
 * "Results must never be lost", through the real operator on the sandbox: a result with nulls is stored,
 * a run whose requests all failed says so, a conflict at the very write of the result loses nothing, a
 * settled benchmark stays Ready across a restart, and a missing SlurmCluster is named as missing.
 * The operator talks to the apiserver through a loopback proxy that can make one chosen write meet a real
 * 409 (test/support/conflict-proxy.ts); every other request passes through untouched.
 */
const env = new E2eEnvironment(uniqueName('e2e-kept'));
let proxy: ConflictProxy;

function condition(object: BenchmarkObject | undefined, type: string) {
  return object?.status?.conditions?.find((c) => c.type === type);
}

async function startOperator(): Promise<void> {
  await env.startOperator({ kubeconfig: proxy.kubeconfig });
}

beforeAll(async () => {
  await env.setUp({ monitoring: false });
  proxy = await startConflictProxy(env.kube.kubeconfig, join(env.logDir, 'proxy.kubeconfig'));
  await startOperator();
});

afterAll(async () => {
  await env.tearDown();
  await proxy?.close();
});

describe('results are never lost', () => {
  it(
    'stores a run whose ITL and TPOT cannot exist (maxTokens 1) as Succeeded, with those figures null',
    async () => {
      await env.apply(
        env.benchmarkManifest('one-token', {
          workload: { clients: 1, requestsPerClient: 2, maxTokens: 1, prompt: 'Say yes.' },
        }),
      );
      await env.waitCondition('one-token', 'BenchmarkComplete', 600);
      const done = await env.getBenchmark('one-token');
      expect(done?.status?.phase).toBe('Succeeded');
      const results = done?.status?.results;
      expect(results?.counts).toMatchObject({ requests: 2, succeeded: 2, failed: 0 });
      expect(results?.ttftMs.p50).toBeGreaterThan(0);
      expect(results?.itlMs).toEqual({ mean: null, p50: null, p90: null, p95: null, p99: null });
      expect(results?.tpotMs.p50).toBeNull();
      expect(condition(done, 'Ready')?.status).toBe('True');
    },
    E2E_TEST_TIMEOUT_MS,
  );

  it(
    'keeps Ready=True on a settled benchmark across a clean operator restart, and kubectl wait returns before and after',
    async () => {
      const waitReady = () =>
        kubectl(['-n', env.namespace, 'wait', '--for=condition=Ready', '--timeout=60s', 'ib/one-token']);
      expect((await waitReady()).code).toBe(0);
      await env.stopOperator('SIGTERM');
      await startOperator();
      // The restarted operator has connected and reconciled every benchmark at least twice.
      await waitFor(
        'the restarted operator to reconcile the benchmarks',
        async () => {
          const metrics = await env.metrics();
          const connected = metricSum(metrics, 'ibo_ssh_connection_state', 'state="connected"') === 1;
          const reconciles = metricSum(metrics, 'ibo_reconcile_total', 'controller="inferencebenchmark"');
          return connected && reconciles >= 2 ? true : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 250 },
      );
      // Ready must hold from the first reconcile on, not come back later: sample it for a while.
      for (let i = 0; i < 10; i++) {
        const object = await env.getBenchmark('one-token');
        expect(condition(object, 'Ready'), JSON.stringify(object?.status?.conditions)).toMatchObject({
          status: 'True',
          reason: 'RunSucceeded',
        });
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      expect((await waitReady()).code).toBe(0);
    },
    E2E_TEST_TIMEOUT_MS,
  );

  it(
    'fails a run whose requests all time out, with the error kinds counted and the results kept',
    async () => {
      await env.apply(
        env.benchmarkManifest('all-timeouts', {
          workload: {
            clients: 1,
            requestsPerClient: 2,
            maxTokens: 4096,
            prompt: 'Write a very long story about a lighthouse keeper, chapter by chapter.',
            requestTimeoutSeconds: 1,
          },
        }),
      );
      const failed = await env.waitForBenchmark(
        'all-timeouts',
        'phase Failed',
        (object) => (object.status?.phase === 'Failed' ? object : undefined),
        600_000,
      );
      expect(condition(failed, 'Ready')).toMatchObject({ status: 'False', reason: 'RunFailed' });
      expect(condition(failed, 'BenchmarkComplete')?.message).toContain('every measured request failed');
      expect(condition(failed, 'BenchmarkComplete')?.message).toContain('2 timeout');
      expect(failed.status?.results?.counts).toMatchObject({ requests: 2, succeeded: 0, failed: 2 });
      expect(failed.status?.results?.errors.timeout).toBe(2);
    },
    E2E_TEST_TIMEOUT_MS,
  );

  it(
    'ends Succeeded, jobs cancelled only afterwards, when the write of the result meets a 409',
    async () => {
      proxy.arm({
        statusPath: `/apis/hpcbench.io/v1alpha1/namespaces/${env.namespace}/inferencebenchmarks/conflicted/status`,
        bodyContains: '"phase":"Succeeded"',
      });
      await env.apply(env.benchmarkManifest('conflicted'));
      await env.waitCondition('conflicted', 'BenchmarkComplete', 600);
      const done = await env.getBenchmark('conflicted');
      expect(proxy.injected).toEqual([expect.objectContaining({ status: 409 })]);
      expect(done?.status?.phase).toBe('Succeeded');
      expect(condition(done, 'Ready')).toMatchObject({ status: 'True', reason: 'RunSucceeded' });
      expect(done?.status?.results?.counts).toMatchObject({ requests: 4, succeeded: 4 });
      // It stays Succeeded once its jobs are cancelled: the operator's own cancel never reads as "outside".
      const uid = done?.metadata.uid ?? '';
      await waitFor(
        'the jobs of the run to be cancelled',
        async () => {
          const rows = await env.jobsOf(uid);
          return rows.length === 2 && E2eEnvironment.live(rows).length === 0 ? rows : undefined;
        },
        { timeoutMs: 90_000, intervalMs: 1000 },
      );
      const after = await env.getBenchmark('conflicted');
      expect(after?.status?.phase).toBe('Succeeded');
      expect(condition(after, 'Ready')?.status).toBe('True');
    },
    E2E_TEST_TIMEOUT_MS,
  );

  it(
    'says NotFound for a clusterRef to a SlurmCluster that does not exist, and submits nothing',
    async () => {
      const manifest = env.benchmarkManifest('nowhere');
      (manifest.spec as { clusterRef: { name: string } }).clusterRef = { name: 'no-such-cluster' };
      await env.apply(manifest);
      const waiting = await env.waitForBenchmark('nowhere', 'a Ready condition', (object) =>
        condition(object, 'Ready') ? object : undefined,
      );
      expect(condition(waiting, 'Ready')).toMatchObject({ status: 'False', reason: 'ClusterNotFound' });
      expect(condition(waiting, 'Ready')?.message).toContain('SlurmCluster no-such-cluster not found');
      expect(waiting.status?.phase).toBe('Pending');
      expect(await env.jobsOf(waiting.metadata.uid)).toEqual([]);
    },
    E2E_TEST_TIMEOUT_MS,
  );
});
