import { z } from 'zod';
import {
  BenchmarkEnvironment,
  DATASET_WORKLOAD_RULES,
  DatasetStatus,
  WorkloadDataset,
} from './benchmark-dataset.js';
import { BenchmarkResults } from './benchmark-results.js';
import {
  MAX_REPEAT,
  MAX_SWEEP_STAGES,
  SaturationStatus,
  SLO_SPEC_RULES,
  SloSpec,
  StageStatus,
  SWEEP_WORKLOAD_RULES,
  Sweep,
} from './benchmark-sweep.js';
import {
  API_VERSION,
  Conditions,
  type DualRule,
  defaultedObject,
  ENV_NAME_PATTERN,
  HostPort,
  ImageReference,
  ModelName,
  matching,
  ObjectMeta,
  ObjectName,
  SlurmName,
  SlurmTime,
  Timestamp,
  withRules,
} from './common.js';
import { BENCHMARK_PHASES } from './conditions.js';

export const INFERENCE_BENCHMARK_KIND = 'InferenceBenchmark';
export const INFERENCE_BENCHMARK_PLURAL = 'inferencebenchmarks';
export const INFERENCE_BENCHMARK_SINGULAR = 'inferencebenchmark';
export const INFERENCE_BENCHMARK_SHORT_NAMES = ['ib', 'ibench'];

/** Prompt used when the spec sets neither workload.prompt nor workload.prompts. */
export const DEFAULT_PROMPT =
  'Explain in three short paragraphs how a transformer language model generates text.';

/** Product of clients and requests per client above which a run is refused as a typo. */
export const MAX_TOTAL_REQUESTS = 1_000_000;

/** Environment variables the operator sets on the server job itself; a user value would break it. */
export const RESERVED_SERVER_ENV = [
  'OLLAMA_HOST',
  'OLLAMA_MODELS',
  'HF_HOME',
  'HF_TOKEN',
  'LLAMA_CACHE',
] as const;

const integer = (min: number, max: number) => z.number().int().min(min).max(max);

export const ClusterReference = z
  .strictObject({
    name: ObjectName.describe('Name of the SlurmCluster in the same namespace.'),
  })
  .describe('The SlurmCluster (same namespace) whose SLURM runs this benchmark.');

/** Absolute paths on the cluster, passed quoted, but kept to characters that need no explaining. */
export const CLUSTER_PATH_PATTERN = '^/[A-Za-z0-9_./+@-]+$';

export const SecretKeyReference = z
  .strictObject({
    name: ObjectName.describe('Name of the Secret (same namespace as the benchmark).'),
    key: matching(z.string().min(1).max(253), '^[-._A-Za-z0-9]+$', 'must be a Secret data key')
      .default('token')
      .describe('Key in the Secret. Default: token.'),
  })
  .describe('A key of a Secret in the same namespace.');

