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

/** Sweeps and repeats are bounded so that a run's answer (and the operator's status) stays small. */
export const MAX_STAGES = 64;
export const MAX_REPEAT = 20;
/** Default of `sweep.saturationThreshold`: less than 10 % more throughput than the level before is flat. */
export const DEFAULT_SATURATION_THRESHOLD = 0.1;

const Clients = z.number().int().positive().max(100_000);
const Rate = z.number().positive().max(1_000_000);
const WarmupRequests = z.number().int().min(0).max(100_000);
const RequestsPerClient = z.number().int().positive().max(1_000_000);
const Requests = z.number().int().positive().max(100_000_000);
const DurationSeconds = z
  .number()
  .positive()
  .max(7 * 86_400);
const MaxConcurrency = z.number().int().positive().max(100_000);

/** How much of a level is measured; shared by the sweep (for every level) and each level (for itself). */
const LevelAmounts = {
  warmupRequests: WarmupRequests.optional().describe(
    'Warmup requests before this level is measured, excluded from every figure. Default: workload.warmupRequests.',
  ),
  requestsPerClient: RequestsPerClient.optional().describe(
    'Closed-loop levels: requests each client sends. Default: workload.requestsPerClient.',
  ),
  requests: Requests.optional().describe(
    'Open-loop levels: arrivals measured. Default: workload.clients × workload.requestsPerClient.',
  ),
  durationSeconds: DurationSeconds.optional().describe(
    'Measure for this long: no request starts after it (those in flight finish and count). With a count given too (requestsPerClient or requests, on the level or the sweep), whichever comes first.',
  ),
  maxConcurrency: MaxConcurrency.optional().describe(
    'Open-loop levels: at most this many requests in flight. Default: workload.maxConcurrency (none).',
  ),
};

/** Refuses a level whose load is not exactly one of clients (closed loop) or ratePerSecond (open loop). */
function checkLevelLoad(
  level: {
    clients?: number | undefined;
    ratePerSecond?: number | undefined;
    requestsPerClient?: number | undefined;
    requests?: number | undefined;
    maxConcurrency?: number | undefined;
  },
  ctx: z.RefinementCtx,
): void {
  if ((level.clients === undefined) === (level.ratePerSecond === undefined)) {
    ctx.addIssue({
      code: 'custom',
      path: ['clients'],
      message: 'a level is either clients (closed loop) or ratePerSecond (open loop): give exactly one',
    });
    return;
  }
  // A field the level's loop would silently ignore is refused.
  const ignored =
    level.clients !== undefined
      ? (['requests', 'maxConcurrency'] as const).filter((f) => level[f] !== undefined)
      : (['requestsPerClient'] as const).filter((f) => level[f] !== undefined);
  for (const field of ignored) {
    ctx.addIssue({
      code: 'custom',
      path: [field],
      message: `${field} does not apply to a ${level.clients !== undefined ? 'closed-loop (clients)' : 'open-loop (ratePerSecond)'} level`,
    });
  }
}

export const LoadLevel = z
  .strictObject({
    clients: Clients.optional().describe('Closed loop: this many clients, each sending back to back.'),
    ratePerSecond: Rate.optional().describe('Open loop: Poisson arrivals at this mean rate (requests/s).'),
    ...LevelAmounts,
  })
  .superRefine(checkLevelLoad)
  .describe('One load level: clients (closed loop) or ratePerSecond (open loop), with its own amounts.');
export type LoadLevel = z.infer<typeof LoadLevel>;

export const GeometricRange = z
  .strictObject({
    load: z
      .enum(['clients', 'ratePerSecond'])
      .default('clients')
      .describe('What the range varies: clients (closed loop) or ratePerSecond (open loop).'),
    from: z.number().positive().max(1_000_000).describe('The first level.'),
    to: z.number().positive().max(1_000_000).describe('The last level is the largest from × factor^k ≤ to.'),
    factor: z.number().min(1.01).max(1000).describe('Each level is the one before times this.'),
  })
  .superRefine((r, ctx) => {
    if (r.to < r.from) ctx.addIssue({ code: 'custom', path: ['to'], message: 'to must be at least from' });
    if (r.load === 'clients' && !Number.isInteger(r.from)) {
      ctx.addIssue({ code: 'custom', path: ['from'], message: 'a clients range starts at a whole number' });
    }
  })
  .describe(
    'A geometric range: from, from × factor, … up to to. Client counts are rounded, and a count that rounds to the one before is skipped.',
  );
