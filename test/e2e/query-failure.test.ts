import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName } from '../support/kube.js';
import { withFailingCommands } from '../support/login-faults.js';
import { E2E_TEST_TIMEOUT_MS, E2eEnvironment, metricSum } from './environment.js';

/**
 * Fail closed: while squeue and scontrol fail on the login node (slurmctld unreachable, a broken PATH),
 * the operator must not take the silence for "the jobs are gone". A run caught Running keeps its phase for
 * the whole outage, and finishes normally once the commands work again, with exactly one job per role.
 */
const env = new E2eEnvironment(uniqueName('e2e-qfail'));
// Long enough to still be running after the outage: 1 client, 30 sequential requests of up to 48 tokens.
const longWorkload = { clients: 1, requestsPerClient: 30, maxTokens: 48, prompt: 'Describe a lighthouse.' };
/** More than two slow poll intervals (15 s) of the job watcher. */
const OUTAGE_MS = 32_000;

beforeAll(async () => {
  await env.setUp({ monitoring: false });
  await env.startOperator();
});

afterAll(async () => {
  await env.tearDown();
});

describe('squeue and scontrol failing on the login node', () => {
  it(
    'leaves a running benchmark Running for the whole outage, then lets it succeed with one job per role',
    async () => {
      await env.apply(env.benchmarkManifest('outage', { workload: longWorkload }));
      const running = await env.waitForBenchmark('outage', 'the run to be in progress', (object) =>
        object.status?.phase === 'Running' ? object : undefined,
      );
      const failedQueriesBefore = metricSum(
        await env.metrics(),
        'ibo_slurm_commands_total',
        'outcome="error"',
      );
      const phases = await withFailingCommands(env.hpc, ['squeue', 'scontrol'], async () => {
        const seen: string[] = [];
        const end = Date.now() + OUTAGE_MS;
        while (Date.now() < end) {
          const object = await env.getBenchmark('outage');
          seen.push(object?.status?.phase ?? 'absent');
          await new Promise((resolve) => setTimeout(resolve, 1000));
        }
        return seen;
      });
      expect(phases.length).toBeGreaterThanOrEqual(OUTAGE_MS / 1000 - 5);
      expect(new Set(phases), `phases sampled during the outage: ${phases.join(' ')}`).toEqual(
        new Set(['Running']),
      );

      // The operator did ask during the outage, and got errors, not answers.
      const failedQueries =
        metricSum(await env.metrics(), 'ibo_slurm_commands_total', 'outcome="error"') - failedQueriesBefore;
      expect(failedQueries, env.operatorLogTail()).toBeGreaterThanOrEqual(2);

      await env.waitCondition('outage', 'BenchmarkComplete', 720);
      const done = await env.getBenchmark('outage');
      expect(done?.status?.phase).toBe('Succeeded');
      expect(done?.status?.results?.counts.succeeded).toBe(longWorkload.requestsPerClient);
      expect(done?.status?.slurmJobs?.map((job) => job.id)).toEqual(
        running.status?.slurmJobs?.map((job) => job.id),
      );
      const tagged = await env.jobsOf(running.metadata.uid);
      expect(tagged.map((job) => job.name).sort()).toEqual([
        `ibo-client-${env.namespace}-outage`,
        `ibo-server-${env.namespace}-outage`,
      ]);
    },
    E2E_TEST_TIMEOUT_MS,
  );
});
