import { z } from 'zod';
import {
  API_VERSION,
  fieldPath,
  INFERENCE_BENCHMARK_KIND,
  type InferenceBenchmarkInput,
  MAX_BENCHMARK_NAME_LENGTH,
  parseInferenceBenchmark,
} from '../../crds/index.js';

/**
 * Turns a JSON recipe of the old orchestrator (orch.py, and the web wizard that wrote recipe.json) into an
 * InferenceBenchmark. Two shapes existed:
 *
 * - the "service" recipe orch.py ran: `job{name, infrastructure{partition, account, nodes, mem_gb, time,
 *   client_partition, client_time, client_mem_gb}, service{type, model, precision, n_clients,
 *   n_requests_per_client, prompt}}`; the client_* keys were read from infrastructure, and are accepted at the
 *   top level too;
 * - the earlier "scenario" recipe: `job{scenario, partition, account, service: "inference",
 *   resources{nodes, gpus, cpus_per_task, mem_gb}, workload{model, precision, numClients, max_tokens,
 *   temperature, …}}`.
 *
 * The output names only what the recipe said (plus clusterRef), so the apiserver's defaults fill the rest and
 * the YAML stays short and drift-free under GitOps. Fields with no equivalent become warnings, not silence.
 */

export interface ConvertOptions {
  /** SlurmCluster the benchmark runs on (the old recipes had no such notion: it was "the cluster you ssh to"). */
  clusterName: string;
  namespace?: string;
  /** The old `--no-monitoring` flag of orch.py. */
  noMonitoring?: boolean;
  /** Overrides the name derived from job.name / job.scenario. */
  name?: string;
}

export interface ConversionProblem {
  /** Where in the old recipe (`job.infrastructure.time`), or the new field when the value was computed. */
  field: string;
  message: string;
}

export type ConversionResult =
  | { ok: true; benchmark: InferenceBenchmarkInput; warnings: ConversionProblem[] }
  | { ok: false; errors: ConversionProblem[]; warnings: ConversionProblem[] };

/** Old recipes wrote numbers as JSON numbers or as strings ("64", "64G" for memory). */
const numberLike = z.union([z.number(), z.string().regex(/^\s*\d+(\.\d+)?\s*[GgMm]?[Bb]?\s*$/)]);
/** Old time limits were SLURM strings; a bare number meant minutes, as for sbatch. */
const timeLike = z.union([z.string(), z.number().int()]);

const ServiceRecipe = z.looseObject({
  job: z.looseObject({
    name: z.string().optional(),
    infrastructure: z
      .looseObject({
        partition: z.string().optional(),
        account: z.string().optional(),
        nodes: numberLike.optional(),
        mem_gb: numberLike.optional(),
        time: timeLike.optional(),
        client_partition: z.string().optional(),
        client_time: timeLike.optional(),
        client_mem_gb: numberLike.optional(),
      })
      .optional(),
    service: z.looseObject({
      type: z.string().optional(),
      model: z.string().optional(),
      precision: z.string().optional(),
      n_clients: numberLike.optional(),
      n_requests_per_client: numberLike.optional(),
      prompt: z.string().optional(),
    }),
  }),
  client_partition: z.string().optional(),
  client_time: timeLike.optional(),
  client_mem_gb: numberLike.optional(),
});
type ServiceRecipe = z.infer<typeof ServiceRecipe>;

const ScenarioRecipe = z.looseObject({
  job: z.looseObject({
    scenario: z.string().optional(),
    partition: z.string().optional(),
    account: z.string().optional(),
    service: z.string().optional(),
    numClients: numberLike.optional(),
    resources: z
      .looseObject({
        nodes: numberLike.optional(),
        gpus: numberLike.optional(),
        cpus_per_task: numberLike.optional(),
        mem_gb: numberLike.optional(),
      })
      .optional(),
    workload: z.looseObject({
      model: z.string().optional(),
      precision: z.string().optional(),
      numClients: numberLike.optional(),
      max_tokens: numberLike.optional(),
      temperature: numberLike.optional(),
      prompt: z.string().optional(),
    }),
    metadata: z.looseObject({ notes: z.string().optional() }).optional(),
  }),
});
type ScenarioRecipe = z.infer<typeof ScenarioRecipe>;

/** Keys of the scenario recipe that have no equivalent; reported so nobody believes they were honoured. */
const SCENARIO_UNSUPPORTED = ['prompt_len', 'batchSize', 'n_services', 'context_length', 'howMany'];

