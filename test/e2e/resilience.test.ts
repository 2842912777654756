import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { restartSshd } from '../bridge/sshd-control.js';
import { readSandbox } from '../sandbox/description.js';
import { uniqueName } from '../support/kube.js';
import { E2E_TEST_TIMEOUT_MS, E2eEnvironment } from './environment.js';

/**
 * Runs that survive their surroundings: the operator is killed (SIGKILL, no clean-up) in the middle of a
 * run and started again, and the login node's sshd is restarted in the middle of a run. Both must finish
 * with results, and SLURM must have seen exactly one job per role.
 */
const env = new E2eEnvironment(uniqueName('e2e-resil'));
// Long enough to be caught in the middle: 1 client, 6 sequential requests of up to 32 tokens.
const slowWorkload = { clients: 1, requestsPerClient: 6, maxTokens: 32, prompt: 'Describe a lighthouse.' };

beforeAll(async () => {
  await env.setUp({ monitoring: false });
  await env.startOperator();
});

afterAll(async () => {
  await env.tearDown();
});

describe('a run in the middle of trouble', () => {
  it(
    'completes after the operator is killed mid-run and restarted, with sbatch called once per role',
    async () => {
      await env.apply(env.benchmarkManifest('survivor', { workload: slowWorkload }));
      const mid = await env.waitForBenchmark('survivor', 'the run to be in progress', (object) =>
        object.status?.phase === 'Running' ? object : undefined,
      );
      await env.stopOperator('SIGKILL');
      await env.startOperator();
      await env.waitCondition('survivor', 'BenchmarkComplete', 720);
      const done = await env.getBenchmark('survivor');
      expect(done?.status?.phase).toBe('Succeeded');
      expect(done?.status?.results?.counts.succeeded).toBe(6);
      // Same jobs before and after the crash, and no other job ever carried this benchmark's tag.
      expect(done?.status?.slurmJobs?.map((job) => job.id)).toEqual(
        mid.status?.slurmJobs?.map((job) => job.id),
      );
      const tagged = await env.jobsOf(mid.metadata.uid);
      expect(tagged.map((job) => job.name).sort()).toEqual([
        'ibo-client-' + env.namespace + '-survivor',
        'ibo-server-' + env.namespace + '-survivor',
      ]);
    },
    E2E_TEST_TIMEOUT_MS,
  );

  it(
    'completes when sshd on the login node is restarted mid-run',
    async () => {
      await env.apply(env.benchmarkManifest('through-restart', { workload: slowWorkload }));
      await env.waitForBenchmark('through-restart', 'the run to be in progress', (object) =>
        object.status?.phase === 'Running' ? object : undefined,
      );
      await restartSshd(env.hpc, readSandbox().stateDir);
      await env.waitCondition('through-restart', 'BenchmarkComplete', 720);
      const done = await env.getBenchmark('through-restart');
      expect(done?.status?.phase).toBe('Succeeded');
      expect(done?.status?.results?.counts.succeeded).toBe(6);
      expect(await env.jobsOf(done?.metadata.uid ?? '')).toHaveLength(2);
    },
    E2E_TEST_TIMEOUT_MS,
  );
});
