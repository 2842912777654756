import { z } from 'zod';
import { RuntimeSpec } from '../scripts/runtime.js';

/** The inference servers the operator can start (docs/architecture.md#engines). */
export const ENGINE_NAMES = ['ollama', 'vllm', 'sglang', 'llamacpp'] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];

/** How the client service talks to a server: Ollama's native NDJSON API, or the OpenAI-compatible one (SSE). */
export type ServerProtocol = 'ollama' | 'openai';

/** Shell variable names, as every job script's environment needs them. */
const EnvName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/);

/** Everything a server job needs to know, whatever the engine; each engine reads what concerns it. */
export const EngineJobInput = z.object({
  /** Where the job writes `host:port` once the server answers with its model loaded (absolute). */
  endpointFile: z.string().startsWith('/'),
  /** Where the job reports its model preparation: one JSON object, rewritten atomically. */
  modelStateFile: z.string().startsWith('/'),
  /** `<workDir>/monitoring/targets`, from the monitoring layout. */
  targetsDir: z.string().startsWith('/'),
  /** Weights cache shared by the jobs of the cluster (OLLAMA_MODELS, HF_HOME, LLAMA_CACHE). */
  cacheDir: z.string().startsWith('/'),
  /** The runtime; the engine supplies its default image when none is given. */
  runtime: RuntimeSpec.prefault({}),
  modules: z.array(z.string().min(1)).default([]),
  benchmark: z.string().min(1),
  model: z.object({
    /** Ollama: the tag. vLLM/SGLang: the Hugging Face repo id. llama.cpp: the served alias (and repo id). */
    name: z.string().min(1),
    /** Hugging Face revision (branch, tag or commit). */
    revision: z.string().min(1).optional(),
    /** Weights on the cluster: a folder (vLLM, SGLang) or a GGUF file (llama.cpp). */
    path: z.string().startsWith('/').optional(),
    /** llama.cpp: the GGUF file inside the Hugging Face repo. */
    file: z.string().min(1).optional(),
  }),
  /** Extra engine flags, each element ONE argument: quoted, never split or interpreted by a shell. */
  args: z.array(z.string()).default([]),
  env: z.record(EnvName, z.string()).default({}),
  /** GPUs per node of the job (0: CPU only). */
  gpus: z.number().int().min(0).default(0),
  /** vLLM and SGLang tensor parallelism; defaults to the GPUs when there are any. */
  tensorParallelSize: z.number().int().min(1).optional(),
  /** A file of mode 0600 that holds the Hugging Face token; read by the job, never put in argv. */
  hfTokenFile: z.string().startsWith('/').optional(),
  /** Requests served at once (Ollama OLLAMA_NUM_PARALLEL, llama.cpp --parallel). */
  numParallel: z.number().int().min(1).max(1024).default(1),
  /** Ollama only: OLLAMA_MAX_LOADED_MODELS. */
  maxLoadedModels: z.number().int().min(1).max(64).default(1),
  /** Ollama only: pull over plain HTTP. */
  insecureRegistry: z.boolean().default(false),
  /** Seconds the job waits for the server to answer before it gives up (loading big weights is slow). */
  readyTimeoutSeconds: z.number().int().min(1).optional(),
});
export type EngineJobInput = z.input<typeof EngineJobInput>;
export type ParsedEngineJobInput = z.output<typeof EngineJobInput>;

/** What the job's model state file says, for the server condition. */
export interface ModelPreparation {
  /** true: the job failed to prepare its model and ends; the message names the model and the error. */
  readonly failed: boolean;
  readonly message: string;
}

/**
 * One inference server (docs/architecture.md#engines). Adding one is a folder under slurm-bridge/engines/
 * and a line in registry.ts; the operator's server step reads nothing else of it.
 */
export interface ServerEngine {
  readonly name: EngineName;
  /** For people: "Ollama", "vLLM". */
  readonly title: string;
  /** Protocols the client service may speak to it; the first is the default. */
  readonly protocols: readonly ServerProtocol[];
  /** The image apptainer/singularity runs when the spec names none. */
  defaultImage(gpu: boolean): string;
  /** The weights cache below the cluster user's $HOME when the spec names none. */
  defaultCacheDir(home: string): string;
  /**
   * The whole batch script: picks its port, starts the server, prepares the model inside the job (state
   * in modelStateFile), waits for readiness, registers its metrics, and writes the endpoint file last.
   */
  jobScript(input: EngineJobInput): string;
  /** The model state file's text as a sentence; undefined when it says nothing yet. */
  describeModelState(model: string, text: string): ModelPreparation | undefined;
}