export const ModelSpec = z
  .strictObject({
    name: ModelName.describe(
      "The model. Engine ollama: the tag to serve, for example gemma3:270m (the old recipe's service.model), pulled on the cluster when missing. vllm and sglang: the Hugging Face repository id, for example Qwen/Qwen2.5-0.5B-Instruct. llamacpp: the repository holding model.file. With model.path: the name the server serves the weights under. Requests name the model by this.",
    ),
    precision: matching(
      z.string().min(1).max(32),
      '^[A-Za-z0-9_.-]+$',
      'must contain only letters, digits, "_", "." and "-"',
    )
      .optional()
      .describe(
        "Precision or quantization label recorded with the results, for example fp16 or q4_K_M (the old recipe's service.precision). Informational: Ollama selects the weights through the model tag.",
      ),
    insecureRegistry: z
      .boolean()
      .default(false)
      .describe(
        "Pull over plain HTTP from a registry on the cluster's own network, like `ollama pull --insecure`.",
      ),
    revision: matching(
      z.string().min(1).max(128),
      '^[A-Za-z0-9_./-]+$',
      'must be a branch, tag or commit: letters, digits, "_", ".", "/", "-"',
    )
      .optional()
      .describe(
        'Hugging Face revision (branch, tag or commit) of model.name, for engines vllm and sglang. Unset: main.',
      ),
    path: matching(
      z.string().min(2).max(1024),
      CLUSTER_PATH_PATTERN,
      'must be an absolute path of letters, digits, "_", ".", "/", "+", "-", "@" (no spaces or shell characters)',
    )
      .optional()
      .describe(
        'Weights already on the cluster: a model folder (vllm, sglang) or a GGUF file (llamacpp). model.name is then only the name the server serves it under.',
      ),
    file: matching(
      z.string().min(1).max(256),
      '^[A-Za-z0-9_.+-][A-Za-z0-9_./+-]*[.]gguf$',
      'must be a .gguf file name inside the repository',
    )
      .optional()
      .describe(
        'llamacpp only: the GGUF file inside the Hugging Face repository model.name (llama-server --hf-file).',
      ),
    huggingFaceTokenSecretRef: SecretKeyReference.optional().describe(
      'A Secret in the benchmark namespace whose key holds a Hugging Face token, for gated models. The operator copies it to the cluster as a file of mode 0600 that the job reads into HF_TOKEN; it never appears in argv, the script or status.',
    ),
  })
  .describe(
    'The model under test: an Ollama tag (engine ollama), a Hugging Face repository id with an optional revision (vllm, sglang, llamacpp with file), or weights at a path on the cluster.',
  );

export const SlurmPlacement = z
  .strictObject({
    partition: SlurmName.optional().describe(
      "SLURM partition of the Ollama server job (the old recipe's infrastructure.partition). Default: the SlurmCluster's defaults.serverPartition.",
    ),
    account: SlurmName.optional().describe(
      "SLURM account charged for both jobs (infrastructure.account). Default: the SlurmCluster's defaults.account.",
    ),
    qos: SlurmName.optional().describe(
      "SLURM quality of service for both jobs. Default: the SlurmCluster's defaults.qos, or none.",
    ),
    nodes: integer(1, 64).default(1).describe('Nodes of the server job (infrastructure.nodes).'),
    memGB: integer(1, 4096)
      .default(16)
      .describe('Memory of the server job in GB, passed as --mem=<n>G (infrastructure.mem_gb).'),
    time: SlurmTime.default('01:00:00').describe(
      'Time limit of the server job (infrastructure.time): MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS. Quote it in YAML ("01:00:00").',
    ),
    gpus: integer(0, 16)
      .optional()
      .describe('GPUs per node for the server job, requested as --gres=gpu:<n>. Unset or 0 requests none.'),
    cpusPerTask: integer(1, 256)
      .optional()
      .describe("CPUs of the server job (--cpus-per-task). Default: SLURM's."),
  })
  .describe('Where and how large the Ollama server job is.');

export const WorkloadMode = z.enum(['closed', 'open']);

