import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName } from '../support/kube.js';
import { remote } from '../support/ssh.js';
import { waitFor } from '../support/wait.js';
import { E2E_TEST_TIMEOUT_MS, E2eEnvironment, metricSum } from './environment.js';

/**
 * The "Done when" list on the real sandbox: kube-apiserver + kubectl, sshd, SLURM and Ollama with
 * gemma3:270m; the operator runs as a child process from the sources. Runs are tiny (2 clients x 2 requests,
 * 8 tokens): the machine has two cores.
 */
const env = new E2eEnvironment(uniqueName('e2e-life'));

function condition(
  object:
    | { status?: { conditions?: Array<{ type: string; status: string; reason: string; message: string }> } }
    | undefined,
  type: string,
) {
  return object?.status?.conditions?.find((c) => c.type === type);
}

/** Established TCP connections from a process to the login node's sshd. */
function sshConnectionsOf(pid: number, port: number): number {
  const out = execFileSync('ss', ['-Htnp', 'state', 'established', `dport = :${port}`], { encoding: 'utf8' });
  return out.split('\n').filter((line) => line.includes(`pid=${pid},`)).length;
}

beforeAll(async () => {
  await env.setUp({ monitoring: true });
  await env.startOperator();
});

afterAll(async () => {
  await env.tearDown();
});

