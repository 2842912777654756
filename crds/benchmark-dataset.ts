import { z } from 'zod';
import { type DualRule, matching, ObjectName, Timestamp } from './common.js';

/**
 * Datasets and the run's environment of an InferenceBenchmark (issue 16, items 5 and 6).
 *
 * - `workload.dataset` names a ConfigMap key in the benchmark's namespace holding prompts, as JSON lines of
 *   `{prompt, maxTokens?}` or in the ShareGPT layout. The operator parses it (operator/controllers/
 *   inference-benchmark/dataset.ts), uploads the normalized prompts once per content and records what it
 *   read in `status.dataset`.
 * - `status.environment`: what ran where, so that two results compare knowing it.
 */

export const DATASET_FORMATS = ['jsonl', 'sharegpt'] as const;
export const DatasetFormat = z.enum(DATASET_FORMATS);
export type DatasetFormat = z.infer<typeof DatasetFormat>;

/** A ConfigMap data key: what `kubectl create configmap --from-file` accepts. */
export const CONFIGMAP_KEY_PATTERN = '^[-._a-zA-Z0-9]+$';

/** A dataset of more rows is refused (a ConfigMap holds at most 1 MiB anyway). */
export const MAX_DATASET_PROMPTS = 100_000;

export const WorkloadDataset = z
  .strictObject({
    configMapRef: z
      .strictObject({
        name: ObjectName.describe('Name of the ConfigMap, in the benchmark namespace.'),
        key: matching(
          z.string().min(1).max(253),
          CONFIGMAP_KEY_PATTERN,
          'must be a ConfigMap data key (letters, digits, "-", "_", ".")',
        ).describe('The key of the ConfigMap that holds the dataset (data or binaryData).'),
      })
      .describe(
        'The ConfigMap key that holds the dataset. A missing ConfigMap or key is waited for (GitOps may apply it later).',
      ),
    format: DatasetFormat.describe(
      'jsonl: one JSON object per line, {"prompt": "...", "maxTokens": 64} (maxTokens optional). sharegpt: a JSON array of {"conversations": [{"from": "human", "value": "..."}, {"from": "gpt", "value": "..."}]}; the first human turn is the prompt, and the reference (first gpt) answer bounds maxTokens at ceil(characters / 4), capped by workload.maxTokens.',
    ),
  })
  .describe(
    'Prompts from a ConfigMap, instead of prompt or prompts. Request i sends row i mod n. A malformed dataset ends the benchmark Failed with reason InvalidDataset naming the row, until the spec or the ConfigMap changes.',
  );
export type WorkloadDataset = z.infer<typeof WorkloadDataset>;

/** What the workload rules read of a spec: only whether each prompt source is set. */
interface PromptSources {
  prompt?: unknown;
  prompts?: unknown;
  dataset?: unknown;
}

/** `workload.dataset` is exclusive with `prompt` and `prompts`; named on the field, for kubectl and for zod. */
export const DATASET_WORKLOAD_RULES: DualRule<PromptSources>[] = [
  {
    rule: '!has(self.dataset) || (!has(self.prompt) && !has(self.prompts))',
    message: 'set either dataset or prompt/prompts, not both',
    fieldPath: '.dataset',
    reason: 'FieldValueForbidden',
    holds: (w) => w.dataset === undefined || (w.prompt === undefined && w.prompts === undefined),
  },
];

const sha256 = z
  .string()
  .length(64)
  .regex(/^[0-9a-f]{64}$/, { message: 'must be a sha256 in hex' })
  .describe('sha256 of the bytes, in hex.');

export const DatasetStatus = z
  .strictObject({
    configMap: ObjectName.describe('The ConfigMap read.'),
    key: z.string().max(253).describe('Its key.'),
    format: DatasetFormat.describe('How it was read.'),
    sha256: sha256.describe(
      'sha256 of the key as read. A refused dataset is read again when this changes (checked every 30 s).',
    ),
    rows: z.number().int().min(0).optional().describe('Prompts the dataset gave (after normalizing).'),
    path: z
      .string()
      .max(4096)
      .optional()
      .describe('The normalized prompts (JSON lines) on the cluster, content-addressed, read by the client.'),
  })
  .describe('The dataset of the current run, as the operator read it.');
export type DatasetStatus = z.infer<typeof DatasetStatus>;

const text = (max: number, description: string) => z.string().max(max).optional().describe(description);
const count = (description: string) => z.number().int().min(0).optional().describe(description);

export const HostEnvironment = z
  .strictObject({
    node: text(253, 'Node name (SLURMD_NODENAME).'),
    cpuModel: text(256, 'CPU model (lscpu, else /proc/cpuinfo).'),
    cpus: count('CPUs the node has online (nproc --all).'),
    jobCpus: count('CPUs SLURM gave the job on this node (SLURM_CPUS_ON_NODE).'),
    memoryMB: count("The node's memory in MB (/proc/meminfo MemTotal)."),
    gpuModel: text(256, 'GPU model (nvidia-smi), when the node has NVIDIA GPUs.'),
    gpuDriver: text(64, 'NVIDIA driver version.'),
    gpuCount: count('GPUs visible to the job (nvidia-smi).'),
    gpuMemoryMB: count('Memory of one GPU in MB.'),
  })
  .describe('The hardware of one node, as the job saw it.');
export type HostEnvironment = z.infer<typeof HostEnvironment>;

export const BenchmarkEnvironment = z
  .strictObject({
    engine: text(64, 'The inference server: ollama, vllm, sglang or llamacpp.'),
    engineVersion: text(
      128,
      "The engine's version: Ollama's /api/version, or what the OpenAI-compatible server tells (/version, /v1/models' owned_by).",
    ),
    model: text(512, 'The model served.'),
    modelDigest: text(
      128,
      "Ollama: the model's digest (/api/tags); Hugging Face engines: the revision asked for (model.revision, else main).",
    ),
    quantization: text(64, "Ollama's quantization level (/api/show details), else model.precision."),
    modelFormat: text(64, 'Ollama: the weights format (gguf).'),
    parameterSize: text(64, 'Ollama: the parameter size it reports (268.10M).'),
    serverNode: HostEnvironment.optional().describe(
      "The server job's node (the job writes server.environment.json beside its endpoint).",
    ),
    clientNode: text(253, "The client-service job's node."),
    slurmVersion: text(
      64,
      'Slurm version on the server node (sinfo --version), else the SlurmCluster status.',
    ),
    operatorVersion: text(64, "The operator's version."),
    clientServiceVersion: text(64, "The client service's version (its /health)."),
    bundleHash: text(64, 'sha256 (first 16 hex) of the client-service bundle the job ran.'),
    specHash: text(64, 'sha256 (first 16 hex) of the validated spec: equal hashes ran the same recipe.'),
    seed: z.number().int().optional().describe('workload.seed, when set.'),
    datasetHash: text(64, 'sha256 (first 16 hex) of the dataset read, with workload.dataset.'),
    collectedAt: Timestamp.optional().describe('When the operator read it.'),
  })
  .describe(
    "What ran where, read once when the server's endpoint appears and completed when the client answers; the client service writes it into the run's summary.json too.",
  );
export type BenchmarkEnvironment = z.infer<typeof BenchmarkEnvironment>;