export const Workload = withRules(
  z
    .strictObject({
      clients: integer(1, 10_000)
        .default(1)
        .describe(
          "Simulated clients (the old recipe's service.n_clients). Closed loop: each client sends its requests one after another.",
        ),
      requestsPerClient: integer(1, 100_000)
        .default(10)
        .describe(
          'Measured requests per client (service.n_requests_per_client). The run sends clients x requestsPerClient requests in total.',
        ),
      prompt: z
        .string()
        .min(1)
        .max(65_536)
        .optional()
        .describe('The prompt every request sends (service.prompt). Exclusive with prompts and dataset.'),
      prompts: z
        .array(z.string().min(1).max(16_384))
        .min(1)
        .max(256)
        .optional()
        .describe(
          'Prompts used in turn (request i sends prompts[i mod n]). Exclusive with prompt and dataset. With none of the three, a built-in prompt is used.',
        ),
      dataset: WorkloadDataset.optional(),
      maxTokens: integer(1, 131_072)
        .default(256)
        .describe('Upper bound on output tokens per request (Ollama num_predict).'),
      temperature: z
        .number()
        .min(0)
        .max(2)
        .optional()
        .describe("Sampling temperature (0 to 2). Unset: the server's default."),
      seed: integer(0, 2_147_483_647)
        .optional()
        .describe('Sampling seed, for repeatable outputs together with temperature 0.'),
      warmupRequests: integer(0, 10_000)
        .default(0)
        .describe(
          'Requests sent before the measured window (in total, not per client); excluded from results.',
        ),
      requestTimeoutSeconds: integer(1, 86_400)
        .default(300)
        .describe('Per-request timeout; a request that takes longer counts as a timeout error.'),
      maxErrorRate: z
        .number()
        .min(0)
        .max(1)
        .default(0.05)
        .describe(
          'Largest share of failed measured requests (0 to 1) that still counts as Succeeded. Above it the benchmark ends Failed with reason TooManyErrors, its results kept in status. A run in which every measured request failed is Failed whatever this says.',
        ),
      mode: WorkloadMode.default('closed').describe(
        'closed: each client waits for its previous response before it sends the next request. open: requests arrive as a Poisson process at ratePerSecond, whether or not earlier ones finished.',
      ),
      ratePerSecond: z
        .number()
        .positive()
        .max(10_000)
        .optional()
        .describe('Open loop only (and required there): mean arrival rate in requests per second.'),
      maxConcurrency: integer(1, 100_000)
        .optional()
        .describe(
          'Open loop only: at most this many requests in flight; arrivals beyond it wait. Unset: no cap.',
        ),
      sweep: Sweep.optional().describe(
        'Several load levels in ONE run: one server job, one client job, one model load. Each level gets its own warmup and amounts and a summary in status.stages; without sweep the run is one level made of clients, mode and ratePerSecond. With sweep, leave mode, ratePerSecond and maxConcurrency out (levels carry them).',
      ),
      repeat: integer(1, MAX_REPEAT)
        .optional()
        .describe(
          'Run every level this many times back to back on the same server, and report per level the mean, its 95 % confidence interval (Student t) and the coefficient of variation (a CV above 5 % is a warning in the BenchmarkComplete message). Unset: 1.',
        ),
    })
    .describe('The load: how many requests, what they ask, and how they arrive.'),
  [
    {
      rule: '!(has(self.prompt) && has(self.prompts))',
      message: 'set either prompt or prompts, not both',
      fieldPath: '.prompts',
      reason: 'FieldValueForbidden',
      holds: (w) => !(w.prompt !== undefined && w.prompts !== undefined),
    },
    {
      rule: "self.mode != 'open' || has(self.ratePerSecond)",
      message: 'ratePerSecond is required when mode is open',
      fieldPath: '.ratePerSecond',
      reason: 'FieldValueRequired',
      holds: (w) => w.mode !== 'open' || w.ratePerSecond !== undefined,
    },
    {
      rule: "self.mode == 'open' || !has(self.ratePerSecond)",
      message: 'ratePerSecond is only allowed when mode is open',
      fieldPath: '.ratePerSecond',
      reason: 'FieldValueForbidden',
      holds: (w) => w.mode === 'open' || w.ratePerSecond === undefined,
    },
    {
      rule: "self.mode == 'open' || !has(self.maxConcurrency)",
      message: 'maxConcurrency is only allowed when mode is open (closed loop concurrency is clients)',
      fieldPath: '.maxConcurrency',
      reason: 'FieldValueForbidden',
      holds: (w) => w.mode === 'open' || w.maxConcurrency === undefined,
    },
    {
      rule: `self.clients * self.requestsPerClient <= ${MAX_TOTAL_REQUESTS}`,
      message: `clients x requestsPerClient must be at most ${MAX_TOTAL_REQUESTS}`,
      fieldPath: '.requestsPerClient',
      holds: (w) => w.clients * w.requestsPerClient <= MAX_TOTAL_REQUESTS,
    },
    ...SWEEP_WORKLOAD_RULES,
    ...DATASET_WORKLOAD_RULES,
  ],
);