/** Model the old orchestrator used when a recipe named none. */
const LEGACY_DEFAULT_MODEL = 'llama2';

export const NOTES_ANNOTATION = 'hpcbench.io/notes';

function toNumber(value: string | number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'number') return value;
  return Number.parseFloat(value);
}

function toTime(value: string | number | undefined): string | undefined {
  if (value === undefined) return undefined;
  return typeof value === 'number' ? String(value) : value.trim();
}

/** `ollama_inference_job` → `ollama-inference-job`: a DNS-1123 label the apiserver accepts. */
export function toObjectName(text: string): string {
  const name = text
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .slice(0, MAX_BENCHMARK_NAME_LENGTH)
    .replace(/^-+|-+$/g, '');
  return name === '' ? 'converted-recipe' : name;
}

/** Drops undefined members so the YAML names only what the recipe set. */
function compact<T extends Record<string, unknown>>(record: T): Partial<T> | undefined {
  const entries = Object.entries(record).filter(([, value]) => value !== undefined);
  return entries.length === 0 ? undefined : (Object.fromEntries(entries) as Partial<T>);
}

interface Draft {
  name: string;
  annotations: Record<string, string>;
  spec: Record<string, unknown>;
  /** New spec path (`spec.slurm.time`) → old recipe field, for error messages. */
  origins: Map<string, string>;
  warnings: ConversionProblem[];
  errors: ConversionProblem[];
}

function fromServiceRecipe(recipe: ServiceRecipe, draft: Draft): void {
  const { job } = recipe;
  const infra = job.infrastructure ?? {};
  const service = job.service;
  if (job.name) draft.name = job.name;
  if (service.type !== undefined && service.type !== 'inference') {
    draft.errors.push({
      field: 'job.service.type',
      message: `only "inference" recipes can be converted (got "${service.type}")`,
    });
  }
  if (service.model === undefined) {
    draft.warnings.push({
      field: 'job.service.model',
      message: `not set; the old orchestrator used ${LEGACY_DEFAULT_MODEL}, and so does the conversion`,
    });
  }
  draft.spec.model = compact({ name: service.model ?? LEGACY_DEFAULT_MODEL, precision: service.precision });
  draft.spec.slurm = compact({
    partition: infra.partition,
    account: infra.account,
    nodes: toNumber(infra.nodes),
    memGB: toNumber(infra.mem_gb),
    time: toTime(infra.time),
  });
  draft.spec.workload = compact({
    clients: toNumber(service.n_clients),
    requestsPerClient: toNumber(service.n_requests_per_client),
    prompt: service.prompt,
  });
  const clientPlacement = {
    partition: infra.client_partition ?? recipe.client_partition,
    time: toTime(infra.client_time ?? recipe.client_time),
    memGB: toNumber(infra.client_mem_gb ?? recipe.client_mem_gb),
  };
  draft.spec.clientService = compact(clientPlacement);
  const clientOrigin = (key: string) => (infra[key] !== undefined ? `job.infrastructure.${key}` : key);
  for (const [path, origin] of [
    ['spec.model.name', 'job.service.model'],
    ['spec.model.precision', 'job.service.precision'],
    ['spec.slurm.partition', 'job.infrastructure.partition'],
    ['spec.slurm.account', 'job.infrastructure.account'],
    ['spec.slurm.nodes', 'job.infrastructure.nodes'],
    ['spec.slurm.memGB', 'job.infrastructure.mem_gb'],
    ['spec.slurm.time', 'job.infrastructure.time'],
    ['spec.workload.clients', 'job.service.n_clients'],
    ['spec.workload.requestsPerClient', 'job.service.n_requests_per_client'],
    ['spec.workload.prompt', 'job.service.prompt'],
    ['spec.clientService.partition', clientOrigin('client_partition')],
    ['spec.clientService.time', clientOrigin('client_time')],
    ['spec.clientService.memGB', clientOrigin('client_mem_gb')],
  ] as const) {
    draft.origins.set(path, origin);
  }
}