export type GeometricRange = z.infer<typeof GeometricRange>;

/** The levels a range stands for (pure; the schema refuses a range of more than MAX_STAGES levels). */
export function expandRange(range: GeometricRange): number[] {
  const levels: number[] = [];
  // A relative epsilon, so that 1 × 2^6 reaches 64 and 0.1 × 10^k reaches 100 despite rounding.
  for (let value = range.from; value <= range.to * (1 + 1e-9); value *= range.factor) {
    const level = range.load === 'clients' ? Math.round(value) : Number(value.toPrecision(12));
    if (levels[levels.length - 1] !== level) levels.push(level);
    if (levels.length > MAX_STAGES) break;
  }
  return levels;
}

export const Sweep = z
  .strictObject({
    levels: z
      .array(LoadLevel)
      .min(1)
      .max(MAX_STAGES)
      .optional()
      .describe('The levels, in the order they run.'),
    range: GeometricRange.optional().describe('The levels as a geometric range, instead of levels.'),
    ...LevelAmounts,
    stopWhenSaturated: z
      .boolean()
      .default(false)
      .describe(
        'Stop after a level whose throughput grew by less than saturationThreshold over the level before, or that missed the SLO; the levels left are reported as skipped.',
      ),
    saturationThreshold: z
      .number()
      .min(0)
      .max(10)
      .default(DEFAULT_SATURATION_THRESHOLD)
      .describe(
        'Relative growth of output tokens/s below which a level counts as flat (0.1 = 10 %). Used by stopWhenSaturated and by the knee.',
      ),
  })
  .superRefine((s, ctx) => {
    if ((s.levels === undefined) === (s.range === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['levels'], message: 'give levels or range, not both' });
    }
    const kinds = new Set((s.levels ?? []).map((l) => (l.clients !== undefined ? 'clients' : 'rate')));
    if (kinds.size > 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['levels'],
        message: 'the levels of one sweep are all clients or all ratePerSecond, so that they compare',
      });
    }
    if (s.range !== undefined && expandRange(s.range).length > MAX_STAGES) {
      ctx.addIssue({
        code: 'custom',
        path: ['range'],
        message: `the range has more than ${MAX_STAGES} levels; raise factor or narrow from..to`,
      });
    }
  })
  .describe(
    'Load levels run back to back in one run, against the same server. Each level is measured as a run of its own (a stage).',
  );
export type Sweep = z.infer<typeof Sweep>;

/** A path on the cluster: absolute, and nothing a reader has to explain. */
const ClusterPath = z
  .string()
  .min(2)
  .max(4096)
  .regex(/^\/[A-Za-z0-9_./+@-]+$/, 'an absolute path of letters, digits, "_", ".", "/", "+", "@", "-"');

/** One row of a prompts file: its own maxTokens wins over workload.maxTokens. */
export const PromptRow = z.strictObject({
  prompt: z.string().min(1),
  maxTokens: z.number().int().positive().max(1_000_000).optional(),
});
export type PromptRow = z.infer<typeof PromptRow>;