export const EnvVar = z
  .strictObject({
    name: matching(
      z.string().min(1).max(128),
      ENV_NAME_PATTERN,
      'must be a shell variable name: letters, digits, "_", not starting with a digit',
    ).describe('Variable name.'),
    value: z.string().max(4096).describe('Value; passed to the job quoted, never interpreted by a shell.'),
  })
  .describe('An environment variable of the server process.');

export const ServerEnv = withRules(
  z
    .array(EnvVar)
    .max(64)
    .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] })
    .refine((list) => new Set(list.map((e) => e.name)).size === list.length, {
      message: 'env names must be unique',
    }),
  [
    {
      rule: `self.all(e, !(e.name in ${JSON.stringify(RESERVED_SERVER_ENV).replaceAll('"', "'")}))`,
      message: `${RESERVED_SERVER_ENV.join(' and ')} are set by the operator`,
      holds: (list) => list.every((e) => !(RESERVED_SERVER_ENV as readonly string[]).includes(e.name)),
    },
  ],
).describe(
  "Extra environment of the server, e.g. OLLAMA_FLASH_ATTENTION=1, OLLAMA_KV_CACHE_TYPE=q8_0 or VLLM_ATTENTION_BACKEND=FLASHINFER. OLLAMA_HOST, OLLAMA_MODELS, HF_HOME, HF_TOKEN and LLAMA_CACHE are the operator's.",
);

export const ServerEngineName = z.enum(['ollama', 'vllm', 'sglang', 'llamacpp']);
export type ServerEngineName = z.infer<typeof ServerEngineName>;
export const ServerProtocolName = z.enum(['ollama', 'openai']);
export type ServerProtocolName = z.infer<typeof ServerProtocolName>;

export const ServerSpec = z
  .strictObject({
    engine: ServerEngineName.default('ollama').describe(
      'Inference server: ollama, vllm (vllm serve), sglang (sglang.launch_server) or llamacpp (llama-server). Each job pulls or loads its model itself.',
    ),
    protocol: ServerProtocolName.optional().describe(
      "How the client service talks to the server: ollama (Ollama's native /api/generate, NDJSON) or openai (/v1/completions or /v1/chat/completions, server-sent events). Unset: ollama for engine ollama, openai for the others (which speak only openai).",
    ),
    openaiApi: z
      .enum(['completions', 'chat'])
      .optional()
      .describe(
        'With protocol openai: /v1/completions (a prompt) or /v1/chat/completions (messages). Unset: completions.',
      ),
    image: ImageReference.optional().describe(
      "Server image for the apptainer and singularity runtimes: docker://…, oras://…, registry/name:tag or an absolute .sif path. Ignored by the native runtime. Unset: the operator's pinned image of the engine (ollama/ollama, vllm/vllm-openai, lmsysorg/sglang, ggml-org/llama.cpp server).",
    ),
    args: z
      .array(z.string().max(4096))
      .max(64)
      .optional()
      .describe(
        'Extra command-line flags of the engine, appended after the operator\'s, e.g. ["--max-model-len", "8192"]. Each element is passed as ONE argument, quoted, never through a shell. Not for ollama (use env).',
      ),
    cacheDir: matching(
      z.string().min(2).max(1024),
      CLUSTER_PATH_PATTERN,
      'must be an absolute path of letters, digits, "_", ".", "/", "+", "-", "@" (no spaces or shell characters)',
    )
      .optional()
      .describe(
        "Folder on the cluster where the engine keeps downloaded weights, shared by every job of the user (OLLAMA_MODELS, HF_HOME or LLAMA_CACHE). Unset: the engine's default under the cluster user's $HOME (~/.ollama/models, ~/.cache/huggingface, ~/.cache/llama.cpp).",
      ),
    tensorParallelSize: integer(1, 16)
      .optional()
      .describe('vllm and sglang: tensor-parallel ranks on the node. Unset: slurm.gpus (one rank per GPU).'),
    numParallel: integer(1, 1024)
      .optional()
      .describe(
        'ollama: OLLAMA_NUM_PARALLEL; llamacpp: --parallel slots. Requests served at once. Unset: workload.clients (at most 1024), as the old system did.',
      ),
    maxLoadedModels: integer(1, 16).default(1).describe('ollama: OLLAMA_MAX_LOADED_MODELS.'),
    readyTimeoutSeconds: integer(30, 86_400)
      .optional()
      .describe(
        'How long the job waits for the server to answer with its model loaded before it fails. Unset: 300 s for ollama (after the pull), 3600 s for the others (their start-up includes the download).',
      ),
    env: ServerEnv.optional(),
  })
  .describe('The inference server job.');