function fromScenarioRecipe(recipe: ScenarioRecipe, draft: Draft): void {
  const { job } = recipe;
  const resources = job.resources ?? {};
  const workload = job.workload;
  if (job.scenario) draft.name = job.scenario;
  if (job.service !== undefined && job.service !== 'inference') {
    draft.errors.push({
      field: 'job.service',
      message: `only "inference" recipes can be converted (got "${job.service}")`,
    });
  }
  if (workload.model === undefined) {
    draft.warnings.push({
      field: 'job.workload.model',
      message: `not set; the old orchestrator used ${LEGACY_DEFAULT_MODEL}, and so does the conversion`,
    });
  }
  draft.spec.model = compact({ name: workload.model ?? LEGACY_DEFAULT_MODEL, precision: workload.precision });
  const gpus = toNumber(resources.gpus);
  draft.spec.slurm = compact({
    partition: job.partition,
    account: job.account,
    nodes: toNumber(resources.nodes),
    memGB: toNumber(resources.mem_gb),
    gpus,
    cpusPerTask: toNumber(resources.cpus_per_task),
  });
  draft.spec.workload = compact({
    clients: toNumber(workload.numClients ?? job.numClients),
    maxTokens: toNumber(workload.max_tokens),
    temperature: toNumber(workload.temperature),
    prompt: workload.prompt,
  });
  draft.warnings.push({
    field: 'job.workload',
    message: 'scenario recipes had no requests per client; the default (10) applies',
  });
  for (const key of SCENARIO_UNSUPPORTED) {
    for (const [where, holder] of [
      ['job', job],
      ['job.workload', workload],
    ] as const) {
      if (key in holder) {
        draft.warnings.push({ field: `${where}.${key}`, message: 'has no equivalent and was dropped' });
      }
    }
  }
  if (job.metadata?.notes) draft.annotations[NOTES_ANNOTATION] = job.metadata.notes;
  for (const [path, origin] of [
    ['spec.model.name', 'job.workload.model'],
    ['spec.model.precision', 'job.workload.precision'],
    ['spec.slurm.partition', 'job.partition'],
    ['spec.slurm.account', 'job.account'],
    ['spec.slurm.nodes', 'job.resources.nodes'],
    ['spec.slurm.memGB', 'job.resources.mem_gb'],
    ['spec.slurm.gpus', 'job.resources.gpus'],
    ['spec.slurm.cpusPerTask', 'job.resources.cpus_per_task'],
    ['spec.workload.clients', 'job.workload.numClients'],
    ['spec.workload.maxTokens', 'job.workload.max_tokens'],
    ['spec.workload.temperature', 'job.workload.temperature'],
    ['spec.workload.prompt', 'job.workload.prompt'],
  ] as const) {
    draft.origins.set(path, origin);
  }
}

function describeField(draft: Draft, path: string): string {
  const origin = draft.origins.get(path);
  return origin ? `${origin} (${path})` : path;
}

/** Converts one parsed JSON recipe. Pure: no files, no clock. */
export function convertLegacyRecipe(recipe: unknown, options: ConvertOptions): ConversionResult {
  const draft: Draft = {
    name: 'converted-recipe',
    annotations: {},
    spec: { clusterRef: { name: options.clusterName } },
    origins: new Map(),
    warnings: [],
    errors: [],
  };

  const asService = ServiceRecipe.safeParse(recipe);
  const asScenario = ScenarioRecipe.safeParse(recipe);
  if (asService.success) {
    fromServiceRecipe(asService.data, draft);
  } else if (asScenario.success) {
    fromScenarioRecipe(asScenario.data, draft);
  } else {
    // Report against the current format: it is the one people still have.
    const errors = asService.error.issues.map((issue) => ({
      field: fieldPath(issue.path),
      message: issue.message,
    }));
    return { ok: false, errors, warnings: [] };
  }
  if (options.noMonitoring) draft.spec.monitoring = { enabled: false };

  const spec = Object.fromEntries(Object.entries(draft.spec).filter(([, value]) => value !== undefined));
  const benchmark: InferenceBenchmarkInput = {
    apiVersion: API_VERSION,
    kind: INFERENCE_BENCHMARK_KIND,
    metadata: {
      name: options.name ?? toObjectName(draft.name),
      ...(options.namespace ? { namespace: options.namespace } : {}),
      ...(Object.keys(draft.annotations).length > 0 ? { annotations: draft.annotations } : {}),
    },
    spec: spec as InferenceBenchmarkInput['spec'],
  };

  const checked = parseInferenceBenchmark(benchmark);
  if (!checked.ok) {
    for (const error of checked.errors) {
      draft.errors.push({ field: describeField(draft, error.field), message: error.message });
    }
  }
  if (draft.errors.length > 0) return { ok: false, errors: draft.errors, warnings: draft.warnings };
  return { ok: true, benchmark, warnings: draft.warnings };
}
