/**
 * `npm run bench:sweep`: time to findings on the sandbox (issue 16, "Measure and report").
 *
 * - A: a 6-level client sweep as ONE InferenceBenchmark (workload.sweep.levels).
 * - B: the same 6 levels as 6 separate InferenceBenchmarks, one level each, run one after another
 *   (maxActiveBenchmarks 1: side by side on two cores they would measure each other).
 * For each way: the wall time from kubectl apply to the last benchmark's end, the SLURM jobs (squeue by the
 * operator's tag, every state) and the model loads (one per server job: each starts its own Ollama and
 * loads the model once).
 * - C: one level repeated 5 times (workload.repeat: 5): the coefficient of variation of output tok/s over the
 *   repeats, with the mean and its 95 % confidence interval.
 *
 * Environment: IBO_BENCH_LEVELS (comma-separated clients, default 1,2,3,4,5,6), IBO_BENCH_REQUESTS_PER_CLIENT
 * (default 2), IBO_BENCH_MAX_TOKENS (default 8), IBO_BENCH_REPEAT_CLIENTS (default 2). Prints figures; asserts
 * nothing.
 */
import type { InferenceBenchmarkSpecInput } from '../../crds/index.js';
import { type BenchmarkObject, E2eEnvironment } from '../e2e/environment.js';
import { waitFor } from '../support/wait.js';

const LEVELS = (process.env.IBO_BENCH_LEVELS ?? '1,2,3,4,5,6').split(',').map(Number);
const REQUESTS_PER_CLIENT = Number(process.env.IBO_BENCH_REQUESTS_PER_CLIENT ?? 2);
const MAX_TOKENS = Number(process.env.IBO_BENCH_MAX_TOKENS ?? 8);
const REPEAT_CLIENTS = Number(process.env.IBO_BENCH_REPEAT_CLIENTS ?? 2);
const TIMEOUT_MS = 3_600_000;

const env = new E2eEnvironment(`bench-sweep-${Date.now().toString(36)}`);

const workload: InferenceBenchmarkSpecInput['workload'] = {
  clients: 1,
  requestsPerClient: REQUESTS_PER_CLIENT,
  maxTokens: MAX_TOKENS,
  temperature: 0,
  seed: 7,
  prompt: 'Say hello in five words.',
  requestTimeoutSeconds: 240,
};

const isOver = (o: BenchmarkObject) => o.status?.phase === 'Succeeded' || o.status?.phase === 'Failed';

async function untilOver(names: readonly string[]): Promise<BenchmarkObject[]> {
  return waitFor(
    `${names.join(', ')} over`,
    async () => {
      const objects = await Promise.all(names.map((n) => env.getBenchmark(n)));
      return objects.every((o) => o !== undefined && isOver(o)) ? (objects as BenchmarkObject[]) : undefined;
    },
    { timeoutMs: TIMEOUT_MS, intervalMs: 1000 },
  );
}

interface Way {
  seconds: number;
  jobs: number;
  serverJobs: number;
  phases: string[];
}

async function jobsOf(objects: readonly BenchmarkObject[]): Promise<{ jobs: number; serverJobs: number }> {
  const rows = (await Promise.all(objects.map((o) => env.jobsOf(o.metadata.uid)))).flat();
  return { jobs: rows.length, serverJobs: rows.filter((r) => r.name.startsWith('ibo-server-')).length };
}

async function asOneObject(): Promise<Way & { object: BenchmarkObject }> {
  const started = performance.now();
  await env.apply(
    env.benchmarkManifest('sweep', {
      workload: { ...workload, sweep: { levels: LEVELS.map((clients) => ({ clients })) } },
    }),
  );
  const [object] = await untilOver(['sweep']);
  const seconds = (performance.now() - started) / 1000;
  if (!object) throw new Error('the sweep benchmark is gone');
  return { seconds, ...(await jobsOf([object])), phases: [object.status?.phase ?? '?'], object };
}