export const Workload = GenerationOptions.extend({
  clients: Clients,
  requestsPerClient: RequestsPerClient,
  prompt: z.string().min(1).optional(),
  prompts: z.array(z.string().min(1)).min(1).optional(),
  promptsFile: ClusterPath.optional().describe(
    'A file on the cluster of JSON lines {"prompt": "...", "maxTokens": 64} (maxTokens optional, capped by workload.maxTokens), read when the run starts; request i sends row i mod n. Exclusive with prompt and prompts. The operator writes it from workload.dataset.',
  ),
  warmupRequests: WarmupRequests.default(0),
  mode: z.enum(['closed', 'open']).default('closed'),
  /** Open loop: mean arrival rate of the Poisson process, requests per second. */
  ratePerSecond: Rate.optional(),
  /** Open loop: at most this many requests in flight (arrivals wait, and their lag is reported). */
  maxConcurrency: MaxConcurrency.optional(),
  /** Open loop: stop arrivals after this long instead of after clients × requestsPerClient requests. */
  durationSeconds: DurationSeconds.optional(),
  sweep: Sweep.optional().describe(
    'Several load levels in one run. Without it the run is one level, made of clients, mode, ratePerSecond and durationSeconds.',
  ),
  repeat: z
    .number()
    .int()
    .min(1)
    .max(MAX_REPEAT)
    .default(1)
    .describe(
      'Run every level this many times, back to back, and report the mean, its 95 % confidence interval and the coefficient of variation.',
    ),
}).superRefine((w, ctx) => {
  const sources = [w.prompt, w.prompts, w.promptsFile].filter((v) => v !== undefined).length;
  if (sources === 0) {
    ctx.addIssue({ code: 'custom', path: ['prompt'], message: 'give prompt, prompts or promptsFile' });
  }
  if (w.promptsFile !== undefined && sources > 1) {
    ctx.addIssue({
      code: 'custom',
      path: ['promptsFile'],
      message: 'promptsFile is exclusive with prompt and prompts',
    });
  }
  if (w.sweep !== undefined) {
    // With a sweep each level names its own load; these would be silently ignored.
    for (const field of ['ratePerSecond', 'durationSeconds'] as const) {
      if (w[field] !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [field],
          message: `with sweep, set ${field} on the sweep or its levels, not on the workload`,
        });
      }
    }
    if (w.mode === 'open') {
      ctx.addIssue({
        code: 'custom',
        path: ['mode'],
        message: 'with sweep, each level is closed (clients) or open (ratePerSecond); leave mode out',
      });
    }
    return;
  }
  if (w.mode === 'open' && w.ratePerSecond === undefined) {
    ctx.addIssue({ code: 'custom', path: ['ratePerSecond'], message: 'open mode needs ratePerSecond' });
  }
});
export type Workload = z.infer<typeof Workload>;

export const SloMetric = z.enum(['ttftMs', 'tpotMs', 'itlMs', 'e2eMs']);
export type SloMetric = z.infer<typeof SloMetric>;
export const SLO_METRICS = SloMetric.options;

const Threshold = z.number().positive().max(86_400_000);

export const Slo = z
  .strictObject({
    ttftMs: Threshold.optional().describe('Time to first token, ms.'),
    tpotMs: Threshold.optional().describe('Time per output token after the first, ms.'),
    itlMs: Threshold.optional().describe(
      "Inter-token latency, ms: per request its mean gap; at a percentile, the pooled gaps' percentile.",
    ),
    e2eMs: Threshold.optional().describe('End-to-end latency, ms.'),
    percentile: z
      .number()
      .positive()
      .max(100)
      .optional()
      .describe(
        'A level meets the SLO when this percentile of every metric with a threshold is within it (for example 90: p90 TTFT ≤ ttftMs). Without it, attainment decides.',
      ),
    attainment: z
      .number()
      .positive()
      .max(1)
      .optional()
      .describe(
        'Without percentile: a level meets the SLO when at least this share of its requests is good. Default 0.95.',
      ),
  })
  .superRefine((slo, ctx) => {
    if (SLO_METRICS.every((m) => slo[m] === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['ttftMs'], message: 'an SLO needs at least one threshold' });
    }
    if (slo.percentile !== undefined && slo.attainment !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['attainment'],
        message: 'give percentile or attainment: they are two ways to judge a level',
      });
    }
  })
  .describe(
    "Latency targets. A request is good when it succeeded and meets every threshold (vLLM's --goodput); goodput is good requests per second of the level's window.",
  );
export type Slo = z.infer<typeof Slo>;
export const DEFAULT_SLO_ATTAINMENT = 0.95;

/** Size bound of `environment`: it is echoed into every run status and summary.json. */
export const MAX_ENVIRONMENT_BYTES = 8 * 1024;

/**
 * What ran where, as the operator collected it (crds/benchmark-dataset.ts BenchmarkEnvironment): the client
 * service does not interpret it, only echoes it into the run's status and summary.json with its own version
 * added (`clientServiceVersion`). Flat or one level deep; bounded to MAX_ENVIRONMENT_BYTES.
 */
export const RunEnvironment = z
  .record(
    z.string().max(64),
    z.union([
      z.string().max(512),
      z.number(),
      z.boolean(),
      z.record(z.string().max(64), z.union([z.string().max(512), z.number(), z.boolean()])),
    ]),
  )
  .refine((env) => JSON.stringify(env).length <= MAX_ENVIRONMENT_BYTES, {
    message: `at most ${MAX_ENVIRONMENT_BYTES} bytes of JSON`,
  });
export type RunEnvironment = z.infer<typeof RunEnvironment>;

