import { beforeAll, describe, expect, it } from 'vitest';
import { type FieldError, parseInferenceBenchmark, parseSlurmCluster } from '../../crds/index.js';
import { freshNamespace, installCrds, kubectlApply } from './api-support.js';

/**
 * Manifests a user could plausibly write wrong. Each must be refused by the real apiserver at `kubectl apply`
 * with a message that names the field, and by the operator's zod schemas with the same field: the two
 * validators must not drift apart.
 */

type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: Record<string, unknown>;
  spec?: Record<string, unknown>;
};
type Mutation = (m: Manifest) => void;

function goodBenchmark(name: string): Manifest {
  return {
    apiVersion: 'hpcbench.io/v1alpha1',
    kind: 'InferenceBenchmark',
    metadata: { name },
    spec: {
      clusterRef: { name: 'my-cluster' },
      model: { name: 'llama2', precision: 'fp16' },
      slurm: { partition: 'gpu', account: 'my-project', nodes: 1, memGB: 64, time: '01:00:00' },
      workload: { clients: 100, requestsPerClient: 10, prompt: 'Why is the sky blue?' },
      server: { image: 'docker://ollama/ollama:0.24.0' },
      clientService: { partition: 'cpu', memGB: 8, time: '00:30:00' },
    },
  };
}

function goodCluster(name: string): Manifest {
  return {
    apiVersion: 'hpcbench.io/v1alpha1',
    kind: 'SlurmCluster',
    metadata: { name },
    spec: {
      host: 'login.example.org',
      port: 8822,
      user: 'u100001',
      sshSecretRef: { name: 'my-cluster-ssh' },
      workDir: 'hpcbench',
      containerRuntime: 'apptainer',
      modules: ['env/release/2024.1', 'Apptainer'],
      defaults: { account: 'my-project', serverPartition: 'gpu', clientPartition: 'cpu' },
      monitoring: { enabled: true, time: '1-00:00:00' },
    },
  };
}

/** Sets `value` at a dotted path under spec, creating objects on the way; undefined deletes. */
function setAt(path: string, value: unknown): Mutation {
  return (manifest) => {
    const keys = path.split('.');
    let node = manifest as unknown as Record<string, unknown>;
    for (const key of keys.slice(0, -1)) {
      node[key] ??= {};
      node = node[key] as Record<string, unknown>;
    }
    const last = keys.at(-1) ?? '';
    if (value === undefined) delete node[last];
    else node[last] = value;
  };
}

interface BadCase {
  title: string;
  kind: 'InferenceBenchmark' | 'SlurmCluster';
  mutate: Mutation;
  /** The field the apiserver's and zod's messages must name. */
  field: string;
}

const ib = (title: string, field: string, mutate: Mutation): BadCase => ({
  title,
  kind: 'InferenceBenchmark',
  mutate,
  field,
});
const sc = (title: string, field: string, mutate: Mutation): BadCase => ({
  title,
  kind: 'SlurmCluster',
  mutate,
  field,
});

const HOSTILE_VALUES: [string, string][] = [
  ['a semicolon', 'gpu;reboot'],
  ['a command substitution', 'x$(id)'],
  ['backticks', 'x`id`'],
  ['a single quote', "x'y"],
  ['a double quote', 'x"y'],
  ['a newline', 'x\nrm -rf ~'],
  ['a space', 'x y'],
];
const HOSTILE_FIELDS = ['spec.slurm.partition', 'spec.slurm.account', 'spec.model.name', 'spec.server.image'];