export const ClientServicePlacement = z
  .strictObject({
    partition: SlurmName.optional().describe(
      "SLURM partition of the load-generating client-service job (the old recipe's client_partition). Default: the SlurmCluster's defaults.clientPartition.",
    ),
    memGB: integer(1, 1024).default(8).describe('Memory of the client-service job in GB (client_mem_gb).'),
    time: SlurmTime.default('00:30:00').describe(
      'Time limit of the client-service job (client_time), in SLURM time format such as "00:30:00" (quoted).',
    ),
    cpus: integer(1, 256).default(2).describe('CPUs of the client-service job (--cpus-per-task).'),
  })
  .describe('Where the client-service job that drives the load runs.');

export const BenchmarkMonitoring = z
  .strictObject({
    enabled: z
      .boolean()
      .default(true)
      .describe(
        "Use the cluster's shared Prometheus, Pushgateway and Grafana (false is the old --no-monitoring flag).",
      ),
  })
  .describe('Monitoring of this benchmark.');

export const CleanupPolicy = z.enum(['Delete', 'Keep']);

/** What the engine rules read of a spec. */
interface EngineRuleView {
  model: z.output<typeof ModelSpec>;
  server: z.output<typeof ServerSpec>;
  slurm: z.output<typeof SlurmPlacement>;
}

const HF_ENGINES: readonly ServerEngineName[] = ['vllm', 'sglang'];

