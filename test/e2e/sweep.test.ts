import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InferenceBenchmarkSpecInput } from '../../crds/index.js';
import { uniqueName } from '../support/kube.js';
import { remote } from '../support/ssh.js';
import { E2E_TEST_TIMEOUT_MS, E2eEnvironment } from './environment.js';

/**
 * Sweeps and SLOs on the real stack (issue 16): a 4-level client sweep of the sandbox's gemma3:270m on Ollama
 * is ONE server job and ONE client job (sacct says so), with 4 entries in status.stages and status.saturation
 * filled; a loose SLO is met with goodput equal to throughput at every level, and one too tight is not, with
 * the threshold named. Tiny workloads: the machine has two cores shared with other suites.
 */
const env = new E2eEnvironment(uniqueName('e2e-sweep'));
const workload: InferenceBenchmarkSpecInput['workload'] = {
  clients: 1,
  requestsPerClient: 2,
  maxTokens: 8,
  temperature: 0,
  seed: 7,
  prompt: 'Say hello in five words.',
  requestTimeoutSeconds: 240,
};

beforeAll(async () => {
  await env.setUp({ monitoring: false });
  await env.startOperator();
});

afterAll(async () => {
  await env.tearDown();
});

/** The run's jobs as SLURM's accounting lists them, by the names the operator gives its jobs. */
async function accountedJobs(name: string): Promise<{ id: string; name: string; state: string }[]> {
  const names = [`ibo-server-${env.namespace}-${name}`, `ibo-client-${env.namespace}-${name}`].join(',');
  const out = await remote(
    env.hpc.ssh,
    `sacct --noheader -X --parsable2 --starttime=now-3hours --format=JobID,JobName%80,State --name=${names}`,
  );
  return out
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [id = '', jobName = '', state = ''] = line.split('|');
      return { id, name: jobName, state };
    });
}

describe('sweeps and SLOs on the sandbox', () => {
  it(
    'runs a 4-level client sweep on ONE server job and ONE client job, with 4 stages, saturation, and a loose SLO met at goodput = throughput',
    async () => {
      const name = 'sweep4';
      await env.apply(
        env.benchmarkManifest(name, {
          workload: { ...workload, sweep: { range: { from: 1, to: 8, factor: 2 } } },
          slo: { ttftMs: 600_000, e2eMs: 600_000 },
        }),
      );
      await env.waitCondition(name, 'BenchmarkComplete', 900);
      const done = await env.getBenchmark(name);
      const status = done?.status;
      expect(status?.phase, env.operatorLogTail()).toBe('Succeeded');

      // One job of each role for the whole sweep, by the operator's tag (squeue) and by SLURM's accounting.
      const tagged = await env.jobsOf(done?.metadata.uid ?? '');
      expect(tagged.map((j) => j.name).sort()).toEqual([
        `ibo-client-${env.namespace}-${name}`,
        `ibo-server-${env.namespace}-${name}`,
      ]);
      const accounted = await accountedJobs(name);
      expect(accounted.map((j) => j.id).sort()).toEqual(tagged.map((j) => j.id).sort());

      const stages = status?.stages ?? [];
      expect(stages.map((s) => s.load.clients)).toEqual([1, 2, 4, 8]);
      expect(stages.map((s) => s.state)).toEqual(['done', 'done', 'done', 'done']);
      for (const s of stages) {
        expect(s.succeeded, `stage ${s.stage}`).toBe(s.requests);
        expect(s.requests, `stage ${s.stage}`).toBe(2 * (s.load.clients ?? 0));
        expect(s.outputTokensPerSecond, `stage ${s.stage}`).toBeGreaterThan(0);
        // Loose SLO: every request is good, so goodput is the throughput in requests/s.
        expect(s.sloMet, `stage ${s.stage}`).toBe(true);
        expect(s.attainment, `stage ${s.stage}`).toBe(1);
        expect(s.goodput, `stage ${s.stage}`).toBe(s.requestsPerSecond);
      }
      const saturation = status?.saturation;
      expect(saturation?.load).toBe('clients');
      expect(saturation?.peakOutputTokensPerSecond?.value).toBeGreaterThan(0);
      expect(saturation?.peakRequestsPerSecond?.value).toBeGreaterThan(0);
      expect(saturation?.sloMetAnywhere).toBe(true);
      expect(saturation?.maxSloLoad?.load).toBe(8);
      expect(status?.display?.saturation).toBe('slo 8');
      expect(status?.progress?.display).toMatch(/^stage 4\/4, \d+\/16 requests$/);

      const slo = status?.conditions?.find((c) => c.type === 'SLOMet');
      expect(slo).toMatchObject({ status: 'True', reason: 'SLOMet' });
      expect(slo?.message).toContain('stage 4 (8 clients)');
      const complete = status?.conditions?.find((c) => c.type === 'BenchmarkComplete');
      expect(complete?.message).toContain('4 of 4 levels measured');

      const wide = await env.kubectl(['get', 'ib', name, '-o', 'wide']);
      expect(wide).toMatch(/KNEE\/SLO/);
      expect(wide).toMatch(/slo 8/);
    },
    E2E_TEST_TIMEOUT_MS,
  );

  it(
    'gives SLOMet=False naming the threshold for an SLO too tight, and fails the benchmark with slo.failBenchmark',
    async () => {
      const name = 'tight';
      await env.apply(
        env.benchmarkManifest(name, {
          workload: { ...workload, sweep: { levels: [{ clients: 1 }, { clients: 2 }] } },
          slo: { ttftMs: 1, percentile: 90, failBenchmark: true },
        }),
      );
      const status = await env.waitForBenchmark(
        name,
        'phase Failed',
        (o) => (o.status?.phase === 'Failed' ? o.status : undefined),
        900_000,
      );
      const slo = status.conditions?.find((c) => c.type === 'SLOMet');
      expect(slo, env.operatorLogTail()).toMatchObject({ status: 'False', reason: 'SLONotMet' });
      expect(slo?.message).toMatch(
        /^ttftMs p90 [\d.]+ ms > 1 ms at stage \d \(\d clients?\); missed at all 2 levels$/,
      );
      const ready = status.conditions?.find((c) => c.type === 'Ready');
      expect(ready).toMatchObject({ status: 'False', reason: 'SLONotMet' });
      // A missed SLO is a finding: the figures are kept.
      expect(status.stages?.map((s) => s.sloMet)).toEqual([false, false]);
      expect(status.stages?.every((s) => s.goodput === 0 && s.sloMostViolated === 'ttftMs')).toBe(true);
      expect(status.saturation?.sloMetAnywhere).toBe(false);
      expect(status.display?.saturation).toBe('slo none');
    },
    E2E_TEST_TIMEOUT_MS,
  );
});
