import { z } from 'zod';

/**
 * The HTTP API of the client service, as zod schemas. The operator imports this file to build requests
 * and to validate answers, so it must stay free of fastify and node imports.
 */

/** Run ids become a Pushgateway grouping value and a folder name: no `/`, no dots at the start. */
export const RunId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, 'letters, digits, `_`, `.`, `-`; at most 128; no leading dot');

export const OllamaApi = z.enum(['generate', 'chat']);
export type OllamaApi = z.infer<typeof OllamaApi>;

/** How the engine talks to the server: Ollama's NDJSON or the OpenAI-compatible API with server-sent events. */
export const ClientProtocol = z.enum(['ollama', 'openai']);
export type ClientProtocol = z.infer<typeof ClientProtocol>;

/** OpenAI-compatible endpoints: /v1/completions (a prompt) or /v1/chat/completions (messages). */
export const OpenAiApi = z.enum(['completions', 'chat']);
export type OpenAiApi = z.infer<typeof OpenAiApi>;

/** Which server API a request goes to; `api` is Ollama's endpoint, `openaiApi` the OpenAI one. */
const ProtocolFields = {
  protocol: ClientProtocol.default('ollama'),
  api: OllamaApi.default('generate'),
  openaiApi: OpenAiApi.default('completions'),
};

/** Refuses a field that the chosen protocol would silently ignore. */
function checkProtocol(
  value: { protocol: ClientProtocol; api: OllamaApi; openaiApi: OpenAiApi },
  ctx: z.RefinementCtx,
): void {
  if (value.protocol === 'openai' && value.api !== 'generate') {
    ctx.addIssue({
      code: 'custom',
      path: ['api'],
      message: 'api chooses an Ollama endpoint; with protocol openai use openaiApi (completions or chat)',
    });
  }
  if (value.protocol === 'ollama' && value.openaiApi !== 'completions') {
    ctx.addIssue({
      code: 'custom',
      path: ['openaiApi'],
      message: 'openaiApi needs protocol openai; Ollama endpoints are chosen with api (generate or chat)',
    });
  }
}

/**
 * How each request generates; shared by /query and every request of a run. Request bodies are strict
 * objects, as the CRD is: a misspelled field is a 400 that names it, never a silent default.
 */
export const GenerationOptions = z.strictObject({
  maxTokens: z.number().int().positive().max(1_000_000).optional(),
  temperature: z.number().min(0).max(100).optional(),
  seed: z.number().int().optional(),
  requestTimeoutSeconds: z.number().positive().max(86_400).default(300),
});

export const QueryRequest = GenerationOptions.extend({
  model: z.string().min(1).optional(),
  ...ProtocolFields,
  prompt: z.string().min(1),
}).superRefine(checkProtocol);
export type QueryRequest = z.infer<typeof QueryRequest>;

export const Workload = GenerationOptions.extend({
  clients: z.number().int().positive().max(100_000),
  requestsPerClient: z.number().int().positive().max(1_000_000),
  prompt: z.string().min(1).optional(),
  prompts: z.array(z.string().min(1)).min(1).optional(),
  warmupRequests: z.number().int().min(0).max(100_000).default(0),
  mode: z.enum(['closed', 'open']).default('closed'),
  /** Open loop: mean arrival rate of the Poisson process, requests per second. */
  ratePerSecond: z.number().positive().max(1_000_000).optional(),
  /** Open loop: at most this many requests in flight (arrivals wait, and their lag is reported). */
  maxConcurrency: z.number().int().positive().max(100_000).optional(),
  /** Open loop: stop arrivals after this long instead of after clients × requestsPerClient requests. */
  durationSeconds: z
    .number()
    .positive()
    .max(7 * 86_400)
    .optional(),
}).superRefine((w, ctx) => {
  if (w.prompt === undefined && w.prompts === undefined) {
    ctx.addIssue({ code: 'custom', path: ['prompt'], message: 'give prompt or prompts' });
  }
  if (w.mode === 'open' && w.ratePerSecond === undefined) {
    ctx.addIssue({ code: 'custom', path: ['ratePerSecond'], message: 'open mode needs ratePerSecond' });
  }
});
export type Workload = z.infer<typeof Workload>;

export const StartRunRequest = z
  .strictObject({
    id: RunId,
    model: z.string().min(1).optional(),
    ...ProtocolFields,
    /** Benchmark name for metric labels; defaults to the service's --benchmark. */
    benchmark: z.string().min(1).max(253).optional(),
    workload: Workload,
  })
  .superRefine(checkProtocol);
export type StartRunRequest = z.infer<typeof StartRunRequest>;
export type StartRunInput = z.input<typeof StartRunRequest>;

/** The old Flask app's synchronous /benchmark body, kept so old callers keep working. */
export const LegacyBenchmarkRequest = z.object({
  prompt: z.string().min(1),
  n_clients: z.number().int().positive().max(10_000).default(1),
  n_requests_per_client: z.number().int().positive().max(100_000).default(1),
  model: z.string().min(1).optional(),
  max_tokens: z.number().int().positive().optional(),
  timeout: z.number().positive().max(86_400).default(120),
});
export type LegacyBenchmarkRequest = z.infer<typeof LegacyBenchmarkRequest>;

export const ErrorKind = z.enum(['timeout', 'http_status', 'stream_error', 'connection', 'cancelled']);
export type ErrorKind = z.infer<typeof ErrorKind>;

