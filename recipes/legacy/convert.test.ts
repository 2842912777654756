import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseInferenceBenchmark } from '../../crds/index.js';
import { type ConversionResult, convertLegacyRecipe, NOTES_ANNOTATION, toObjectName } from './convert.js';
import { renderBenchmarkYaml } from './render.js';

const here = dirname(fileURLToPath(import.meta.url));
const options = { clusterName: 'my-cluster' };

/** The recipe orch.py ran (backend/recipe_ex/inference_recipe.json of the old system). */
const serviceRecipe = JSON.parse(readFileSync(join(here, 'inference_recipe.json'), 'utf8')) as unknown;

/** The earlier "scenario" recipe the wizard wrote. */
const scenarioRecipe = {
  job: {
    scenario: 'benchmark_run_v1',
    partition: 'gpu',
    account: 'p301245',
    service: 'inference',
    n_services: 2,
    numClients: 32,
    resources: { nodes: 2, gpus: 2, cpus_per_task: 16, mem_gb: 64 },
    workload: {
      model: 'deepseek-6.7b',
      precision: 'fp16',
      context_length: 4096,
      batchSize: 8,
      numClients: 32,
      prompt_len: [256, 1024],
      max_tokens: 512,
      temperature: 0.7,
    },
    metadata: { notes: 'benchmark generico HPC' },
  },
};

function converted(result: ConversionResult) {
  if (!result.ok) throw new Error(`conversion failed: ${JSON.stringify(result.errors)}`);
  return result;
}

describe('converting the recipe orch.py ran', () => {
  it('maps every field and names only what the recipe set', () => {
    const { benchmark, warnings } = converted(convertLegacyRecipe(serviceRecipe, options));
    expect(warnings).toEqual([]);
    expect(benchmark).toEqual({
      apiVersion: 'hpcbench.io/v1alpha1',
      kind: 'InferenceBenchmark',
      metadata: { name: 'ollama-inference-job' },
      spec: {
        clusterRef: { name: 'my-cluster' },
        model: { name: 'llama2', precision: 'fp16' },
        slurm: { partition: 'cpu', account: 'my-project', nodes: 1, memGB: 64, time: '01:00:00' },
        workload: { clients: 100, requestsPerClient: 10 },
      },
    });
  });

  it('produces exactly the committed example recipes/benchmark-llama2-100-clients.yaml', () => {
    const { benchmark, warnings } = converted(
      convertLegacyRecipe(serviceRecipe, { ...options, name: 'llama2-100c' }),
    );
    const committed = readFileSync(join(here, '..', 'benchmark-llama2-100-clients.yaml'), 'utf8');
    expect(renderBenchmarkYaml(benchmark, warnings, 'inference_recipe.json')).toBe(committed);
  });

  it('turns --no-monitoring into monitoring.enabled: false', () => {
    const { benchmark } = converted(convertLegacyRecipe(serviceRecipe, { ...options, noMonitoring: true }));
    expect(benchmark.spec.monitoring).toEqual({ enabled: false });
  });

  it('reads the client placement from infrastructure, where orch.py read it, or from the top level', () => {
    const inInfra = {
      job: {
        name: 'x',
        infrastructure: { client_partition: 'cpu', client_time: '00:45:00', client_mem_gb: 16 },
        service: { model: 'llama2', prompt: 'Why is the sky blue?' },
      },
    };
    const atTop = {
      job: { name: 'x', service: { model: 'llama2' } },
      client_partition: 'cpu',
      client_time: 45,
      client_mem_gb: '16',
    };
    expect(converted(convertLegacyRecipe(inInfra, options)).benchmark.spec.clientService).toEqual({
      partition: 'cpu',
      time: '00:45:00',
      memGB: 16,
    });
    expect(converted(convertLegacyRecipe(inInfra, options)).benchmark.spec.workload?.prompt).toBe(
      'Why is the sky blue?',
    );
    expect(converted(convertLegacyRecipe(atTop, options)).benchmark.spec.clientService).toEqual({
      partition: 'cpu',
      time: '45',
      memGB: 16,
    });
  });

  it('accepts numbers written as strings, and memory with a unit', () => {
    const recipe = {
      job: {
        name: 'x',
        infrastructure: { nodes: '2', mem_gb: '64G' },
        service: { model: 'llama2', n_clients: '8' },
      },
    };
    const { benchmark } = converted(convertLegacyRecipe(recipe, options));
    expect(benchmark.spec.slurm).toEqual({ nodes: 2, memGB: 64 });
    expect(benchmark.spec.workload).toEqual({ clients: 8 });
  });

  it('falls back to llama2 like the old orchestrator when no model is named, with a warning', () => {
    const result = converted(convertLegacyRecipe({ job: { service: { n_clients: 2 } } }, options));
    expect(result.benchmark.spec.model).toEqual({ name: 'llama2' });
    expect(result.warnings.map((w) => w.field)).toEqual(['job.service.model']);
  });
});

describe('converting the earlier scenario recipe', () => {
  it('maps resources and workload, keeps the notes, and warns about fields with no equivalent', () => {
    const result = converted(convertLegacyRecipe(scenarioRecipe, options));
    expect(result.benchmark.metadata).toEqual({
      name: 'benchmark-run-v1',
      annotations: { [NOTES_ANNOTATION]: 'benchmark generico HPC' },
    });
    expect(result.benchmark.spec).toEqual({
      clusterRef: { name: 'my-cluster' },
      model: { name: 'deepseek-6.7b', precision: 'fp16' },
      slurm: { partition: 'gpu', account: 'p301245', nodes: 2, memGB: 64, gpus: 2, cpusPerTask: 16 },
      workload: { clients: 32, maxTokens: 512, temperature: 0.7 },
    });
    expect(result.warnings.map((w) => w.field)).toEqual(
      expect.arrayContaining(['job.n_services', 'job.workload.prompt_len', 'job.workload.batchSize']),
    );
    expect(parseInferenceBenchmark(result.benchmark).ok).toBe(true);
  });
});

describe('recipes that cannot be converted', () => {
  it.each([
    [
      'a bad time, named by its old field',
      { job: { infrastructure: { time: '1 hour' }, service: { model: 'llama2' } } },
      'job.infrastructure.time (spec.slurm.time)',
    ],
    [
      'zero clients',
      { job: { service: { model: 'llama2', n_clients: 0 } } },
      'job.service.n_clients (spec.workload.clients)',
    ],
    [
      'a partition with shell characters',
      { job: { infrastructure: { partition: 'gpu;rm -rf ~' }, service: { model: 'llama2' } } },
      'job.infrastructure.partition (spec.slurm.partition)',
    ],
    ['a retrieval recipe', { job: { service: { type: 'retrieval', model: 'bge' } } }, 'job.service.type'],
    ['something that is no recipe', { hello: 'world' }, 'job'],
    ['a number where the model name belongs', { job: { service: { model: 7 } } }, 'job.service.model'],
  ])('reports %s', (_why, recipe, field) => {
    const result = convertLegacyRecipe(recipe, options);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.map((e) => e.field)).toContain(field);
  });
});

describe('object names', () => {
  it.each([
    ['ollama_inference_job', 'ollama-inference-job'],
    ['Benchmark Run #1', 'benchmark-run-1'],
    ['__', 'converted-recipe'],
    ['x'.repeat(80), 'x'.repeat(63)],
  ])('%s becomes %s', (text, name) => {
    expect(toObjectName(text)).toBe(name);
  });
});
