import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName } from '../support/kube.js';
import { realCommand, withCommandWrappers } from '../support/login-faults.js';
import { waitFor } from '../support/wait.js';
import { type BenchmarkObject, E2E_TEST_TIMEOUT_MS, E2eEnvironment } from './environment.js';

/**
 * Chaos: four benchmarks at once, and the operator is SIGKILLed every 5-15 s, and once per round right while an sbatch is in flight
 * (the login node's sbatch is slowed so the job exists before the operator learns its id), until every
 * benchmark has settled. Five rounds in a row. Every benchmark must end Succeeded, and SLURM must have
 * seen exactly one job per role for it over the whole round.
 */
const env = new E2eEnvironment(uniqueName('e2e-chaos'));
const ROUNDS = 5;
const BENCHMARKS_PER_ROUND = 4;
/** The job is in squeue this long before sbatch answers: the window a crash must not turn into a duplicate. */
const SBATCH_DELAY_SECONDS = 3;

/** A fixed pseudo-random schedule (mulberry32), so a failing round can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const settled = (object: BenchmarkObject | undefined) =>
  object?.status?.phase === 'Succeeded' || object?.status?.phase === 'Failed';

beforeAll(async () => {
  await env.setUp({ monitoring: false });
  await env.startOperator();
});

afterAll(async () => {
  await env.tearDown();
});

describe('chaos: the operator killed again and again', () => {
  for (let round = 1; round <= ROUNDS; round++) {
    it(
      `round ${round}: every benchmark Succeeded, one job per role`,
      async () => {
        const next = random(round);
        const names = Array.from({ length: BENCHMARKS_PER_ROUND }, (_, i) => `chaos-${round}-${i}`);
        const slowSbatch = `out=$(${realCommand(env.hpc, 'sbatch')}); rc=$?\nsleep ${SBATCH_DELAY_SECONDS}\nprintf '%s\\n' "$out"\nexit $rc`;
        let kills = 0;
        let killsInSbatch = 0;
        await withCommandWrappers(env.hpc, { sbatch: slowSbatch }, async () => {
          for (const name of names) await env.apply(env.benchmarkManifest(name));
          // First kill: as soon as a job of this round is in squeue but not yet in its benchmark's status.
          await waitFor(
            'a job submitted whose sbatch has not answered yet',
            async () => {
              const objects = await Promise.all(names.map((name) => env.getBenchmark(name)));
              for (const object of objects) {
                if (!object?.metadata.uid) continue;
                const known = new Set(object.status?.slurmJobs?.map((job) => job.id));
                const rows = await env.jobsOf(object.metadata.uid);
                if (rows.some((row) => !known.has(row.id))) return true;
              }
              return undefined;
            },
            { timeoutMs: 120_000, intervalMs: 200 },
          );
          await env.stopOperator('SIGKILL');
          kills++;
          killsInSbatch++;
          await env.startOperator();
          // Then every 5-15 s until all have settled.
          const deadline = Date.now() + 600_000;
          for (;;) {
            const objects = await Promise.all(names.map((name) => env.getBenchmark(name)));
            if (objects.every(settled)) break;
            if (Date.now() > deadline)
              throw new Error(
                `round ${round} did not settle: ${JSON.stringify(objects.map((o) => o?.status))}`,
              );
            const lifeMs = 5_000 + next() * 10_000;
            await new Promise((resolve) => setTimeout(resolve, lifeMs));
            if ((await Promise.all(names.map((name) => env.getBenchmark(name)))).every(settled)) break;
            await env.stopOperator('SIGKILL');
            kills++;
            await env.startOperator();
          }
        });
        for (const name of names) {
          const object = await env.getBenchmark(name);
          expect(object?.status?.phase, `${name}: ${JSON.stringify(object?.status?.conditions)}`).toBe(
            'Succeeded',
          );
          const tagged = await env.jobsOf(object?.metadata.uid ?? '');
          expect(tagged.map((job) => job.name).sort(), `${name} after ${kills} kills`).toEqual([
            `ibo-client-${env.namespace}-${name}`,
            `ibo-server-${env.namespace}-${name}`,
          ]);
        }
        expect(killsInSbatch).toBe(1);
        console.log(`chaos round ${round}: ${kills} SIGKILLs (1 with an sbatch in flight), all Succeeded`);
        for (const name of names) await env.kubectl(['delete', 'ib', name, '--timeout=120s']);
      },
      E2E_TEST_TIMEOUT_MS,
    );
  }
});