export const StartRunRequest = z
  .strictObject({
    id: RunId,
    model: z.string().min(1).optional(),
    ...ProtocolFields,
    /** Benchmark name for metric labels; defaults to the service's --benchmark. */
    benchmark: z.string().min(1).max(253).optional(),
    workload: Workload,
    slo: Slo.optional(),
    environment: RunEnvironment.optional(),
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
  /** The load level (1-based) and its repeat (1-based); 1 and 1 in a run without sweep or repeat. */
  stage: z.number().int(),
  repeat: z.number().int(),
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

/** p50, p90 and p99 of a per-request token count; null when no request reported one. */
export const TokenQuantiles = z.object({
  p50: z.number().nullable(),
  p90: z.number().nullable(),
  p99: z.number().nullable(),
});
export type TokenQuantiles = z.infer<typeof TokenQuantiles>;

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
    /** Prompt tokens per successful request, as the server counted them (Ollama's prompt_eval_count). */
    promptPerRequest: TokenQuantiles,
    /** Output tokens per successful request (server counts; chunk counts where the server gave none). */
    outputPerRequest: TokenQuantiles,
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

/** p50, p90 and p99 of one latency, ms; null when nothing was measured. */
export const LatencyQuantiles = z.object({
  p50: z.number().nullable(),
  p90: z.number().nullable(),
  p99: z.number().nullable(),
});
export type LatencyQuantiles = z.infer<typeof LatencyQuantiles>;

/** How one set of requests fared against `slo` (a stage's repeat, or a whole stage). */
export const SloEvaluation = z.object({
  /** Null when nothing was measured. */
  met: z.boolean().nullable(),
  /** Good requests per second of the window. */
  goodput: z.number().nullable(),
  /** Good requests / measured requests (failed ones count as not good). */
  attainment: z.number().nullable(),
  goodRequests: z.number().int(),
  /** Successful requests over each threshold; `errors` counts failed requests, which are never good. */
  violations: z.object({
    ttftMs: z.number().int(),
    tpotMs: z.number().int(),
    itlMs: z.number().int(),
    e2eMs: z.number().int(),
    errors: z.number().int(),
  }),
  /**
   * The threshold that failed most: with a percentile, the metric furthest over its threshold (ratio);
   * per request, the metric that most requests missed. Null when none failed.
   */
  mostViolated: SloMetric.nullable(),
  /** With a percentile: that percentile of each metric with a threshold. */
  percentiles: z.partialRecord(SloMetric, z.number().nullable()).nullable(),
});
export type SloEvaluation = z.infer<typeof SloEvaluation>;

/** Mean over the repeats of one level, with its 95 % confidence interval (Student t) and CV. */
export const RepeatFigure = z.object({
  /** Repeats that gave a value. */
  n: z.number().int(),
  mean: z.number().nullable(),
  /** Null with fewer than two values. */
  ciLower: z.number().nullable(),
  ciUpper: z.number().nullable(),
  /** Coefficient of variation, sample sd / mean; null with fewer than two values or a zero mean. */
  cv: z.number().nullable(),
});
export type RepeatFigure = z.infer<typeof RepeatFigure>;

export const RepeatStats = z.object({
  repeats: z.number().int(),
  outputTokensPerSecond: RepeatFigure,
  requestsPerSecond: RepeatFigure,
  ttftP50Ms: RepeatFigure,
  itlP50Ms: RepeatFigure,
  tpotP50Ms: RepeatFigure,
  e2eP50Ms: RepeatFigure,
});
export type RepeatStats = z.infer<typeof RepeatStats>;

export const StageState = z.enum(['pending', 'running', 'done', 'skipped', 'cancelled', 'failed']);
export type StageState = z.infer<typeof StageState>;

/**
 * One load level, compact (numbers rounded to 4 significant digits): what the operator mirrors into
 * status.stages. Figures pool every repeat of the level (requests over the sum of the repeats' windows);
 * the full summaries of each repeat are in the run's files (stages.json).
 */
export const StageSummary = z.object({
  /** 1-based, in run order. */
  stage: z.number().int(),
  state: StageState,
  mode: z.enum(['closed', 'open']),
  /** The load asked: clients (closed loop) or ratePerSecond (open loop); the other is null. */
  load: z.object({ clients: z.number().int().nullable(), ratePerSecond: z.number().nullable() }),
  /**
   * The load achieved: mean requests in flight over the window (Σ request time / window), and, in open
   * loop, arrivals per second of the arrival window.
   */
  achieved: z.object({ concurrency: z.number().nullable(), ratePerSecond: z.number().nullable() }),
  /** Repeats finished (out of workload.repeat). */
  repeatsDone: z.number().int(),
  requests: z.number().int(),
  succeeded: z.number().int(),
  failed: z.number().int(),
  wallTimeSeconds: z.number().nullable(),
  requestsPerSecond: z.number().nullable(),
  outputTokensPerSecond: z.number().nullable(),
  ttftMs: LatencyQuantiles,
  itlMs: LatencyQuantiles,
  tpotMs: LatencyQuantiles,
  e2eMs: LatencyQuantiles,
  /** Null without an SLO. */
  goodput: z.number().nullable(),
  attainment: z.number().nullable(),
  sloMet: z.boolean().nullable(),
  sloMostViolated: SloMetric.nullable(),
  errors: ErrorCounts,
  /** With workload.repeat > 1, once two repeats are done. */
  repeat: RepeatStats.nullable(),
  /** For example a coefficient of variation above 5 %. */
  warnings: z.array(z.string()),
});
export type StageSummary = z.infer<typeof StageSummary>;

/** A level named by its stage and its load (clients or requests/s, as `Saturation.load` says). */
export const LevelPoint = z.object({
  stage: z.number().int(),
  load: z.number(),
  value: z.number().nullable(),
});
export type LevelPoint = z.infer<typeof LevelPoint>;

/** Where the sweep saturates (client-service/engine/saturation.ts). Null fields: not found or not asked. */
export const Saturation = z.object({
  load: z.enum(['clients', 'ratePerSecond']),
  threshold: z.number(),
  /** The highest output tokens/s and the level where it occurred; `value` is the tokens/s. */
  peakOutputTokensPerSecond: LevelPoint.nullable(),
  peakRequestsPerSecond: LevelPoint.nullable(),
  /**
   * The first level after which output tokens/s grows by less than `threshold` while e2e p50 still rises;
   * `value` is its output tokens/s.
   */
  knee: LevelPoint.nullable(),
  /** The largest level that meets the SLO; `value` is its goodput (good requests/s). Null without an SLO. */
  maxSloLoad: LevelPoint.nullable(),
  /** Whether some level met the SLO; null without an SLO. */
  sloMetAnywhere: z.boolean().nullable(),
  /** Stopped early (sweep.stopWhenSaturated): after which stage, and why. */
  stoppedAfterStage: z.number().int().nullable(),
  stopReason: z.enum(['saturated', 'slo']).nullable(),
});
export type Saturation = z.infer<typeof Saturation>;

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
    /** The stage running (1-based; the last one once the run ended) out of `stages`. */
    stage: z.number().int(),
    stages: z.number().int(),
    /** The repeat of that stage (1-based) out of `repeats` (workload.repeat). */
    repeat: z.number().int(),
    repeats: z.number().int(),
    /** Measured requests finished in the current stage's repeat, and its planned count (null: by duration). */
    stageCompleted: z.number().int(),
    stageTotal: z.number().int().nullable(),
    /** `stage 3/6, 120/400 requests` (with `, repeat 2/3` when repeating). */
    display: z.string(),
  }),
  /**
   * Every measured request of the run. With a sweep it pools all levels: rates are over the sum of the
   * levels' windows; per-level figures are in `stages`.
   */
  summary: RunSummary,
  /** One entry per level (a run without sweep has one); at most 64. */
  stages: z.array(StageSummary),
  saturation: Saturation,
  /** Warnings of the stages, prefixed with their stage, for a message. */
  warnings: z.array(z.string()),
  /** Open loop: the Poisson rate asked for and the arrival rate achieved (arrivals / arrival window). */
  openLoop: z.object({ targetRate: z.number(), achievedRate: z.number().nullable() }).nullable(),
  /** Actual − scheduled start over all measured requests (closed loop: the client loop's own delay). */
  startLagMs: Distribution,
  pushgateway: PushgatewayReport,
  outputDir: z.string().nullable(),
  /** The request's environment with `clientServiceVersion` added; null when the request gave none. */
  environment: RunEnvironment.nullable(),
  /** With workload.promptsFile: the prompts read from it. */
  promptsFile: z.object({ path: z.string(), rows: z.number().int() }).nullable(),
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
