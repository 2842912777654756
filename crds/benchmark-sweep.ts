import { z } from 'zod';
import { ErrorCounts } from './benchmark-results.js';
import { type DualRule, withRules } from './common.js';

/**
 * Sweeps, repeats and SLOs of an InferenceBenchmark (issue 16), and the per-level status they produce.
 *
 * The client service runs the whole sweep in one run (client-service/api-schema.ts: Sweep, Slo, StageSummary,
 * Saturation; definitions in client-service/README.md "Sweeps, SLOs and repeats"). crds/ may import only zod,
 * so these MIRROR those shapes; crds/benchmark-sweep.test.ts holds the two together.
 */

/** At most this many load levels: status.stages holds one entry each. */
export const MAX_SWEEP_STAGES = 64;
/** At most this many repeats of each level. */
export const MAX_REPEAT = 20;
export const DEFAULT_SATURATION_THRESHOLD = 0.1;
/** Without slo.percentile, a level meets the SLO when at least this share of its requests is good. */
export const DEFAULT_SLO_ATTAINMENT = 0.95;
/** Largest measured requests of one level (per repeat), as workload.clients x requestsPerClient is bounded. */
export const MAX_LEVEL_REQUESTS = 1_000_000;

const integer = (min: number, max: number) => z.number().int().min(min).max(max);

/** How much of a level is measured: on a level (for itself) or on the sweep (for every level). */
const levelAmounts = (scope: string) => ({
  warmupRequests: integer(0, 10_000)
    .optional()
    .describe(
      `Warmup requests before ${scope} is measured, excluded from every figure. Default: workload.warmupRequests.`,
    ),
  requestsPerClient: integer(1, 100_000)
    .optional()
    .describe(
      `Closed-loop levels: requests each client sends in ${scope}. Default: workload.requestsPerClient.`,
    ),
  requests: integer(1, MAX_LEVEL_REQUESTS)
    .optional()
    .describe(
      `Open-loop levels: arrivals measured in ${scope}. Default: workload.clients x workload.requestsPerClient.`,
    ),
  durationSeconds: z
    .number()
    .positive()
    .max(7 * 86_400)
    .optional()
    .describe(
      `Measure ${scope} for this long: no request starts after it (those in flight finish and count). With a count too, whichever comes first.`,
    ),
  maxConcurrency: integer(1, 100_000)
    .optional()
    .describe(`Open-loop levels: at most this many requests in flight in ${scope}. Unset: no cap.`),
});

export const SweepLevel = withRules(
  z
    .strictObject({
      clients: integer(1, 10_000)
        .optional()
        .describe('Closed loop: this many clients, each sending its requests back to back.'),
      ratePerSecond: z
        .number()
        .positive()
        .max(10_000)
        .optional()
        .describe('Open loop: Poisson arrivals at this mean rate, requests per second.'),
      ...levelAmounts('this level'),
    })
    .describe('One load level: clients (closed loop) or ratePerSecond (open loop), with its own amounts.'),
  [
    {
      rule: 'has(self.clients) != has(self.ratePerSecond)',
      message: 'a level is either clients (closed loop) or ratePerSecond (open loop): give exactly one',
      fieldPath: '.clients',
      holds: (l) => (l.clients === undefined) !== (l.ratePerSecond === undefined),
    },
    {
      rule: '!has(self.clients) || !has(self.requests)',
      message: 'requests is for open-loop (ratePerSecond) levels; a clients level uses requestsPerClient',
      fieldPath: '.requests',
      reason: 'FieldValueForbidden',
      holds: (l) => l.clients === undefined || l.requests === undefined,
    },
    {
      rule: '!has(self.clients) || !has(self.maxConcurrency)',
      message:
        'maxConcurrency is for open-loop (ratePerSecond) levels; a clients level has clients in flight',
      fieldPath: '.maxConcurrency',
      reason: 'FieldValueForbidden',
      holds: (l) => l.clients === undefined || l.maxConcurrency === undefined,
    },
    {
      rule: '!has(self.ratePerSecond) || !has(self.requestsPerClient)',
      message: 'requestsPerClient is for closed-loop (clients) levels; a ratePerSecond level uses requests',
      fieldPath: '.requestsPerClient',
      reason: 'FieldValueForbidden',
      holds: (l) => l.ratePerSecond === undefined || l.requestsPerClient === undefined,
    },
  ],
);
export type SweepLevel = z.infer<typeof SweepLevel>;

