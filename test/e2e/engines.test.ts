import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InferenceBenchmarkSpecInput } from '../../crds/index.js';
import { uniqueName } from '../support/kube.js';
import { E2E_TEST_TIMEOUT_MS, E2eEnvironment } from './environment.js';

/**
 * Engines on the real sandbox (issue 15): a llama.cpp server job (the sandbox's llama-server stand-in over
 * llama-cpp-python, serving the same Gemma 3 270M GGUF Ollama serves) goes from apply to BenchmarkComplete;
 * and one workload on Ollama through its native API and through its OpenAI endpoints gives the same output
 * token counts (temperature 0, a seed), since both count the tokens Ollama generated.
 */
const env = new E2eEnvironment(uniqueName('e2e-engines'));
const workload = {
  clients: 2,
  requestsPerClient: 3,
  maxTokens: 40,
  temperature: 0,
  seed: 42,
  prompt: 'Name three rivers of Europe and one fact about each.',
  requestTimeoutSeconds: 240,
};

beforeAll(async () => {
  await env.setUp({ monitoring: false });
  await env.startOperator();
});

afterAll(async () => {
  await env.tearDown();
});

async function runToEnd(name: string, overrides: Partial<InferenceBenchmarkSpecInput>) {
  await env.apply(env.benchmarkManifest(name, { workload, ...overrides }));
  // Succeeded or Failed: a failure ends the wait at once, and its message is what the assertion shows.
  const done = await env.waitForBenchmark(
    name,
    'the run to end',
    (object) => (['Succeeded', 'Failed'].includes(object.status?.phase ?? '') ? object : undefined),
    600_000,
  );
  const ready = done.status?.conditions?.find((c) => c.type === 'Ready');
  expect(done.status?.phase, `${ready?.reason}: ${ready?.message}`).toBe('Succeeded');
  return done;
}

describe('engines on the sandbox', () => {
  it(
    'runs a llama.cpp server benchmark from apply to BenchmarkComplete with real numbers',
    async () => {
      const gguf = env.hpc.llamacpp?.ggufPath;
      if (!gguf) throw new Error('the sandbox has no llama.cpp server (test/sandbox/lib/build-llamacpp.sh)');
      const done = await runToEnd('llamacpp', {
        model: { name: 'gemma3-270m', path: gguf },
        server: { engine: 'llamacpp', numParallel: 1 },
      });
      const results = done?.status?.results;
      expect(results?.counts.succeeded).toBe(workload.clients * workload.requestsPerClient);
      expect(results?.tokens.output).toBeGreaterThan(0);
      // llama-cpp-python's stream carries no usage chunk: every output count is estimated from chunks.
      expect(results?.tokens.estimatedOutputRequests).toBe(results?.counts.succeeded);
      expect(results?.outputTokensPerSecond).toBeGreaterThan(0);
      expect(results?.ttftMs.p50).toBeGreaterThan(0);
      expect(done?.status?.endpoints?.server).toMatch(/:\d+$/);
      expect(done?.status?.endpoints?.ollama).toBeUndefined();
      const loaded = done?.status?.conditions?.find((c) => c.type === 'OllamaModelLoaded');
      expect(loaded?.message).toContain('is loaded on llama.cpp server');
    },
    E2E_TEST_TIMEOUT_MS,
  );

  it(
    "counts the same output tokens on Ollama's native API and on its OpenAI endpoints",
    async () => {
      const native = await runToEnd('ollama-native', {});
      const openai = await runToEnd('ollama-openai', { server: { protocol: 'openai' } });
      const nativeTokens = native?.status?.results?.tokens;
      const openaiTokens = openai?.status?.results?.tokens;
      // Ollama's OpenAI endpoints send usage: nothing is estimated on either side.
      expect(nativeTokens?.estimatedOutputRequests).toBe(0);
      expect(openaiTokens?.estimatedOutputRequests).toBe(0);
      const a = nativeTokens?.output ?? 0;
      const b = openaiTokens?.output ?? 0;
      expect(a).toBeGreaterThan(0);
      expect(Math.abs(a - b) / a, `native ${a} vs openai ${b} output tokens`).toBeLessThanOrEqual(0.01);
      expect(openai?.status?.endpoints?.server).toBe(openai?.status?.endpoints?.ollama);
    },
    E2E_TEST_TIMEOUT_MS,
  );
});