const CASES: BadCase[] = [
  // negative or zero counts
  ib('zero clients', 'spec.workload.clients', setAt('spec.workload.clients', 0)),
  ib('negative clients', 'spec.workload.clients', setAt('spec.workload.clients', -5)),
  ib(
    'zero requests per client',
    'spec.workload.requestsPerClient',
    setAt('spec.workload.requestsPerClient', 0),
  ),
  ib('zero nodes', 'spec.slurm.nodes', setAt('spec.slurm.nodes', 0)),
  ib('zero output tokens', 'spec.workload.maxTokens', setAt('spec.workload.maxTokens', 0)),
  ib('a negative warmup', 'spec.workload.warmupRequests', setAt('spec.workload.warmupRequests', -1)),
  ib(
    'a zero rate on an open loop',
    'spec.workload.ratePerSecond',
    setAt('spec.workload', { mode: 'open', ratePerSecond: 0 }),
  ),
  sc('port zero', 'spec.port', setAt('spec.port', 0)),
  // absurd sizes
  ib('a million clients', 'spec.workload.clients', setAt('spec.workload.clients', 1_000_000)),
  ib('100 TB of memory', 'spec.slurm.memGB', setAt('spec.slurm.memGB', 100_000)),
  ib(
    'more than a million requests in total',
    'spec.workload.requestsPerClient',
    setAt('spec.workload', { clients: 10_000, requestsPerClient: 200 }),
  ),
  ib('a temperature of 5', 'spec.workload.temperature', setAt('spec.workload.temperature', 5)),
  ib('a 70 000 character prompt', 'spec.workload.prompt', setAt('spec.workload.prompt', 'x'.repeat(70_000))),
  ib('a client job of 10 TB', 'spec.clientService.memGB', setAt('spec.clientService.memGB', 10_000)),
  sc('port 70000', 'spec.port', setAt('spec.port', 70_000)),
  ib('a 64-character name', 'metadata.name', setAt('metadata.name', `b${'x'.repeat(63)}`)),
  // bad time strings
  ib('a time with a unit', 'spec.slurm.time', setAt('spec.slurm.time', '1h')),
  ib('a time with 75 minutes', 'spec.slurm.time', setAt('spec.slurm.time', '1:75:00')),
  ib('a zero time, which SLURM reads as unlimited', 'spec.slurm.time', setAt('spec.slurm.time', '00:00:00')),
  ib('a time of 400 days', 'spec.slurm.time', setAt('spec.slurm.time', '400-00:00:00')),
  ib('a client time of INFINITE', 'spec.clientService.time', setAt('spec.clientService.time', 'INFINITE')),
  sc('a monitoring time of "forever"', 'spec.monitoring.time', setAt('spec.monitoring.time', 'forever')),
  // unknown enum values
  ib('an unknown load mode', 'spec.workload.mode', setAt('spec.workload.mode', 'burst')),
  ib('an unknown engine', 'spec.server.engine', setAt('spec.server.engine', 'tgi')),
  ib('an unknown cleanup policy', 'spec.cleanupPolicy', setAt('spec.cleanupPolicy', 'Never')),
  sc('an unknown container runtime', 'spec.containerRuntime', setAt('spec.containerRuntime', 'docker')),
  // missing required fields
  ib('no clusterRef', 'spec.clusterRef', setAt('spec.clusterRef', undefined)),
  ib('no model name', 'spec.model.name', setAt('spec.model', { precision: 'fp16' })),
  ib('no spec at all', 'spec', setAt('spec', undefined)),
  sc('no host', 'spec.host', setAt('spec.host', undefined)),
  sc('no SSH secret', 'spec.sshSecretRef', setAt('spec.sshSecretRef', undefined)),
  // wrong types
  ib('clients as a string', 'spec.workload.clients', setAt('spec.workload.clients', '100')),
  ib('fractional clients', 'spec.workload.clients', setAt('spec.workload.clients', 2.5)),
  ib('monitoring.enabled as "no"', 'spec.monitoring.enabled', setAt('spec.monitoring.enabled', 'no')),
  ib('prompts as one string', 'spec.workload.prompts', setAt('spec.workload.prompts', 'hello')),
  ib('memory as "64G"', 'spec.slurm.memGB', setAt('spec.slurm.memGB', '64G')),
  sc('modules as one string', 'spec.modules', setAt('spec.modules', 'Apptainer')),
  // fields that depend on each other (CEL)
  ib('an open loop without a rate', 'spec.workload.ratePerSecond', setAt('spec.workload.mode', 'open')),
  ib('a rate on a closed loop', 'spec.workload.ratePerSecond', setAt('spec.workload.ratePerSecond', 4)),
  ib(
    'both prompt and prompts',
    'spec.workload.prompts',
    setAt('spec.workload', { prompt: 'a', prompts: ['b'] }),
  ),
  ib(
    'an env variable the operator owns',
    'spec.server.env',
    setAt('spec.server.env', [{ name: 'OLLAMA_HOST', value: '0.0.0.0' }]),
  ),
  // datasets (issue 16 item 5)
  ib(
    'a dataset beside a prompt',
    'spec.workload.dataset',
    setAt('spec.workload.dataset', { configMapRef: { name: 'prompts', key: 'data.jsonl' }, format: 'jsonl' }),
  ),
  ib('a dataset beside prompts', 'spec.workload.dataset', (m) => {
    setAt('spec.workload.prompt', undefined)(m);
    setAt('spec.workload.prompts', ['a', 'b'])(m);
    setAt('spec.workload.dataset', { configMapRef: { name: 'prompts', key: 'd.json' }, format: 'sharegpt' })(
      m,
    );
  }),
  ib('an unknown dataset format', 'spec.workload.dataset.format', (m) => {
    setAt('spec.workload.prompt', undefined)(m);
    setAt('spec.workload.dataset', { configMapRef: { name: 'prompts', key: 'd.csv' }, format: 'csv' })(m);
  }),
  ib('a dataset without its ConfigMap key', 'spec.workload.dataset.configMapRef.key', (m) => {
    setAt('spec.workload.prompt', undefined)(m);
    setAt('spec.workload.dataset', { configMapRef: { name: 'prompts' }, format: 'jsonl' })(m);
  }),
  ib('a dataset key with a slash', 'spec.workload.dataset.configMapRef.key', (m) => {
    setAt('spec.workload.prompt', undefined)(m);
    setAt('spec.workload.dataset', { configMapRef: { name: 'prompts', key: 'a/b.json' }, format: 'jsonl' })(
      m,
    );
  }),
  // sweeps, repeats and SLOs (issue 16): what the client service would refuse, refused at apply
  ib('a sweep with an open-loop workload', 'spec.workload.mode', (m) => {
    setAt('spec.workload.sweep', { levels: [{ clients: 1 }, { clients: 2 }] })(m);
    setAt('spec.workload.mode', 'open')(m);
    setAt('spec.workload.ratePerSecond', 4)(m);
  }),
  ib('a sweep with a workload rate', 'spec.workload.ratePerSecond', (m) => {
    setAt('spec.workload.sweep', { levels: [{ clients: 1 }] })(m);
    setAt('spec.workload.ratePerSecond', 4)(m);
  }),
  ib(
    'a level with both clients and a rate',
    'spec.workload.sweep.levels[0].clients',
    setAt('spec.workload.sweep', { levels: [{ clients: 2, ratePerSecond: 1 }] }),
  ),
  ib(
    'a level with neither clients nor a rate',
    'spec.workload.sweep.levels[1].clients',
    setAt('spec.workload.sweep', { levels: [{ clients: 2 }, { requestsPerClient: 3 }] }),
  ),
  ib(
    'requestsPerClient on a rate level',
    'spec.workload.sweep.levels[0].requestsPerClient',
    setAt('spec.workload.sweep', { levels: [{ ratePerSecond: 2, requestsPerClient: 3 }] }),
  ),
  ib(
    'clients levels mixed with rate levels',
    'spec.workload.sweep.levels',
    setAt('spec.workload.sweep', { levels: [{ clients: 1 }, { ratePerSecond: 2 }] }),
  ),
  ib(
    'both levels and a range',
    'spec.workload.sweep.levels',
    setAt('spec.workload.sweep', { levels: [{ clients: 1 }], range: { from: 1, to: 8, factor: 2 } }),
  ),
  ib(
    'a sweep with neither levels nor a range',
    'spec.workload.sweep.levels',
    setAt('spec.workload.sweep', { stopWhenSaturated: true }),
  ),
  ib(
    'a clients range from a fraction',
    'spec.workload.sweep.range.from',
    setAt('spec.workload.sweep', { range: { from: 1.5, to: 8, factor: 2 } }),
  ),
  ib(
    'a range that ends before it starts',
    'spec.workload.sweep.range.to',
    setAt('spec.workload.sweep', { range: { from: 8, to: 2, factor: 2 } }),
  ),
  ib(
    'more than 64 levels',
    'spec.workload.sweep.levels',
    setAt('spec.workload.sweep', { levels: Array.from({ length: 65 }, (_, i) => ({ clients: i + 1 })) }),
  ),
  ib('a level of more than a million requests with its repeats', 'spec.workload.sweep.levels', (m) => {
    setAt('spec.workload.sweep', { levels: [{ clients: 10, requestsPerClient: 10 }, { clients: 10_000 }] })(
      m,
    );
    setAt('spec.workload.repeat', 20)(m);
  }),
  ib('a range whose last level is more than a million requests', 'spec.workload.sweep.range.to', (m) => {
    setAt('spec.workload.sweep', { range: { from: 1, to: 8192, factor: 2 }, requestsPerClient: 100 })(m);
    setAt('spec.workload.repeat', 2)(m);
  }),
  ib('more than 20 repeats', 'spec.workload.repeat', setAt('spec.workload.repeat', 21)),
  ib('an SLO without a threshold', 'spec.slo.ttftMs', setAt('spec.slo', { percentile: 95 })),
  ib(
    'an SLO with both percentile and attainment',
    'spec.slo.attainment',
    setAt('spec.slo', { ttftMs: 500, percentile: 95, attainment: 0.9 }),
  ),
  ib('a zero threshold', 'spec.slo.e2eMs', setAt('spec.slo', { e2eMs: 0 })),
  ib('slo.level without a sweep', 'spec.slo.level', setAt('spec.slo', { ttftMs: 500, level: 8 })),
  ib('slo.level that is none of the levels', 'spec.slo.level', (m) => {
    setAt('spec.workload.sweep', { levels: [{ clients: 1 }, { clients: 2 }] })(m);
    setAt('spec.slo', { ttftMs: 500, level: 4 })(m);
  }),
  // engines: which model and server fields go with which engine (CEL on the spec)
  ib('an Ollama tag with engine vllm', 'spec.model.name', (m) => {
    setAt('spec.model', { name: 'llama2:7b' })(m);
    setAt('spec.server', { engine: 'vllm', image: 'docker://vllm/vllm-openai:v0.11.0' })(m);
  }),
  ib(
    'a model path with engine ollama',
    'spec.model.path',
    setAt('spec.model', { name: 'llama2', path: '/scratch/models/llama2' }),
  ),
  ib('a revision with engine ollama', 'spec.model.revision', setAt('spec.model.revision', 'main')),
  ib('flags with engine ollama', 'spec.server.args', setAt('spec.server.args', ['--foo'])),
  ib('protocol ollama with engine sglang', 'spec.server.protocol', (m) => {
    setAt('spec.model', { name: 'Qwen/Qwen2.5-0.5B-Instruct' })(m);
    setAt('spec.server', { engine: 'sglang', protocol: 'ollama' })(m);
  }),
  ib('llamacpp without a GGUF', 'spec.model', (m) => {
    setAt('spec.model', { name: 'ggml-org/gemma-3-270m-GGUF' })(m);
    setAt('spec.server', { engine: 'llamacpp' })(m);
  }),
  ib('a GGUF file with engine vllm', 'spec.model.file', (m) => {
    setAt('spec.model', { name: 'org/model', file: 'model.gguf' })(m);
    setAt('spec.server', { engine: 'vllm' })(m);
  }),
  ib('tensor parallelism beyond the GPUs', 'spec.server.tensorParallelSize', (m) => {
    setAt('spec.model', { name: 'org/model' })(m);
    setAt('spec.slurm.gpus', 2)(m);
    setAt('spec.server', { engine: 'vllm', tensorParallelSize: 4 })(m);
  }),
  ib('a relative cache folder', 'spec.server.cacheDir', setAt('spec.server.cacheDir', 'cache/hf')),
  ib('a model path with a command substitution', 'spec.model.path', (m) => {
    setAt('spec.model', { name: 'org/model', path: '/scratch/$(id)' })(m);
    setAt('spec.server', { engine: 'vllm' })(m);
  }),
  // unknown fields (kubectl validates strictly)
  ib('a misspelt field', 'spec.workload.client', setAt('spec.workload.client', 10)),
  // names that could reach a shell
  ...HOSTILE_FIELDS.flatMap((field) =>
    HOSTILE_VALUES.map(([what, value]) =>
      ib(`${field.split('.').at(-1)} with ${what}`, field, setAt(field, value)),
    ),
  ),
  ib(
    'an env name with a space',
    'spec.server.env[0].name',
    setAt('spec.server.env', [{ name: 'A B', value: '1' }]),
  ),
  sc('a host with a semicolon', 'spec.host', setAt('spec.host', 'login;reboot')),
  sc('a user that ssh would read as an option', 'spec.user', setAt('spec.user', '-oProxyCommand=sh')),
  sc('a work dir that climbs out of home', 'spec.workDir', setAt('spec.workDir', 'hpcbench/../../etc')),
  sc('a work dir with a space', 'spec.workDir', setAt('spec.workDir', 'my bench')),
  sc('a module with a command substitution', 'spec.modules[0]', setAt('spec.modules', ['$(reboot)'])),
  sc('a default account with a quote', 'spec.defaults.account', setAt('spec.defaults.account', "p2'00")),
  sc(
    'a monitoring partition with a backtick',
    'spec.monitoring.partition',
    setAt('spec.monitoring.partition', 'c`id`'),
  ),
];