export const SweepRange = withRules(
  z
    .strictObject({
      load: z
        .enum(['clients', 'ratePerSecond'])
        .default('clients')
        .describe('What the range varies: clients (closed loop) or ratePerSecond (open loop).'),
      from: z.number().positive().max(1_000_000).describe('The first level.'),
      to: z
        .number()
        .positive()
        .max(1_000_000)
        .describe('The last level is the largest from x factor^k <= to.'),
      factor: z.number().min(1.01).max(1000).describe('Each level is the one before times this.'),
    })
    .describe(
      'A geometric range: from, from x factor, ... up to to (at most 64 levels). Client counts are rounded, and a count that rounds to the one before is skipped.',
    ),
  [
    {
      rule: 'self.to >= self.from',
      message: 'to must be at least from',
      fieldPath: '.to',
      holds: (r) => r.to >= r.from,
    },
    {
      rule: "self.load != 'clients' || double(int(self.from)) == self.from",
      message: 'a clients range starts at a whole number',
      fieldPath: '.from',
      holds: (r) => r.load !== 'clients' || Number.isInteger(r.from),
    },
  ],
);
export type SweepRange = z.infer<typeof SweepRange>;

/** The levels a range stands for: the same expansion as the client service's (expandRange). */
export function expandSweepRange(range: SweepRange): number[] {
  const levels: number[] = [];
  // A relative epsilon, so that 1 x 2^6 reaches 64 and 0.1 x 10^k reaches 100 despite rounding.
  for (let value = range.from; value <= range.to * (1 + 1e-9); value *= range.factor) {
    const level = range.load === 'clients' ? Math.round(value) : Number(value.toPrecision(12));
    if (levels[levels.length - 1] !== level) levels.push(level);
    if (levels.length > MAX_SWEEP_STAGES) break;
  }
  return levels;
}

export const Sweep = withRules(
  z
    .strictObject({
      levels: z
        .array(SweepLevel)
        .min(1)
        .max(MAX_SWEEP_STAGES)
        .optional()
        .describe(
          'The levels, in the order they run; all clients or all ratePerSecond. Exclusive with range.',
        ),
      range: SweepRange.optional().describe('The levels as a geometric range. Exclusive with levels.'),
      ...levelAmounts('each level'),
      stopWhenSaturated: z
        .boolean()
        .default(false)
        .describe(
          'Stop after a level whose output tokens/s grew by less than saturationThreshold over the level before, or that missed spec.slo; the levels left are reported as skipped.',
        ),
      saturationThreshold: z
        .number()
        .min(0)
        .max(10)
        .default(DEFAULT_SATURATION_THRESHOLD)
        .describe(
          'Relative growth of output tokens/s below which a level counts as flat (0.1 = 10 %). Used by stopWhenSaturated and by the knee in status.saturation.',
        ),
    })
    .describe(
      'Load levels run back to back by ONE client job against ONE server job (one model load). Each level is measured as a run of its own and summarised in status.stages; status.saturation says where throughput stops growing.',
    ),
  [
    {
      rule: 'has(self.levels) != has(self.range)',
      message: 'give sweep.levels or sweep.range, exactly one',
      fieldPath: '.levels',
      holds: (s) => (s.levels === undefined) !== (s.range === undefined),
    },
    {
      rule: '!has(self.levels) || self.levels.all(l, has(l.clients)) || self.levels.all(l, has(l.ratePerSecond))',
      message: 'the levels of one sweep are all clients or all ratePerSecond, so that they compare',
      fieldPath: '.levels',
      holds: (s) =>
        s.levels === undefined ||
        s.levels.every((l) => l.clients !== undefined) ||
        s.levels.every((l) => l.ratePerSecond !== undefined),
    },
  ],
).refine((s) => s.range === undefined || expandSweepRange(s.range).length <= MAX_SWEEP_STAGES, {
  // CEL has no logarithm to count a range's levels: the operator refuses it (InvalidSpec), as does the client service.
  message: `the range has more than ${MAX_SWEEP_STAGES} levels; raise factor or narrow from..to`,
  path: ['range'],
});
export type Sweep = z.infer<typeof Sweep>;

export const SloMetricName = z.enum(['ttftMs', 'tpotMs', 'itlMs', 'e2eMs']);
export type SloMetricName = z.infer<typeof SloMetricName>;
export const SLO_METRIC_NAMES = SloMetricName.options;

const threshold = (what: string) => z.number().positive().max(86_400_000).optional().describe(what);

