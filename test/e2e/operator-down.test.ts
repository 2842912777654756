import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName } from '../support/kube.js';
import { remote } from '../support/ssh.js';
import { waitFor } from '../support/wait.js';
import { E2E_TEST_TIMEOUT_MS, E2eEnvironment } from './environment.js';

/**
 * The operator is down while a job hits its time limit, and stays down until slurmctld has purged the job
 * (MinJobAge). Nothing in memory knows how the job ended, squeue and scontrol have forgotten it: the final
 * state must come from SLURM's accounting (sacct), and the benchmark must fail with TIMEOUT and the tail
 * of the job's log, never as "JobLost".
 */
const env = new E2eEnvironment(uniqueName('e2e-down'));
/** MinJobAge is 300 s in the sandbox; slurmctld purges finished jobs up to ~30 s after it. */
const PURGE_TIMEOUT_MS = 480_000;

beforeAll(async () => {
  await env.setUp({ monitoring: false });
  await env.startOperator();
});

afterAll(async () => {
  await env.tearDown();
});

describe('the operator down past MinJobAge', () => {
  it(
    'reports a job that hit its time limit meanwhile as JobTimeout with its log tail, read from sacct',
    async () => {
      expect(env.hpc.slurm.accounting, 'the sandbox runs slurmdbd').toBeDefined();
      await env.apply(
        env.benchmarkManifest('timed-out', {
          slurm: { partition: 'cpu', memGB: 2, time: '00:01:00' },
          workload: {
            clients: 1,
            requestsPerClient: 500,
            maxTokens: 64,
            prompt: 'Count slowly to one hundred.',
          },
        }),
      );
      const running = await env.waitForBenchmark(
        'timed-out',
        'the run to be in progress',
        (object) => (object.status?.phase === 'Running' ? object : undefined),
        300_000,
      );
      const server = running.status?.slurmJobs?.find((job) => job.role === 'server');
      expect(server?.id).toBeTruthy();
      await env.stopOperator('SIGKILL');
      // The time limit passes, then slurmctld forgets the job (squeue and scontrol no longer know it).
      await waitFor(
        `slurmctld to purge job ${server?.id}`,
        async () => {
          const answer = await remote(
            env.hpc.ssh,
            `scontrol show job ${server?.id} >/dev/null 2>&1 && echo known || echo purged`,
          );
          return answer.trim() === 'purged' ? true : undefined;
        },
        { timeoutMs: PURGE_TIMEOUT_MS, intervalMs: 5_000 },
      );
      const sacct = await remote(env.hpc.ssh, `sacct -n -X -P -j ${server?.id} --format=State`);
      expect(sacct.trim()).toBe('TIMEOUT');
      await env.startOperator();
      const failed = await env.waitForBenchmark('timed-out', 'phase Failed', (object) =>
        object.status?.phase === 'Failed' ? object : undefined,
      );
      const ready = failed.status?.conditions?.find((c) => c.type === 'Ready');
      expect(ready?.reason, ready?.message).toBe('JobTimeout');
      expect(ready?.message).toContain(`SLURM job ${server?.id}`);
      expect(ready?.message).toContain('TIMEOUT');
      expect(ready?.message).toContain("Last lines of the job's log");
      const entry = failed.status?.slurmJobs?.find((job) => job.role === 'server');
      expect(entry?.state).toBe('TIMEOUT');
    },
    E2E_TEST_TIMEOUT_MS,
  );
});
