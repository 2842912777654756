import { readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shellQuote } from '../../slurm-bridge/index.js';
import { uniqueName } from '../support/kube.js';
import { remote } from '../support/ssh.js';
import { E2E_TEST_TIMEOUT_MS, E2eEnvironment, ROOT } from './environment.js';

/**
 * Datasets and the run's environment on the real sandbox (issue 16 items 5 and 6): the project's ShareGPT
 * fixture in a ConfigMap drives a run to Succeeded, with the real token distributions in results and the
 * environment (node, CPU, Ollama's version, the model's digest) in status and in the run's summary.json; a
 * malformed dataset is refused with InvalidDataset naming the row before any job is submitted, and a changed
 * ConfigMap is read again.
 */
const env = new E2eEnvironment(uniqueName('e2e-dataset'));
const SHAREGPT = readFileSync(join(ROOT, 'recipes', 'datasets', 'sharegpt-small.json'), 'utf8');
const MAX_TOKENS = 12;

function configMap(name: string, key: string, text: string): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace: env.namespace },
    data: { [key]: text },
  };
}

const dataset = (name: string) => ({
  configMapRef: { name, key: 'data.json' },
  format: 'sharegpt' as const,
});

/** No prompt: the dataset is the workload's only prompt source. */
const workload = (name: string) => ({
  clients: 1,
  requestsPerClient: 4,
  maxTokens: MAX_TOKENS,
  temperature: 0,
  seed: 3,
  requestTimeoutSeconds: 120,
  dataset: dataset(name),
});

beforeAll(async () => {
  await env.setUp({ monitoring: false });
  await env.startOperator();
});

afterAll(async () => {
  await env.tearDown();
});

describe('datasets and the environment on the sandbox', () => {
  it(
    'runs the ShareGPT fixture from a ConfigMap to Succeeded, and names the node, CPU, Ollama version and model digest',
    async () => {
      await env.apply(configMap('sharegpt-small', 'data.json', SHAREGPT));
      await env.apply(env.benchmarkManifest('sharegpt', { workload: workload('sharegpt-small') }));
      await env.waitCondition('sharegpt', 'BenchmarkComplete', 900);
      const done = await env.getBenchmark('sharegpt');
      const status = done?.status;
      expect(status?.phase, env.operatorLogTail()).toBe('Succeeded');

      expect(status?.dataset).toMatchObject({ configMap: 'sharegpt-small', format: 'sharegpt', rows: 24 });
      expect(status?.dataset?.path).toMatch(/\/bin\/[0-9a-f]{16}-prompts\.jsonl$/);
      const uploaded = await remote(env.hpc.ssh, `cat ${shellQuote(status?.dataset?.path ?? '/missing')}`);
      expect(uploaded.trim().split('\n')).toHaveLength(24);

      // The real lengths, as Ollama counted them: four different prompts of the fixture, outputs within the bound.
      const tokens = status?.results?.tokens;
      expect(status?.results?.counts.succeeded).toBe(4);
      expect(tokens?.promptPerRequest?.p50).toBeGreaterThan(0);
      expect(tokens?.promptPerRequest?.p99 ?? 0).toBeGreaterThan(tokens?.promptPerRequest?.p50 ?? 0);
      expect(tokens?.outputPerRequest?.p99).toBeGreaterThan(0);
      expect(tokens?.outputPerRequest?.p99).toBeLessThanOrEqual(MAX_TOKENS);

      const environment = status?.environment;
      console.info(JSON.stringify({ dataset: status?.dataset, tokens, environment }, null, 1));
      expect(environment).toMatchObject({
        engine: 'ollama',
        engineVersion: expect.stringMatching(/^\d+\.\d+\.\d+/),
        model: 'gemma3:270m',
        quantization: 'Q4_K_M',
        slurmVersion: env.hpc.slurm.version,
        clientServiceVersion: expect.stringMatching(/^\d+\.\d+\.\d+/),
        operatorVersion: expect.stringMatching(/^\d+\.\d+\.\d+/),
        bundleHash: expect.stringMatching(/^[0-9a-f]{16}$/),
        specHash: expect.stringMatching(/^[0-9a-f]{16}$/),
        seed: 3,
        datasetHash: status?.dataset?.sha256.slice(0, 16),
      });
      expect(environment?.modelDigest).toMatch(/^[0-9a-f]{64}$/);
      const serverJob = status?.slurmJobs?.find((job) => job.role === 'server');
      expect(environment?.serverNode?.node).toBe(serverJob?.node);
      expect(environment?.serverNode?.cpuModel).toBeTruthy();
      expect(environment?.serverNode?.cpus).toBeGreaterThan(0);
      expect(environment?.serverNode?.memoryMB).toBeGreaterThan(0);
      expect(environment?.clientNode).toBe(status?.slurmJobs?.find((job) => job.role === 'client')?.node);

      // summary.json on the cluster carries the same environment.
      const records = status?.resultsStore?.recordsPath ?? '';
      const summaryPath = posix.join(posix.dirname(records), 'summary.json');
      const summary = JSON.parse(await remote(env.hpc.ssh, `cat ${shellQuote(summaryPath)}`));
      expect(summary.environment).toMatchObject({
        engineVersion: environment?.engineVersion,
        modelDigest: environment?.modelDigest,
        serverNode: { node: environment?.serverNode?.node, cpuModel: environment?.serverNode?.cpuModel },
        clientServiceVersion: environment?.clientServiceVersion,
      });
      expect(summary.promptsFile).toEqual({ path: status?.dataset?.path, rows: 24 });
    },
    E2E_TEST_TIMEOUT_MS,
  );

  it(
    'refuses a dataset with a row without a human turn as InvalidDataset naming the row, submits nothing, and reads a changed ConfigMap again',
    async () => {
      const rows = JSON.parse(SHAREGPT) as { conversations: { from: string; value: string }[] }[];
      const broken = rows.map((row, i) =>
        i === 16 ? { conversations: row.conversations.filter((turn) => turn.from !== 'human') } : row,
      );
      await env.apply(configMap('broken', 'data.json', JSON.stringify(broken)));
      await env.apply(env.benchmarkManifest('broken', { workload: workload('broken') }));
      const refused = await env.waitForBenchmark('broken', 'InvalidDataset', (object) => {
        const complete = object.status?.conditions?.find((c) => c.type === 'BenchmarkComplete');
        return complete?.reason === 'InvalidDataset' ? { object, complete } : undefined;
      });
      expect(refused.complete.message).toContain('row 17: no human turn');
      expect(refused.object.status?.phase).toBe('Failed');
      const ready = refused.object.status?.conditions?.find((c) => c.type === 'Ready');
      expect(ready).toMatchObject({ status: 'False', reason: 'InvalidDataset' });
      expect(await env.jobsOf(refused.object.metadata?.uid ?? '')).toEqual([]);

      // Terminal until the ConfigMap changes: now bad JSON in row 2, which the operator finds on its own.
      await env.apply(configMap('broken', 'data.json', '[{"conversations": []},\n{"conversations" []}]'));
      const again = await env.waitForBenchmark(
        'broken',
        'the changed dataset refused anew',
        (object) => {
          const complete = object.status?.conditions?.find((c) => c.type === 'BenchmarkComplete');
          return complete?.reason === 'InvalidDataset' &&
            complete.message.includes('row 2 (line 2): not JSON')
            ? complete
            : undefined;
        },
        120_000,
      );
      expect(again.message).toContain('ConfigMap');
      expect(await env.jobsOf(refused.object.metadata?.uid ?? '')).toEqual([]);
    },
    E2E_TEST_TIMEOUT_MS,
  );
});