function manifestFor(testCase: BadCase, index: number): Manifest {
  const name = `bad-${index}`;
  const manifest = testCase.kind === 'InferenceBenchmark' ? goodBenchmark(name) : goodCluster(name);
  testCase.mutate(manifest);
  return manifest;
}

function zodErrors(manifest: Manifest): FieldError[] {
  const result =
    manifest.kind === 'InferenceBenchmark' ? parseInferenceBenchmark(manifest) : parseSlurmCluster(manifest);
  return result.ok ? [] : result.errors;
}

describe('bad manifests', () => {
  let namespace = '';
  beforeAll(async () => {
    await installCrds();
    namespace = await freshNamespace('api-bad');
  });

  it('are at least 25, and the good manifests they start from are accepted', async () => {
    expect(CASES.length).toBeGreaterThanOrEqual(25);
    for (const good of [goodBenchmark('good-ib'), goodCluster('good-sc')]) {
      const result = await kubectlApply(good, namespace, ['--dry-run=server']);
      expect(result.stderr).toBe('');
      expect(zodErrors(good)).toEqual([]);
    }
  });

  it.each(CASES.map((c, i) => [c.title, c.field, i] as const))(
    'refuses %s, naming %s',
    async (_title, field, index) => {
      const testCase = CASES[index] as BadCase;
      const manifest = manifestFor(testCase, index);

      const result = await kubectlApply(manifest, namespace, ['--dry-run=server']);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain(field);

      const errors = zodErrors(manifest);
      expect(errors.map((e) => e.field)).toContain(field);
    },
  );
});