export const SloSpec = withRules(
  z
    .strictObject({
      ttftMs: threshold('Time to first token, ms.'),
      tpotMs: threshold('Time per output token after the first, ms.'),
      itlMs: threshold(
        "Inter-token latency, ms: per request its mean gap; with percentile, the pooled gaps' percentile.",
      ),
      e2eMs: threshold('End-to-end latency, ms.'),
      percentile: z
        .number()
        .positive()
        .max(100)
        .optional()
        .describe(
          'A level meets the SLO when this percentile of every metric with a threshold is within it (95: p95 TTFT <= ttftMs, ...). Exclusive with attainment.',
        ),
      attainment: z
        .number()
        .positive()
        .max(1)
        .optional()
        .describe(
          'Without percentile: a level meets the SLO when at least this share of its measured requests is good (failed ones count as not good). Default 0.95.',
        ),
      level: z
        .number()
        .positive()
        .max(1_000_000)
        .optional()
        .describe(
          'With a sweep: the load level (its clients, or its ratePerSecond) whose result the SLOMet condition reports. Unset: SLOMet is True when any level of the sweep meets the SLO (without sweep: the one level).',
        ),
      failBenchmark: z
        .boolean()
        .default(false)
        .describe(
          'true: SLOMet False ends the benchmark Failed (reason SLONotMet; Argo CD health Degraded). false: it is reported and the benchmark still Succeeds.',
        ),
    })
    .describe(
      "Latency targets. A request is good when it succeeded and meets every threshold (vLLM's --goodput); goodput is good requests per second of a level's window, attainment the share of good requests. Each level reports both in status.stages; the SLOMet condition judges them.",
    ),
  [
    {
      rule: 'has(self.ttftMs) || has(self.tpotMs) || has(self.itlMs) || has(self.e2eMs)',
      message: 'an SLO needs at least one threshold: ttftMs, tpotMs, itlMs or e2eMs',
      fieldPath: '.ttftMs',
      reason: 'FieldValueRequired',
      holds: (s) => SLO_METRIC_NAMES.some((m) => s[m] !== undefined),
    },
    {
      rule: '!has(self.percentile) || !has(self.attainment)',
      message: 'give percentile or attainment, not both: they are two ways to judge a level',
      fieldPath: '.attainment',
      reason: 'FieldValueForbidden',
      holds: (s) => s.percentile === undefined || s.attainment === undefined,
    },
  ],
);
export type SloSpec = z.infer<typeof SloSpec>;

/** What the sweep rules of the workload read. */
interface SweepWorkloadView {
  requestsPerClient: number;
  mode: 'closed' | 'open';
  repeat?: number | undefined;
  sweep?: Sweep | undefined;
}

/** Requests a closed-loop level measures per repeat: its clients times its requestsPerClient. */
function levelRequests(w: SweepWorkloadView, level: SweepLevel): number {
  if (level.clients === undefined) return level.requests ?? w.sweep?.requests ?? 0;
  return level.clients * (level.requestsPerClient ?? w.sweep?.requestsPerClient ?? w.requestsPerClient);
}

/** Rules of the workload that involve the sweep, named by field (for kubectl apply and for zod). */
export const SWEEP_WORKLOAD_RULES: DualRule<SweepWorkloadView>[] = [
  {
    rule: "!has(self.sweep) || self.mode != 'open'",
    message: 'with sweep, each level is closed (clients) or open (ratePerSecond); leave mode out',
    fieldPath: '.mode',
    reason: 'FieldValueForbidden',
    holds: (w) => w.sweep === undefined || w.mode !== 'open',
  },
  {
    rule: `!has(self.sweep) || !has(self.sweep.levels) || self.sweep.levels.all(l, !has(l.clients) || l.clients * (has(l.requestsPerClient) ? l.requestsPerClient : has(self.sweep.requestsPerClient) ? self.sweep.requestsPerClient : self.requestsPerClient) * (has(self.repeat) ? self.repeat : 1) <= ${MAX_LEVEL_REQUESTS})`,
    message: `each level's clients x requestsPerClient x repeat must be at most ${MAX_LEVEL_REQUESTS}`,
    fieldPath: '.sweep.levels',
    holds: (w) =>
      w.sweep?.levels === undefined ||
      w.sweep.levels.every(
        (l) => l.clients === undefined || levelRequests(w, l) * (w.repeat ?? 1) <= MAX_LEVEL_REQUESTS,
      ),
  },
  {
    rule: `!has(self.sweep) || !has(self.sweep.range) || self.sweep.range.load != 'clients' || self.sweep.range.to * double(has(self.sweep.requestsPerClient) ? self.sweep.requestsPerClient : self.requestsPerClient) * double(has(self.repeat) ? self.repeat : 1) <= ${MAX_LEVEL_REQUESTS}.0`,
    message: `the range's largest clients x requestsPerClient x repeat must be at most ${MAX_LEVEL_REQUESTS}`,
    fieldPath: '.sweep.range.to',
    holds: (w) =>
      w.sweep?.range === undefined ||
      w.sweep.range.load !== 'clients' ||
      w.sweep.range.to * (w.sweep.requestsPerClient ?? w.requestsPerClient) * (w.repeat ?? 1) <=
        MAX_LEVEL_REQUESTS,
  },
];