async function asSeparateObjects(): Promise<Way & { objects: BenchmarkObject[] }> {
  await env.setMaxActiveBenchmarks(1);
  const names = LEVELS.map((clients) => `level-${clients}`);
  const started = performance.now();
  for (const [i, clients] of LEVELS.entries()) {
    await env.apply(env.benchmarkManifest(names[i] as string, { workload: { ...workload, clients } }));
  }
  const objects = await untilOver(names);
  const seconds = (performance.now() - started) / 1000;
  return { seconds, ...(await jobsOf(objects)), phases: objects.map((o) => o.status?.phase ?? '?'), objects };
}

async function repeated(): Promise<BenchmarkObject> {
  await env.apply(
    env.benchmarkManifest('repeat5', {
      workload: { ...workload, sweep: { levels: [{ clients: REPEAT_CLIENTS }] }, repeat: 5 },
    }),
  );
  const [object] = await untilOver(['repeat5']);
  if (!object) throw new Error('the repeat benchmark is gone');
  return object;
}

const fmt = (value: number | null | undefined, digits = 1) =>
  value === null || value === undefined ? 'n/a' : value.toFixed(digits);

async function main(): Promise<void> {
  await env.setUp({ monitoring: false });
  await env.startOperator();
  try {
    console.log(
      `levels (clients): ${LEVELS.join(', ')}; ${REQUESTS_PER_CLIENT} requests per client, maxTokens ${MAX_TOKENS}`,
    );
    const one = await asOneObject();
    const separate = await asSeparateObjects();
    await env.setMaxActiveBenchmarks(null);
    const repeat = await repeated();

    console.log('\nway                     wall time   jobs   model loads   phases');
    const row = (label: string, w: Way) =>
      console.log(
        `${label.padEnd(24)}${`${fmt(w.seconds)} s`.padStart(9)}${String(w.jobs).padStart(7)}${String(w.serverJobs).padStart(14)}   ${w.phases.join(',')}`,
      );
    row('one sweep object', one);
    row(`${LEVELS.length} separate objects`, separate);
    console.log(
      `time saved by the sweep: ${fmt(separate.seconds - one.seconds)} s (${fmt((100 * (separate.seconds - one.seconds)) / separate.seconds)} %)`,
    );

    console.log('\nper level: output tok/s as one sweep vs as separate benchmarks');
    for (const [i, clients] of LEVELS.entries()) {
      const inSweep = one.object.status?.stages?.[i]?.outputTokensPerSecond;
      const alone = separate.objects[i]?.status?.results?.outputTokensPerSecond;
      console.log(
        `  ${String(clients).padStart(3)} clients   ${fmt(inSweep).padStart(8)}   ${fmt(alone).padStart(8)}`,
      );
    }
    const saturation = one.object.status?.saturation;
    console.log(
      `sweep saturation: knee ${saturation?.knee ? `${saturation.knee.load} clients` : 'none'}, peak ${fmt(saturation?.peakOutputTokensPerSecond?.value)} tok/s at ${saturation?.peakOutputTokensPerSecond?.load ?? 'n/a'} clients`,
    );

    const stats = repeat.status?.stages?.[0]?.repeat;
    const tps = stats?.outputTokensPerSecond;
    console.log(
      `\n${REPEAT_CLIENTS} clients x 5 repeats (${repeat.status?.phase}): output tok/s mean ${fmt(tps?.mean)}, 95 % CI [${fmt(tps?.ciLower)}, ${fmt(tps?.ciUpper)}], CV ${fmt(tps?.cv === null || tps?.cv === undefined ? null : tps.cv * 100, 2)} % (n ${tps?.n ?? 0}); req/s CV ${fmt(stats?.requestsPerSecond.cv === null || stats?.requestsPerSecond.cv === undefined ? null : stats.requestsPerSecond.cv * 100, 2)} %, TTFT p50 CV ${fmt(stats?.ttftP50Ms.cv === null || stats?.ttftP50Ms.cv === undefined ? null : stats.ttftP50Ms.cv * 100, 2)} %`,
    );
    const complete = repeat.status?.conditions?.find((c) => c.type === 'BenchmarkComplete');
    console.log(`BenchmarkComplete message: ${complete?.message}`);
  } finally {
    await env.tearDown().catch((error: unknown) => console.error('tear-down:', error));
  }
}

await main();
