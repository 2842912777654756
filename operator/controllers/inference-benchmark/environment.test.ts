import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BenchmarkEnvironment, InferenceBenchmarkSpec } from '../../../crds/index.js';
import {
  buildEnvironment,
  OPERATOR_VERSION,
  ollamaModelFacts,
  parseNodeEnvironment,
  specHash,
} from './environment.js';

const spec = InferenceBenchmarkSpec.parse({
  clusterRef: { name: 'my-cluster' },
  model: { name: 'gemma3:270m' },
  workload: { seed: 7 },
});

/** What the job script wrote on the sandbox (slurm-bridge/scripts/environment.ts), and on a GPU node. */
const CPU_NODE =
  '{"node":"localhost","cpuModel":"AMD EPYC","cpus":2,"jobCpus":1,"memoryMB":24105,"slurmVersion":"22.05.8"}';
const GPU_NODE =
  '{"node":"gpu01","cpuModel":"Intel(R) Xeon(R) Platinum 8480+","cpus":112,"jobCpus":16,"memoryMB":1031689,"slurmVersion":"23.11.4","gpuModel":"NVIDIA H100 80GB HBM3","gpuDriver":"550.54.15","gpuMemoryMB":81559,"gpuCount":4}';

describe("the server job's server.environment.json", () => {
  it('reads a CPU node as the job wrote it', () => {
    expect(parseNodeEnvironment(CPU_NODE)).toEqual({
      node: 'localhost',
      cpuModel: 'AMD EPYC',
      cpus: 2,
      jobCpus: 1,
      memoryMB: 24105,
      slurmVersion: '22.05.8',
    });
  });

  it('reads the GPUs nvidia-smi saw', () => {
    expect(parseNodeEnvironment(GPU_NODE)).toMatchObject({
      gpuModel: 'NVIDIA H100 80GB HBM3',
      gpuDriver: '550.54.15',
      gpuCount: 4,
      gpuMemoryMB: 81559,
    });
  });

  it('drops what a missing tool left empty or 0, and only the field that is odd', () => {
    expect(
      parseNodeEnvironment('{"node":"n1","cpuModel":"","cpus":0,"jobCpus":-3,"memoryMB":"lots","x":1}'),
    ).toEqual({
      node: 'n1',
    });
  });

  it('reads nothing from a file that is not a JSON object or is larger than its bound', () => {
    expect(parseNodeEnvironment('{"node":')).toBeUndefined();
    expect(parseNodeEnvironment('[1]')).toBeUndefined();
    expect(parseNodeEnvironment(JSON.stringify({ node: 'n', pad: 'x'.repeat(5000) }))).toBeUndefined();
  });
});

describe("Ollama's /api/tags", () => {
  const tags = {
    models: [
      { name: 'other:1b', digest: 'aaa', details: {} },
      {
        name: 'gemma3:270m',
        digest: '0f96df7469a033dbf8cef4c1b7e5214a121b6f7bf2af50ec6a83897f3d98f9fe',
        details: { format: 'gguf', parameter_size: '268.10M', quantization_level: 'Q4_K_M' },
      },
    ],
  };

  it("gives the model's digest and details", () => {
    expect(ollamaModelFacts(tags, 'gemma3:270m')).toEqual({
      modelDigest: '0f96df7469a033dbf8cef4c1b7e5214a121b6f7bf2af50ec6a83897f3d98f9fe',
      quantization: 'Q4_K_M',
      modelFormat: 'gguf',
      parameterSize: '268.10M',
    });
  });

  it('spells out the implicit :latest and gives nothing for a model it does not list', () => {
    expect(ollamaModelFacts({ models: [{ name: 'llama3:latest', digest: 'd' }] }, 'llama3')).toEqual({
      modelDigest: 'd',
    });
    expect(ollamaModelFacts(tags, 'missing:1b')).toEqual({});
    expect(ollamaModelFacts('not json', 'gemma3:270m')).toEqual({});
  });
});

describe('status.environment', () => {
  it('puts the node, the engine and what the operator knows together, valid against the CRD', () => {
    const environment = buildEnvironment({
      spec,
      node: parseNodeEnvironment(CPU_NODE),
      engine: { version: '0.24.0', modelDigest: 'sha256:0f96', quantization: 'Q4_K_M' },
      clusterSlurmVersion: '21.08',
      datasetSha256: 'ab'.repeat(32),
      now: Date.UTC(2026, 0, 2, 3, 4, 5),
    });
    expect(environment).toEqual({
      engine: 'ollama',
      engineVersion: '0.24.0',
      model: 'gemma3:270m',
      modelDigest: 'sha256:0f96',
      quantization: 'Q4_K_M',
      serverNode: { node: 'localhost', cpuModel: 'AMD EPYC', cpus: 2, jobCpus: 1, memoryMB: 24105 },
      // The node's own Slurm wins over the SlurmCluster's status.
      slurmVersion: '22.05.8',
      operatorVersion: OPERATOR_VERSION,
      specHash: specHash(spec),
      seed: 7,
      datasetHash: 'abababababababab',
      collectedAt: '2026-01-02T03:04:05Z',
    });
    expect(BenchmarkEnvironment.safeParse(environment).success).toBe(true);
  });

  it("names a Hugging Face engine's revision as its digest, and falls back to model.precision", () => {
    const vllm = InferenceBenchmarkSpec.parse({
      clusterRef: { name: 'my-cluster' },
      model: { name: 'Qwen/Qwen2.5-0.5B-Instruct', precision: 'bf16' },
      server: { engine: 'vllm' },
    });
    const environment = buildEnvironment({
      spec: vllm,
      node: undefined,
      engine: {},
      clusterSlurmVersion: '23.02.1',
      datasetSha256: undefined,
      now: 0,
    });
    expect(environment).toMatchObject({ modelDigest: 'main', quantization: 'bf16', slurmVersion: '23.02.1' });
    expect(environment.serverNode).toBeUndefined();
  });

  it('gives the version package.json gives', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'));
    expect(OPERATOR_VERSION).toBe(pkg.version);
  });
});
