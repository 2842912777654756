import { describe, expect, it } from 'vitest';
import { API_VERSION } from './common.js';
import { InferenceBenchmarkSpec, type InferenceBenchmarkSpecInput } from './inference-benchmark.js';
import { parseInferenceBenchmark } from './parse.js';

const minimalSpec: InferenceBenchmarkSpecInput = {
  clusterRef: { name: 'c1' },
  model: { name: 'gemma3:270m' },
};

function benchmark(spec: unknown, name = 'b1') {
  return { apiVersion: API_VERSION, kind: 'InferenceBenchmark', metadata: { name }, spec };
}

function specWith(patch: Record<string, unknown>): unknown {
  return { ...minimalSpec, ...patch };
}

describe('InferenceBenchmark spec defaults', () => {
  it('fills every default a user would expect, the same ones the CRD gives the apiserver', () => {
    expect(InferenceBenchmarkSpec.parse(minimalSpec)).toEqual({
      clusterRef: { name: 'c1' },
      model: { name: 'gemma3:270m', insecureRegistry: false },
      slurm: { nodes: 1, memGB: 16, time: '01:00:00' },
      workload: {
        clients: 1,
        requestsPerClient: 10,
        maxTokens: 256,
        warmupRequests: 0,
        requestTimeoutSeconds: 300,
        maxErrorRate: 0.05,
        mode: 'closed',
      },
      server: { engine: 'ollama', maxLoadedModels: 1 },
      clientService: { memGB: 8, time: '00:30:00', cpus: 2 },
      monitoring: { enabled: true },
      cleanupPolicy: 'Delete',
      retainResults: false,
    });
  });

  it('gives every parse its own copy of a defaulted object, so the operator may mutate it', () => {
    const first = InferenceBenchmarkSpec.parse(minimalSpec);
    first.workload.clients = 99;
    expect(InferenceBenchmarkSpec.parse(minimalSpec).workload.clients).toBe(1);
  });

  it('keeps values the user set over defaults', () => {
    const spec = InferenceBenchmarkSpec.parse(
      specWith({ workload: { clients: 100 }, monitoring: { enabled: false } }),
    );
    expect(spec.workload.clients).toBe(100);
    expect(spec.workload.requestsPerClient).toBe(10);
    expect(spec.monitoring.enabled).toBe(false);
  });
});

describe('parseInferenceBenchmark names the field of every problem', () => {
  it.each([
    ['zero clients', specWith({ workload: { clients: 0 } }), 'spec.workload.clients'],
    [
      'a fractional request count',
      specWith({ workload: { requestsPerClient: 1.5 } }),
      'spec.workload.requestsPerClient',
    ],
    ['a string where a number belongs', specWith({ slurm: { memGB: '64' } }), 'spec.slurm.memGB'],
    [
      'a partition with a semicolon',
      specWith({ slurm: { partition: 'gpu;reboot' } }),
      'spec.slurm.partition',
    ],
    ['a bad time', specWith({ slurm: { time: '1h' } }), 'spec.slurm.time'],
    ['an unknown mode', specWith({ workload: { mode: 'burst' } }), 'spec.workload.mode'],
    ['an open loop without a rate', specWith({ workload: { mode: 'open' } }), 'spec.workload.ratePerSecond'],
    ['a rate on a closed loop', specWith({ workload: { ratePerSecond: 3 } }), 'spec.workload.ratePerSecond'],
    [
      'a concurrency cap on a closed loop',
      specWith({ workload: { maxConcurrency: 3 } }),
      'spec.workload.maxConcurrency',
    ],
    [
      'both prompt and prompts',
      specWith({ workload: { prompt: 'a', prompts: ['b'] } }),
      'spec.workload.prompts',
    ],
    [
      'more than a million requests in total',
      specWith({ workload: { clients: 10_000, requestsPerClient: 101 } }),
      'spec.workload.requestsPerClient',
    ],
    ['a missing model', { clusterRef: { name: 'c1' } }, 'spec.model'],
    ['an unknown field', specWith({ replicas: 3 }), 'spec.replicas'],
    [
      'an env variable the operator owns',
      specWith({ server: { env: [{ name: 'OLLAMA_HOST', value: 'x' }] } }),
      'spec.server.env',
    ],
    [
      'a duplicated env variable',
      specWith({
        server: {
          env: [
            { name: 'A', value: '1' },
            { name: 'A', value: '2' },
          ],
        },
      }),
      'spec.server.env',
    ],
  ])('rejects %s at %s', (_why, spec, field) => {
    const result = parseInferenceBenchmark(benchmark(spec));
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.errors.map((e) => e.field)).toContain(field);
      expect(result.message).toContain(field);
    }
  });

  it('rejects a name longer than 63 characters', () => {
    const result = parseInferenceBenchmark(benchmark(minimalSpec, 'x'.repeat(64)));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors[0]?.field).toBe('metadata.name');
  });

  it('accepts an open loop with a rate and returns the defaulted object', () => {
    const result = parseInferenceBenchmark(
      benchmark(specWith({ workload: { mode: 'open', ratePerSecond: 2.5 } })),
    );
    expect(result.ok).toBe(true);
    if (result.ok)
      expect(result.value.spec.workload).toMatchObject({ mode: 'open', ratePerSecond: 2.5, clients: 1 });
  });

  it('accepts a status as the operator writes it', () => {
    const result = parseInferenceBenchmark({
      ...benchmark(minimalSpec),
      status: {
        observedGeneration: 2,
        phase: 'Running',
        conditions: [
          {
            type: 'Ready',
            status: 'False',
            reason: 'RunInProgress',
            message: '450/1000',
            lastTransitionTime: '2026-11-28T12:00:00Z',
            observedGeneration: 2,
          },
        ],
        slurmJobs: [{ role: 'server', id: '42', state: 'RUNNING', node: 'gpu01', exitCode: '0:0' }],
        progress: { completedRequests: 450, totalRequests: 1000, display: '450/1000' },
      },
    });
    expect(result.ok).toBe(true);
  });

  it('rejects two conditions of one type, as the apiserver does for a map list', () => {
    const condition = {
      type: 'Ready',
      status: 'True',
      reason: 'RunSucceeded',
      message: '',
      lastTransitionTime: '2026-11-28T12:00:00Z',
    };
    const result = parseInferenceBenchmark({
      ...benchmark(minimalSpec),
      status: { conditions: [condition, condition] },
    });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors[0]?.field).toBe('status.conditions');
  });
});

