import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminKubeConfig, uniqueName } from '../support/kube.js';
import { waitFor } from '../support/wait.js';
import { E2E_TEST_TIMEOUT_MS, E2eEnvironment, type OperatorProcess } from './environment.js';

/**
 * Two replicas with leader election, started at the same moment: only the leader acts, so each benchmark
 * gets one set of jobs. The leader is then SIGKILLed in the middle of the runs; the standby takes the
 * Lease over (no sooner than the lease duration, since the dead leader cannot release it) and the runs
 * complete, still with one job per role.
 */
const env = new E2eEnvironment(uniqueName('e2e-2ops'));
const LEASE = 'two-operators';
const names = ['pair-a', 'pair-b'];

function replicaArgs(): string[] {
  return ['--leader-elect', '--lease-namespace', env.namespace, '--lease-name', LEASE];
}

async function leaseHolder(): Promise<string> {
  const api = adminKubeConfig().makeApiClient(k8s.CoordinationV1Api);
  const lease = await api.readNamespacedLease({ name: LEASE, namespace: env.namespace });
  return lease.spec?.holderIdentity ?? '';
}

beforeAll(async () => {
  await env.setUp({ monitoring: false });
});

afterAll(async () => {
  await env.tearDown();
});

describe('two operators at once', () => {
  it(
    'submit one set of jobs per benchmark, and the standby completes the runs after the leader is killed',
    async () => {
      const replicas = new Map<string, OperatorProcess>();
      const [a, b] = await Promise.all(
        ['replica-a', 'replica-b'].map((identity) =>
          env.startOperator({ extraArgs: replicaArgs(), env: { POD_NAME: identity } }),
        ),
      );
      replicas.set('replica-a', a as OperatorProcess);
      replicas.set('replica-b', b as OperatorProcess);
      for (const name of names)
        await env.apply(
          env.benchmarkManifest(name, {
            workload: { clients: 1, requestsPerClient: 6, maxTokens: 32, prompt: 'Describe a lighthouse.' },
          }),
        );
      // Both runs under way: every benchmark holds its two jobs.
      await waitFor(
        'both benchmarks to hold their jobs',
        async () => {
          const objects = await Promise.all(names.map((name) => env.getBenchmark(name)));
          return objects.every((o) => (o?.status?.slurmJobs?.length ?? 0) === 2) ? true : undefined;
        },
        { timeoutMs: 300_000, intervalMs: 1000 },
      );
      const leader = await leaseHolder();
      const standby = leader === 'replica-a' ? 'replica-b' : 'replica-a';
      expect(replicas.has(leader)).toBe(true);
      const killedAt = Date.now();
      await env.stopOperator('SIGKILL', replicas.get(leader));
      await waitFor(
        'the standby to hold the Lease',
        async () => ((await leaseHolder()) === standby ? true : undefined),
        {
          timeoutMs: 60_000,
          intervalMs: 250,
        },
      );
      const takeoverSeconds = (Date.now() - killedAt) / 1000;
      console.log(
        `standby took the Lease over ${takeoverSeconds.toFixed(1)} s after the leader was SIGKILLed`,
      );
      for (const name of names) await env.waitCondition(name, 'BenchmarkComplete', 600);
      for (const name of names) {
        const done = await env.getBenchmark(name);
        expect(done?.status?.phase).toBe('Succeeded');
        const tagged = await env.jobsOf(done?.metadata.uid ?? '');
        expect(tagged.map((job) => job.name).sort()).toEqual([
          `ibo-client-${env.namespace}-${name}`,
          `ibo-server-${env.namespace}-${name}`,
        ]);
      }
    },
    E2E_TEST_TIMEOUT_MS,
  );
});