/** What the SLO rules of the spec read. */
interface SloSpecView {
  workload: { sweep?: Sweep | undefined };
  slo?: SloSpec | undefined;
}

export const SLO_SPEC_RULES: DualRule<SloSpecView>[] = [
  {
    rule: '!has(self.slo) || !has(self.slo.level) || has(self.workload.sweep)',
    message: 'slo.level marks one level of workload.sweep; without a sweep the run has one level',
    fieldPath: '.slo.level',
    reason: 'FieldValueForbidden',
    holds: (s) => s.slo?.level === undefined || s.workload.sweep !== undefined,
  },
  {
    rule: '!has(self.slo) || !has(self.slo.level) || !has(self.workload.sweep) || !has(self.workload.sweep.levels) || self.workload.sweep.levels.exists(l, (has(l.clients) && double(l.clients) == self.slo.level) || (has(l.ratePerSecond) && l.ratePerSecond == self.slo.level))',
    message: 'slo.level must be the clients or ratePerSecond of one of workload.sweep.levels',
    fieldPath: '.slo.level',
    holds: (s) =>
      s.slo?.level === undefined ||
      s.workload.sweep?.levels === undefined ||
      s.workload.sweep.levels.some((l) => (l.clients ?? l.ratePerSecond) === s.slo?.level),
  },
];

// --- status --------------------------------------------------------------------------------------------------

const nullableNumber = (description: string) => z.number().nullable().describe(description);
/**
 * A word of a known set, or null. Not an enum: the apiserver checks an enum before nullable, and refuses the
 * null of a nullable enum whether or not null is listed among its values.
 */
const nullableWord = (description: string) => z.string().max(32).nullable().describe(description);

export const StageLatency = z
  .object({
    p50: nullableNumber('Median, ms.'),
    p90: nullableNumber('90th percentile, ms.'),
    p99: nullableNumber('99th percentile, ms.'),
  })
  .describe('p50, p90 and p99 of one latency over the level, ms; null when nothing was measured.');

export const RepeatFigure = z
  .object({
    n: z.number().int().min(0).describe('Repeats that gave a value.'),
    mean: nullableNumber('Mean over the repeats.'),
    ciLower: nullableNumber(
      'Lower end of the 95 % confidence interval of the mean (Student t); null below 2.',
    ),
    ciUpper: nullableNumber('Upper end of the 95 % confidence interval of the mean; null below 2.'),
    cv: nullableNumber('Coefficient of variation, sample sd / mean (0.05 = 5 %); null below 2.'),
  })
  .describe('One figure over the repeats of a level.');

export const StageRepeatStats = z
  .object({
    repeats: z.number().int().min(0).describe('Repeats that finished.'),
    outputTokensPerSecond: RepeatFigure,
    requestsPerSecond: RepeatFigure,
    ttftP50Ms: RepeatFigure,
    itlP50Ms: RepeatFigure,
    tpotP50Ms: RepeatFigure,
    e2eP50Ms: RepeatFigure,
  })
  .describe('With workload.repeat > 1, once two repeats are done: the spread of the repeats.');

export const StageState = z.enum(['pending', 'running', 'done', 'skipped', 'cancelled', 'failed']);