describe('engines: which model and server fields go with which engine', () => {
  const spec = (model: Record<string, unknown>, server: Record<string, unknown>, slurm = {}) =>
    InferenceBenchmarkSpec.safeParse({ clusterRef: { name: 'c1' }, model, server, slurm });
  const refusedAt = (result: ReturnType<typeof spec>) =>
    result.success ? 'accepted' : result.error.issues.map((issue) => issue.path.join('.')).join(', ');

  it('accepts each engine with the model source it loads', () => {
    expect(refusedAt(spec({ name: 'gemma3:270m' }, { protocol: 'openai', openaiApi: 'chat' }))).toBe(
      'accepted',
    );
    expect(
      refusedAt(spec({ name: 'Qwen/Qwen2.5-0.5B', revision: 'v1' }, { engine: 'vllm' }, { gpus: 2 })),
    ).toBe('accepted');
    expect(
      refusedAt(
        spec({ name: 'q', path: '/scratch/q' }, { engine: 'sglang', tensorParallelSize: 2 }, { gpus: 2 }),
      ),
    ).toBe('accepted');
    expect(
      refusedAt(
        spec({ name: 'org/m-GGUF', file: 'm-Q8_0.gguf' }, { engine: 'llamacpp', args: ['-c', '4096'] }),
      ),
    ).toBe('accepted');
  });

  it.each([
    ['an Ollama tag with vllm', { name: 'gemma3:270m' }, { engine: 'vllm' }, {}, 'model.name'],
    ['a path with ollama', { name: 'm', path: '/m' }, {}, {}, 'model.path'],
    [
      'a revision with llamacpp',
      { name: 'o/m', path: '/m.gguf', revision: 'x' },
      { engine: 'llamacpp' },
      {},
      'model.revision',
    ],
    ['llamacpp without a GGUF', { name: 'o/m' }, { engine: 'llamacpp' }, {}, 'model'],
    [
      'protocol ollama with sglang',
      { name: 'o/m' },
      { engine: 'sglang', protocol: 'ollama' },
      {},
      'server.protocol',
    ],
    ['openaiApi on the native protocol', { name: 'm' }, { openaiApi: 'chat' }, {}, 'server.openaiApi'],
    ['flags with ollama', { name: 'm' }, { args: ['-x'] }, {}, 'server.args'],
    [
      'tensor parallelism beyond the GPUs',
      { name: 'o/m' },
      { engine: 'vllm', tensorParallelSize: 4 },
      { gpus: 2 },
      'server.tensorParallelSize',
    ],
    [
      'a token Secret with ollama',
      { name: 'm', huggingFaceTokenSecretRef: { name: 's' } },
      {},
      {},
      'model.huggingFaceTokenSecretRef',
    ],
    [
      'HF_TOKEN in env',
      { name: 'o/m' },
      { engine: 'vllm', env: [{ name: 'HF_TOKEN', value: 'x' }] },
      {},
      'server.env',
    ],
  ])('refuses %s, naming the field', (_title, model, server, slurm, field) => {
    expect(refusedAt(spec(model, server, slurm))).toBe(field);
  });
});