/** Which model and server fields go with which engine, named by field, for kubectl apply and for zod. */
const ENGINE_RULES: DualRule<EngineRuleView>[] = [
  {
    rule: "self.server.engine == 'ollama' || !self.model.name.contains(':')",
    message:
      'looks like an Ollama tag (name:tag); engines vllm, sglang and llamacpp load a Hugging Face repository id (org/name) or model.path',
    fieldPath: '.model.name',
    holds: (s) => s.server.engine === 'ollama' || !s.model.name.includes(':'),
  },
  {
    rule: "self.server.engine != 'ollama' || !has(self.model.path)",
    message: 'engine ollama pulls model.name from a registry; model.path is for vllm, sglang and llamacpp',
    fieldPath: '.model.path',
    reason: 'FieldValueForbidden',
    holds: (s) => s.server.engine !== 'ollama' || s.model.path === undefined,
  },
  {
    rule: "!has(self.model.revision) || self.server.engine in ['vllm', 'sglang']",
    message: 'revision is for engines vllm and sglang (Hugging Face repositories)',
    fieldPath: '.model.revision',
    reason: 'FieldValueForbidden',
    holds: (s) => s.model.revision === undefined || HF_ENGINES.includes(s.server.engine),
  },
  {
    rule: "!has(self.model.file) || self.server.engine == 'llamacpp'",
    message: 'file (a GGUF in the repository) is for engine llamacpp',
    fieldPath: '.model.file',
    reason: 'FieldValueForbidden',
    holds: (s) => s.model.file === undefined || s.server.engine === 'llamacpp',
  },
  {
    rule: "self.server.engine != 'llamacpp' || has(self.model.path) || has(self.model.file)",
    message:
      'engine llamacpp needs a GGUF: model.path on the cluster, or model.file inside the repository model.name',
    fieldPath: '.model',
    reason: 'FieldValueRequired',
    holds: (s) => s.server.engine !== 'llamacpp' || s.model.path !== undefined || s.model.file !== undefined,
  },
  {
    rule: "self.server.engine != 'ollama' || !has(self.model.huggingFaceTokenSecretRef)",
    message: 'engine ollama does not read Hugging Face tokens',
    fieldPath: '.model.huggingFaceTokenSecretRef',
    reason: 'FieldValueForbidden',
    holds: (s) => s.server.engine !== 'ollama' || s.model.huggingFaceTokenSecretRef === undefined,
  },
  {
    rule: "!has(self.server.protocol) || self.server.protocol == 'openai' || self.server.engine == 'ollama'",
    message: 'protocol ollama needs engine ollama; vllm, sglang and llamacpp speak openai',
    fieldPath: '.server.protocol',
    holds: (s) => s.server.protocol !== 'ollama' || s.server.engine === 'ollama',
  },
  {
    rule: "!has(self.server.openaiApi) || self.server.engine != 'ollama' || (has(self.server.protocol) && self.server.protocol == 'openai')",
    message: 'openaiApi needs protocol openai',
    fieldPath: '.server.openaiApi',
    reason: 'FieldValueForbidden',
    holds: (s) =>
      s.server.openaiApi === undefined || s.server.engine !== 'ollama' || s.server.protocol === 'openai',
  },
  {
    rule: "!has(self.server.args) || self.server.engine != 'ollama'",
    message: 'engine ollama takes no flags; set its environment in server.env',
    fieldPath: '.server.args',
    reason: 'FieldValueForbidden',
    holds: (s) => s.server.args === undefined || s.server.engine !== 'ollama',
  },
  {
    rule: "!has(self.server.tensorParallelSize) || self.server.engine in ['vllm', 'sglang']",
    message: 'tensorParallelSize is for engines vllm and sglang',
    fieldPath: '.server.tensorParallelSize',
    reason: 'FieldValueForbidden',
    holds: (s) => s.server.tensorParallelSize === undefined || HF_ENGINES.includes(s.server.engine),
  },
  {
    rule: '!has(self.server.tensorParallelSize) || (has(self.slurm.gpus) && self.server.tensorParallelSize <= self.slurm.gpus)',
    message: 'tensorParallelSize must be at most slurm.gpus (one rank per GPU of the node)',
    fieldPath: '.server.tensorParallelSize',
    holds: (s) =>
      s.server.tensorParallelSize === undefined ||
      (s.slurm.gpus !== undefined && s.server.tensorParallelSize <= s.slurm.gpus),
  },
];

export const InferenceBenchmarkSpec = withRules(
  z.strictObject({
    clusterRef: ClusterReference,
    model: ModelSpec,
    slurm: defaultedObject(SlurmPlacement),
    workload: defaultedObject(Workload),
    server: defaultedObject(ServerSpec),
    clientService: defaultedObject(ClientServicePlacement),
    monitoring: defaultedObject(BenchmarkMonitoring),
    cleanupPolicy: CleanupPolicy.default('Delete').describe(
      'What happens to the server and client jobs after the run: Delete cancels them, Keep leaves them running (until their time limit) for inspection.',
    ),
    retainResults: z
      .boolean()
      .default(false)
      .describe(
        "Keep each run's results ConfigMap (status.resultsStore.configMap) when the benchmark is deleted. false: the ConfigMap is owned by the benchmark and garbage-collected with it.",
      ),
    slo: SloSpec.optional(),
  }),
  [...ENGINE_RULES, ...SLO_SPEC_RULES],
).describe('The benchmark recipe. A change starts a new run.');
export type InferenceBenchmarkSpec = z.infer<typeof InferenceBenchmarkSpec>;
/** The spec as a user writes it: defaulted fields may be left out. */
export type InferenceBenchmarkSpecInput = z.input<typeof InferenceBenchmarkSpec>;

