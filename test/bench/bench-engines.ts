/**
 * `npm run bench:engines`: the two engines the sandbox runs for real, measured by the operator's own
 * benchmark (issue 15, "Measure and report"): gemma3:270m on Ollama (native protocol) and the same GGUF on
 * the llama.cpp server (the sandbox's llama-server stand-in over llama-cpp-python), each with 1 and with 4
 * parallel requests (clients = the server's parallel slots). One benchmark at a time (maxActiveBenchmarks 1):
 * side by side on two cores they would measure each other.
 *
 * Per run it prints the output tokens/s of the whole window, the per-request decode rate seen by the client
 * (1000 / TPOT p50: TPOT is defined for every engine, clientTps needs a usage count llama-cpp-python does
 * not send), TTFT p50 and e2e p50, and how many requests had their output tokens estimated from chunks.
 * Environment: IBO_BENCH_ENGINES (default ollama,llamacpp), IBO_BENCH_REQUESTS (per client, default 4), IBO_BENCH_MAX_TOKENS (default 64). Prints
 * figures; asserts nothing.
 */
import type { InferenceBenchmarkSpecInput } from '../../crds/index.js';
import { type BenchmarkObject, E2eEnvironment } from '../e2e/environment.js';
import { waitFor } from '../support/wait.js';

const REQUESTS = Number(process.env.IBO_BENCH_REQUESTS ?? 4);
const MAX_TOKENS = Number(process.env.IBO_BENCH_MAX_TOKENS ?? 64);
const env = new E2eEnvironment(`bench-engines-${Date.now().toString(36)}`);

function serverOf(engine: 'ollama' | 'llamacpp', parallel: number): Partial<InferenceBenchmarkSpecInput> {
  if (engine === 'ollama') return { server: { numParallel: parallel } };
  const gguf = env.hpc.llamacpp?.ggufPath;
  if (!gguf) throw new Error('the sandbox has no llama.cpp server');
  return {
    model: { name: 'gemma3-270m', path: gguf },
    server: { engine: 'llamacpp', numParallel: parallel },
  };
}

async function runOne(engine: 'ollama' | 'llamacpp', parallel: number): Promise<BenchmarkObject> {
  const name = `${engine}-p${parallel}`;
  await env.apply(
    env.benchmarkManifest(name, {
      ...serverOf(engine, parallel),
      workload: {
        clients: parallel,
        requestsPerClient: REQUESTS,
        maxTokens: MAX_TOKENS,
        temperature: 0,
        seed: 11,
        prompt: 'Write a short story about a lighthouse keeper and a storm.',
        warmupRequests: 1,
        requestTimeoutSeconds: 600,
      },
    }),
  );
  return waitFor(
    `${name} over`,
    async () => {
      const object = await env.getBenchmark(name);
      return object?.status?.phase === 'Succeeded' || object?.status?.phase === 'Failed' ? object : undefined;
    },
    { timeoutMs: 3_600_000, intervalMs: 1000 },
  );
}

const fmt = (value: number | null | undefined, digits = 1) =>
  value === null || value === undefined ? 'n/a' : value.toFixed(digits);

async function main(): Promise<void> {
  await env.setUp({ monitoring: false });
  await env.setMaxActiveBenchmarks(1);
  await env.startOperator();
  try {
    console.log(`gemma3:270m, ${REQUESTS} requests per client, maxTokens ${MAX_TOKENS}, temperature 0`);
    console.log(
      'engine     parallel  phase      out tok/s  decode tok/s (1000/TPOT p50)  TTFT p50 ms  e2e p50 ms  estimated  tokens/request',
    );
    const engines = (process.env.IBO_BENCH_ENGINES ?? 'ollama,llamacpp').split(',') as (
      | 'ollama'
      | 'llamacpp'
    )[];
    for (const engine of engines) {
      for (const parallel of [1, 4]) {
        const object = await runOne(engine, parallel);
        const r = object.status?.results;
        const perRequest = r && r.counts.succeeded > 0 ? r.tokens.output / r.counts.succeeded : null;
        console.log(
          `${engine.padEnd(11)}${String(parallel).padStart(8)}  ${(object.status?.phase ?? '?').padEnd(10)}${fmt(r?.outputTokensPerSecond).padStart(10)}${fmt(r?.tpotMs.p50 ? 1000 / r.tpotMs.p50 : null).padStart(30)}${fmt(r?.ttftMs.p50, 0).padStart(13)}${fmt(r?.e2eMs.p50, 0).padStart(12)}${String(r?.tokens.estimatedOutputRequests ?? 'n/a').padStart(11)}${fmt(perRequest).padStart(14)}`,
        );
      }
    }
  } finally {
    await env.tearDown();
  }
}

await main();