/** One request, as measured. Times in ms on the monotonic clock, relative to the run's start. */
export const RequestRecord = z.object({
  runId: z.string(),
  index: z.number().int(),
  clientId: z.number().int(),
  warmup: z.boolean(),
  /** Wall clock, for humans only; every duration below comes from the monotonic clock. */
  startedAt: z.string(),
  scheduledStartMs: z.number(),
  actualStartMs: z.number(),
  startLagMs: z.number(),
  ok: z.boolean(),
  errorKind: ErrorKind.nullable(),
  errorMessage: z.string().nullable(),
  httpStatus: z.number().int().nullable(),
  ttftMs: z.number().nullable(),
  e2eMs: z.number().nullable(),
  tpotMs: z.number().nullable(),
  itlMeanMs: z.number().nullable(),
  itlMaxMs: z.number().nullable(),
  contentChunks: z.number().int(),
  outputTokens: z.number().int().nullable(),
  /**
   * `server` when the server reported the count (Ollama's eval_count, OpenAI's usage.completion_tokens),
   * `chunks` when we had to count content chunks.
   */
  outputTokensSource: z.enum(['server', 'chunks']).nullable(),
  /** Ollama's eval_count, or OpenAI's usage.completion_tokens. */
  evalCount: z.number().int().nullable(),
  evalDurationNs: z.number().nullable(),
  /** Ollama's prompt_eval_count, or OpenAI's usage.prompt_tokens. */
  promptEvalCount: z.number().int().nullable(),
  promptEvalDurationNs: z.number().nullable(),
  loadDurationNs: z.number().nullable(),
  totalDurationNs: z.number().nullable(),
  /** Ollama's done_reason, or OpenAI's finish_reason. */
  doneReason: z.string().nullable(),
  decodeTps: z.number().nullable(),
  clientTps: z.number().nullable(),
});
export type RequestRecord = z.infer<typeof RequestRecord>;

/** Each value null when it cannot be computed (no successful request, a single token, …). */
export const Distribution = z.object({
  mean: z.number().nullable(),
  p50: z.number().nullable(),
  p90: z.number().nullable(),
  p95: z.number().nullable(),
  p99: z.number().nullable(),
});
export type Distribution = z.infer<typeof Distribution>;

export const ErrorCounts = z.object({
  timeout: z.number().int(),
  httpStatus: z.number().int(),
  streamError: z.number().int(),
  connection: z.number().int(),
});
export type ErrorCounts = z.infer<typeof ErrorCounts>;

/**
 * The summary of the measured window (warmup excluded). Same field names as crds/benchmark-results.ts
 * (the operator copies it verbatim into status.results); a unit test holds the two together.
 */
export const RunSummary = z.object({
  runId: z.string(),
  counts: z.object({
    /** Sent in the window; cancelled requests (a cancelled run) count here but not in failed. */
    requests: z.number().int(),
    succeeded: z.number().int(),
    failed: z.number().int(),
    warmup: z.number().int(),
  }),
  tokens: z.object({
    output: z.number().int(),
    prompt: z.number().int(),
    /**
     * Successful requests without a server count (Ollama's eval_count, OpenAI's final usage chunk), whose
     * output tokens were counted from content chunks.
     */
    estimatedOutputRequests: z.number().int(),
  }),
  wallTimeSeconds: z.number().nullable(),
  requestsPerSecond: z.number().nullable(),
  outputTokensPerSecond: z.number().nullable(),
  ttftMs: Distribution,
  itlMs: Distribution,
  tpotMs: Distribution,
  e2eMs: Distribution,
  decodeTps: Distribution,
  clientTps: Distribution,
  /** Open loop only: actual − scheduled start, the generator's own lag. */
  scheduleLagMs: Distribution.optional(),
  errors: ErrorCounts,
});
export type RunSummary = z.infer<typeof RunSummary>;

export const RunState = z.enum(['running', 'succeeded', 'failed', 'cancelled']);
export type RunState = z.infer<typeof RunState>;

export const PushgatewayReport = z.object({
  url: z.string().nullable(),
  pushes: z.number().int(),
  failures: z.number().int(),
  lastError: z.string().nullable(),
});
export type PushgatewayReport = z.infer<typeof PushgatewayReport>;

export const RunStatus = z.object({
  id: z.string(),
  benchmark: z.string(),
  model: z.string(),
  state: RunState,
  message: z.string().nullable(),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  progress: z.object({
    completed: z.number().int(),
    cancelled: z.number().int(),
    total: z.number().int().nullable(),
    inFlight: z.number().int(),
    warmupCompleted: z.number().int(),
    warmupTotal: z.number().int(),
  }),
  summary: RunSummary,
  /** Open loop: the Poisson rate asked for and the arrival rate achieved (arrivals / arrival window). */
  openLoop: z.object({ targetRate: z.number(), achievedRate: z.number().nullable() }).nullable(),
  /** Actual − scheduled start over all measured requests (closed loop: the client loop's own delay). */
  startLagMs: Distribution,
  pushgateway: PushgatewayReport,
  outputDir: z.string().nullable(),
});
export type RunStatus = z.infer<typeof RunStatus>;

export const HealthResponse = z.object({
  status: z.enum(['ok', 'degraded']),
  version: z.string(),
  ollama: z.object({
    url: z.string(),
    reachable: z.boolean(),
    version: z.string().nullable(),
    error: z.string().nullable(),
  }),
});
export type HealthResponse = z.infer<typeof HealthResponse>;

export const QueryResponse = z.object({
  response: z.string(),
  record: RequestRecord,
});
export type QueryResponse = z.infer<typeof QueryResponse>;

/** Every 4xx/5xx body. `field` names the offending input for a 400. */
export const ErrorResponse = z.object({
  error: z.string(),
  message: z.string(),
  field: z.string().optional(),
});
export type ErrorResponse = z.infer<typeof ErrorResponse>;

export const RecordsFormat = z.enum(['jsonl', 'csv']);