// --- status ----------------------------------------------------------------------------------------------------

export const SlurmJobRole = z.enum(['server', 'client']);

export const BenchmarkSlurmJob = z
  .strictObject({
    role: SlurmJobRole.describe('server (Ollama) or client (client-service).'),
    id: z
      .string()
      .max(32)
      .regex(/^[0-9]+(_[0-9]+)?$/, { message: 'must be a SLURM job id' })
      .describe('SLURM job id.'),
    state: z.string().max(32).describe('SLURM job state, e.g. PENDING, RUNNING, COMPLETED, TIMEOUT.'),
    reason: z.string().max(1024).optional().describe("SLURM's reason, e.g. Resources while pending."),
    node: z.string().max(253).optional().describe('Node the job runs or ran on.'),
    submitTime: Timestamp.optional().describe('When the job was submitted.'),
    startTime: Timestamp.optional().describe('When the job started.'),
    endTime: Timestamp.optional().describe('When the job ended.'),
    exitCode: z
      .string()
      .max(16)
      .regex(/^[0-9]+:[0-9]+$/, { message: 'must be <code>:<signal>' })
      .optional()
      .describe('SLURM exit code as <code>:<signal>.'),
  })
  .describe('One SLURM job of the current run.');

export const BenchmarkEndpoints = z
  .strictObject({
    server: HostPort.optional().describe(
      'host:port of the inference server (any engine) on the cluster network.',
    ),
    ollama: HostPort.optional().describe(
      'host:port of the Ollama server on the cluster network (engine ollama; the same as server, kept for existing readers).',
    ),
    clientService: HostPort.optional().describe('host:port of the client-service on the cluster network.'),
    prometheus: HostPort.optional().describe("host:port of the cluster's Prometheus."),
    pushgateway: HostPort.optional().describe("host:port of the cluster's Pushgateway."),
    grafana: HostPort.optional().describe("host:port of the cluster's Grafana."),
  })
  .describe('Where the services of this run listen (reachable through the SSH login node).');

export const BenchmarkProgress = z
  .strictObject({
    completedRequests: z.number().int().min(0).describe('Measured requests finished (succeeded or failed).'),
    failedRequests: z.number().int().min(0).optional().describe('Measured requests that failed so far.'),
    totalRequests: z
      .number()
      .int()
      .min(0)
      .describe('Measured requests of the run: clients x requestsPerClient.'),
    display: z
      .string()
      .max(64)
      .optional()
      .describe(
        'completed/total for kubectl get; with a sweep or repeats, the stage too: stage 3/6, 120/400.',
      ),
  })
  .describe('Progress of the run.');

/** The text of the Progress column, e.g. `450/1000`. */
export function formatProgress(completedRequests: number, totalRequests: number): string {
  return `${completedRequests}/${totalRequests}`;
}

export const BenchmarkResultsStore = z
  .strictObject({
    configMap: ObjectName.describe(
      "The run's results ConfigMap in the benchmark's namespace (summary, per-request samples, environment, log tails; crds/results-configmap.ts). `kubectl hpcbench results|report|logs` read it.",
    ),
    recordsPath: z
      .string()
      .max(4096)
      .describe("Every per-request record of the run (JSON lines), on the cluster's login node."),
    complete: z
      .boolean()
      .describe(
        'The run has ended and the ConfigMap holds its final content; false while only its log tails are in.',
      ),
    storedAt: Timestamp.optional().describe('When the final content was written.'),
  })
  .describe('Where the artifacts of the current run are kept outside its jobs.');