describe('an InferenceBenchmark on the sandbox', () => {
  it(
    'goes from kubectl apply to BenchmarkComplete with real results, and leaves no job in squeue',
    async () => {
      await env.apply(env.benchmarkManifest('first'));
      await env.waitCondition('first', 'BenchmarkComplete', 720);
      const done = await env.getBenchmark('first');
      expect(done?.status?.phase).toBe('Succeeded');
      for (const type of [
        'MonitoringReady',
        'OllamaModelLoaded',
        'ClientHealthy',
        'BenchmarkComplete',
        'Ready',
      ])
        expect(condition(done, type)?.status, type).toBe('True');
      const results = done?.status?.results;
      expect(results?.counts).toMatchObject({ requests: 4, succeeded: 4, failed: 0 });
      expect(results?.tokens.output).toBeGreaterThan(0);
      expect(results?.outputTokensPerSecond).toBeGreaterThan(0);
      expect(results?.ttftMs.p50).toBeGreaterThan(0);
      expect(done?.status?.progress).toMatchObject({ completedRequests: 4, totalRequests: 4 });
      expect(done?.status?.slurmJobs?.map((job) => job.role)).toEqual(['server', 'client']);
      const uid = done?.metadata.uid ?? '';
      // The clean-up cancels both jobs; squeue lists them as finished for a few minutes, never as live.
      const finished = await waitFor(
        'both jobs of the benchmark to leave the live queue',
        async () => {
          const rows = await env.jobsOf(uid);
          return rows.length >= 2 && E2eEnvironment.live(rows).length === 0 ? rows : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 1000 },
      );
      expect(finished.map((job) => job.id).sort()).toEqual(
        done?.status?.slurmJobs?.map((job) => job.id).sort(),
      );
      // status.slurmJobs follows the jobs to their final states (it said RUNNING forever before).
      const settledJobs = await env.waitForBenchmark('first', 'final job states in status', (object) => {
        const states = object.status?.slurmJobs?.map((job) => job.state) ?? [];
        return states.length === 2 &&
          states.every((state) => ['CANCELLED', 'COMPLETED'].includes(state ?? ''))
          ? object.status?.slurmJobs
          : undefined;
      });
      expect(settledJobs?.every((job) => job.endTime !== undefined)).toBe(true);
      const wide = await env.kubectl(['get', 'ib', 'first', '-o', 'wide']);
      expect(wide).toContain('Succeeded');
      expect(wide).toContain('4/4');
    },
    E2E_TEST_TIMEOUT_MS,
  );

  it(
    'runs two benchmarks over ONE SSH connection and ONE monitoring stack, one after the other with maxActiveBenchmarks 1',
    async () => {
      await env.setMaxActiveBenchmarks(1);
      try {
        await env.apply(env.benchmarkManifest('twin-a'));
        await env.apply(env.benchmarkManifest('twin-b'));
        // twin-b waits for twin-a's place, and says so, before it submits anything.
        const waiting = await env.waitForBenchmark('twin-b', 'twin-b waiting for a place', (object) =>
          condition(object, 'OllamaModelLoaded')?.reason === 'WaitingForCapacity' ? object : undefined,
        );
        expect(waiting.status?.phase).toBe('Queued');
        expect(waiting.status?.slurmJobs ?? []).toEqual([]);
        // Number 1 once twin-a holds its place; number 2 if twin-b looked before twin-a was admitted.
        expect(condition(waiting, 'OllamaModelLoaded')?.message).toMatch(
          /of 1 benchmarks .* number [12] in line/,
        );
        await env.waitCondition('twin-a', 'BenchmarkComplete', 720);
        await env.waitCondition('twin-b', 'BenchmarkComplete', 720);
      } finally {
        await env.setMaxActiveBenchmarks(null);
      }
      const [a, b] = [await env.getBenchmark('twin-a'), await env.getBenchmark('twin-b')];
      const started = (object: typeof a, role: string) =>
        Date.parse(object?.status?.slurmJobs?.find((job) => job.role === role)?.submitTime ?? '');
      // twin-b's first job went in only after twin-a had finished.
      expect(started(b, 'server')).toBeGreaterThanOrEqual(Date.parse(a?.status?.completionTime ?? '') - 1000);
      expect(a?.status?.endpoints?.pushgateway).toBeTruthy();
      expect(a?.status?.endpoints?.pushgateway).toBe(b?.status?.endpoints?.pushgateway);
      const pid = env.operator?.child.pid ?? 0;
      expect(sshConnectionsOf(pid, env.hpc.ssh.port)).toBe(1);
      const metrics = await env.metrics();
      expect(metricSum(metrics, 'ibo_ssh_connection_state', 'state="connected"')).toBe(1);
      // One monitoring job in this cluster's work dir, whatever the number of benchmarks.
      const monitoring = E2eEnvironment.live(await env.squeue()).filter(
        (job) => job.workDir.startsWith(env.workDir) && job.comment.startsWith('ibo-mon-'),
      );
      expect(monitoring).toHaveLength(1);
    },
    E2E_TEST_TIMEOUT_MS,
  );

  it(
    'cancels every job and lets the object go when it is deleted in the middle of a run',
    async () => {
      await env.apply(
        env.benchmarkManifest('doomed', {
          workload: {
            clients: 1,
            requestsPerClient: 200,
            maxTokens: 64,
            prompt: 'Count slowly to one hundred.',
          },
        }),
      );
      const running = await env.waitForBenchmark('doomed', 'both jobs submitted', (object) =>
        (object.status?.slurmJobs?.length ?? 0) === 2 ? object : undefined,
      );
      const uid = running.metadata.uid;
      expect(E2eEnvironment.live(await env.jobsOf(uid)).length).toBeGreaterThan(0);
      await env.kubectl(['delete', 'ib', 'doomed', '--timeout=120s']);
      expect(await env.getBenchmark('doomed')).toBeUndefined();
      const rows = await env.jobsOf(uid);
      expect(rows.length).toBeGreaterThan(0);
      // scancel returns before slurmd finishes the job: it is CANCELLED or on its way (COMPLETING).
      for (const job of rows) expect(['CANCELLED', 'COMPLETING']).toContain(job.state);
    },
    E2E_TEST_TIMEOUT_MS,
  );

  it(
    'fails naming the job when its server job is scancel-ed from outside',
    async () => {
      await env.apply(
        env.benchmarkManifest('victim', {
          workload: {
            clients: 1,
            requestsPerClient: 200,
            maxTokens: 64,
            prompt: 'Count slowly to one hundred.',
          },
        }),
      );
      const submitted = await env.waitForBenchmark('victim', 'the server job', (object) =>
        object.status?.slurmJobs?.find((job) => job.role === 'server'),
      );
      await remote(env.hpc.ssh, `scancel ${submitted.id}`);
      const failed = await env.waitForBenchmark('victim', 'phase Failed', (object) =>
        object.status?.phase === 'Failed' ? object : undefined,
      );
      const ready = condition(failed, 'Ready');
      expect(ready?.reason).toBe('JobCancelled');
      expect(ready?.message).toContain(`SLURM job ${submitted.id}`);
      expect(condition(failed, 'BenchmarkComplete')?.status).toBe('False');
      // A failed run cleans up too: nothing of it stays queued or running.
      await waitFor(
        'the failed run to leave nothing live',
        async () =>
          E2eEnvironment.live(await env.jobsOf(failed.metadata.uid)).length === 0 ? true : undefined,
        { timeoutMs: 60_000, intervalMs: 1000 },
      );
    },
    E2E_TEST_TIMEOUT_MS,
  );
});