export const StageStatus = z
  .object({
    stage: z.number().int().min(1).describe('1-based, in run order.'),
    state: StageState.describe('pending, running, done, skipped (stopWhenSaturated), cancelled or failed.'),
    mode: z.enum(['closed', 'open']).describe('closed (clients) or open (ratePerSecond) loop.'),
    load: z
      .object({
        clients: z.number().int().nullable().describe('Closed loop: clients asked.'),
        ratePerSecond: z.number().nullable().describe('Open loop: arrival rate asked, requests/s.'),
      })
      .describe('The load asked.'),
    achieved: z
      .object({
        concurrency: nullableNumber(
          'Mean requests in flight over the window (sum of request time / window).',
        ),
        ratePerSecond: nullableNumber('Open loop: arrivals per second of the arrival window.'),
      })
      .describe('The load achieved.'),
    repeatsDone: z.number().int().min(0).describe('Repeats finished, out of workload.repeat.'),
    requests: z.number().int().min(0).describe('Measured requests of the level (every repeat).'),
    succeeded: z.number().int().min(0).describe('Of them, succeeded.'),
    failed: z.number().int().min(0).describe('Of them, failed; errors has them by kind.'),
    wallTimeSeconds: nullableNumber("Sum of the repeats' measured windows, s."),
    requestsPerSecond: nullableNumber('Completed requests / wallTimeSeconds.'),
    outputTokensPerSecond: nullableNumber('Output tokens / wallTimeSeconds.'),
    ttftMs: StageLatency,
    itlMs: StageLatency,
    tpotMs: StageLatency,
    e2eMs: StageLatency,
    goodput: nullableNumber('Good requests (meeting every spec.slo threshold) per second; null without slo.'),
    attainment: nullableNumber('Good requests / measured requests; null without slo.'),
    sloMet: z.boolean().nullable().describe('Whether the level meets spec.slo; null without slo.'),
    sloMostViolated: nullableWord(
      'The threshold that failed most (ttftMs, tpotMs, itlMs or e2eMs); null when none failed.',
    ),
    errors: ErrorCounts,
    repeat: StageRepeatStats.nullable(),
  })
  .describe(
    "One load level, compact (4 significant digits): figures pool the level's repeats. Every level in full is in the run's stages.json on the cluster and in the results ConfigMap.",
  );
export type StageStatus = z.infer<typeof StageStatus>;

export const LevelPoint = z
  .object({
    stage: z.number().int().min(1).describe('The stage (1-based).'),
    load: z.number().describe('Its load: clients or ratePerSecond, as saturation.load says.'),
    value: z.number().nullable().describe('The figure at that level (see the field).'),
  })
  .describe('A level, named by its stage and load, and a figure there.');

export const SaturationStatus = z
  .object({
    load: z.enum(['clients', 'ratePerSecond']).describe('What the levels vary.'),
    threshold: z.number().describe('sweep.saturationThreshold used for the knee.'),
    peakOutputTokensPerSecond: LevelPoint.nullable().describe(
      'The highest output tokens/s (value) and its level.',
    ),
    peakRequestsPerSecond: LevelPoint.nullable().describe('The highest requests/s (value) and its level.'),
    knee: LevelPoint.nullable().describe(
      'The first level after which output tokens/s grows by less than threshold while e2e p50 still rises; value is its output tokens/s. Null: not found.',
    ),
    maxSloLoad: LevelPoint.nullable().describe(
      'The largest level that meets spec.slo; value is its goodput (good requests/s). Null: none, or no slo.',
    ),
    sloMetAnywhere: z.boolean().nullable().describe('Whether any level met spec.slo; null without slo.'),
    stoppedAfterStage: z
      .number()
      .int()
      .nullable()
      .describe('sweep.stopWhenSaturated stopped the sweep after this stage; null: it ran every level.'),
    stopReason: nullableWord('Why the sweep stopped early: saturated or slo.'),
  })
  .describe('Where the sweep saturates, and the largest load that meets the SLO.');
export type SaturationStatus = z.infer<typeof SaturationStatus>;

/**
 * The most clients any level of the run has: what the server must serve at once when spec.server.numParallel
 * is unset (OLLAMA_NUM_PARALLEL, llama.cpp --parallel), at most 1024. A sweep's levels, not workload.clients
 * (its default of 1 would make every level after the first queue on the server).
 */
export function peakClients(workload: {
  clients: number;
  sweep?: Pick<Sweep, 'levels' | 'range'> | undefined;
}): number {
  const sweep = workload.sweep;
  const closedSweep =
    sweep?.range?.load === 'clients' || (sweep?.levels ?? []).some((l) => l.clients !== undefined);
  // A rate sweep (open loop) keeps what an open-loop run has always had: workload.clients.
  let peak = closedSweep ? 1 : workload.clients;
  for (const level of sweep?.levels ?? []) peak = Math.max(peak, level.clients ?? 1);
  if (sweep?.range?.load === 'clients') peak = Math.max(peak, ...expandSweepRange(sweep.range));
  return Math.min(peak, 1024);
}