export const BenchmarkDisplay = z
  .strictObject({
    outputTokensPerSecond: z
      .string()
      .max(32)
      .optional()
      .describe('results.outputTokensPerSecond with one decimal.'),
    ttftP50Ms: z.string().max(32).optional().describe('results.ttftMs.p50 in whole milliseconds.'),
    saturation: z
      .string()
      .max(32)
      .optional()
      .describe(
        'With spec.slo: the largest load that meets it (slo 8, or slo none); otherwise, with a sweep, its knee (knee 4, or none). Rates end in /s.',
      ),
  })
  .describe(
    'Results as kubectl get prints them: a printer column cannot round a number (type integer truncates, number prints every digit).',
  );
export type BenchmarkDisplay = z.infer<typeof BenchmarkDisplay>;
export type BenchmarkResultsStore = z.infer<typeof BenchmarkResultsStore>;

export const InferenceBenchmarkStatus = z
  .strictObject({
    observedGeneration: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe('metadata.generation the status describes.'),
    phase: z
      .enum(BENCHMARK_PHASES)
      .optional()
      .describe('Pending, Queued, Provisioning, Running, Succeeded or Failed. The Ready condition says why.'),
    runId: z.string().max(128).optional().describe("Id of the current run: the object's uid and generation."),
    admission: z
      .object({
        runId: z.string().max(128).describe('The run that holds the place.'),
        admittedAt: Timestamp.describe('When the place was given.'),
      })
      .optional()
      .describe(
        "The run's place under its SlurmCluster's maxActiveBenchmarks, written before its first sbatch and cleared when the run ends. Absent while the benchmark waits its turn (phase Queued, reason WaitingForCapacity).",
      ),
    conditions: Conditions.optional(),
    slurmJobs: z
      .array(BenchmarkSlurmJob)
      .max(8)
      .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['role'] })
      .refine((list) => new Set(list.map((j) => j.role)).size === list.length, {
        message: 'one job per role',
      })
      .optional()
      .describe('The SLURM jobs of the current run, one per role.'),
    endpoints: BenchmarkEndpoints.optional(),
    progress: BenchmarkProgress.optional(),
    results: BenchmarkResults.optional(),
    resultsStore: BenchmarkResultsStore.optional(),
    display: BenchmarkDisplay.optional(),
    stages: z
      .array(StageStatus)
      .max(MAX_SWEEP_STAGES)
      .optional()
      .describe(
        'One compact summary per load level of workload.sweep (one entry without sweep), in run order; done levels appear while the sweep goes.',
      ),
    saturation: SaturationStatus.optional(),
    dataset: DatasetStatus.optional(),
    environment: BenchmarkEnvironment.optional(),
    startTime: Timestamp.optional().describe('When the current run started sending requests.'),
    completionTime: Timestamp.optional().describe('When the current run finished (succeeded or failed).'),
  })
  .describe('What the operator observed; written only through the status subresource.');
export type InferenceBenchmarkStatus = z.infer<typeof InferenceBenchmarkStatus>;

/** metadata.name ends up in SLURM job names, file names and Prometheus labels: keep it a label value. */
export const MAX_BENCHMARK_NAME_LENGTH = 63;

export const InferenceBenchmark = z.object({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal(INFERENCE_BENCHMARK_KIND),
  metadata: ObjectMeta.refine((m) => m.name === undefined || m.name.length <= MAX_BENCHMARK_NAME_LENGTH, {
    message: `name must be at most ${MAX_BENCHMARK_NAME_LENGTH} characters`,
    path: ['name'],
  }),
  spec: InferenceBenchmarkSpec,
  status: InferenceBenchmarkStatus.optional(),
});
export type InferenceBenchmark = z.infer<typeof InferenceBenchmark>;
export type InferenceBenchmarkInput = z.input<typeof InferenceBenchmark>;
