import { z } from 'zod';

/**
 * The results ConfigMap of one run (README "Results, reports and comparisons"): what the operator writes when
 * a run ends (and, while it goes, its log tails), and what `kubectl hpcbench` reads with the user's own RBAC.
 * This file is the contract between the two.
 *
 * data:
 * - `summary.json`: the run's summary at full precision (the `summary` of the client-service's summary.json;
 *   status.results keeps 3 decimals). Absent while the run goes.
 * - `stages.json`: `{stages, saturation}` of that file: one compact summary per load level of a sweep (a run
 *   without sweep has one level). Absent while the run goes.
 * - `environment.json`: what ran where, as far as the operator knows it (EnvironmentEntry[]).
 * - `samples.json`: how the per-request samples below were taken (SamplesIndex).
 * - `logs.json`: which job each log tail is from (LogsIndex).
 * - `server.log`, `client.log`: the last LOG_TAIL_BYTES of each job's log (stdout and stderr share one file).
 * - `monitoring.log`: the same of the SlurmCluster's shared monitoring job (Prometheus, Pushgateway, Grafana),
 *   read while this run goes and when it ends. Absent, with no `monitoring` in logs.json, when monitoring is off
 *   for the run (spec.monitoring.enabled or the SlurmCluster's); the job outlives the run, so it is never final.
 *
 * binaryData, one array per metric, all three aligned (index i is the same request in each):
 * - `samples.ttftMs.f32`, `samples.tpotMs.f32`, `samples.e2eMs.f32`: IEEE 754 float32, little-endian, 4 bytes
 *   per request, NaN where the request has no value (a failed request has no TPOT or e2e). float32 keeps 7
 *   significant digits: 0.1 µs at 1 s, plenty for latencies measured in ms.
 * - `samples.stage.u8`: one byte per request, aligned with the above: the 1-based load level (stage) of a
 *   sweep the request belongs to (0 unknown), so each level's samples are the requests of its stage.
 */

export const RESULTS_FORMAT_VERSION = 1;

/** At most this many requests are kept per run: every request up to it, a uniform random sample beyond. */
export const MAX_SAMPLES = 10_000;
/** The tail of each job's log that is kept. */
export const LOG_TAIL_BYTES = 64 * 1024;
/** What the apiserver accepts for data plus binaryData (corev1 validation: MaxSize 1 MiB). */
export const CONFIGMAP_LIMIT_BYTES = 1024 * 1024;
/** While a run goes, its log tails are written at most this often. */
export const LIVE_LOGS_INTERVAL_MS = 10_000;

export const SAMPLE_METRICS = ['ttftMs', 'tpotMs', 'e2eMs'] as const;
export type SampleMetric = (typeof SAMPLE_METRICS)[number];

/** The jobs whose log tails a results ConfigMap keeps: the run's two, and the cluster's monitoring job. */
export const RESULTS_LOG_ROLES = ['server', 'client', 'monitoring'] as const;
export type ResultsLogRole = (typeof RESULTS_LOG_ROLES)[number];

export const ResultsKeys = {
  summary: 'summary.json',
  environment: 'environment.json',
  samples: 'samples.json',
  stages: 'stages.json',
  sampleStage: 'samples.stage.u8',
  logs: 'logs.json',
  sample: (metric: SampleMetric): string => `samples.${metric}.f32`,
  log: (role: ResultsLogRole): string => `${role}.log`,
} as const;

/** Labels of every results ConfigMap: `kubectl get cm -l hpcbench.io/benchmark=NAME` finds a run's, retained or not. */
export const RESULTS_LABELS = {
  benchmark: 'hpcbench.io/benchmark',
  runId: 'hpcbench.io/run-id',
  component: 'app.kubernetes.io/component',
  managedBy: 'app.kubernetes.io/managed-by',
} as const;
export const RESULTS_COMPONENT = 'benchmark-results';

/**
 * `<benchmark>-results-<uid prefix>-g<generation>`: one per run, and a retained one never collides with the
 * ConfigMap of a new benchmark of the same name (a new uid). 63 + 27 characters, well under 253.
 */
export function resultsConfigMapName(benchmark: string, uid: string, generation: number): string {
  return `${benchmark}-results-${uid.replace(/[^a-z0-9]/g, '').slice(0, 8)}-g${generation}`;
}

export const SamplesIndex = z.object({
  encoding: z.literal('float32-le'),
  metrics: z.array(z.enum(SAMPLE_METRICS)),
  /** Requests in the arrays. */
  count: z.number().int().min(0),
  /** Measured requests of the run (warmup excluded); count < measured means a sample. */
  measured: z.number().int().min(0),
  /** `all` (every measured request), or `reservoir` (Algorithm R: a uniform sample without replacement). */
  method: z.enum(['all', 'reservoir']),
  /** Seed of the sampler's PRNG (derived from the run id), so a second read of the same file gives the same sample. */
  seed: z.number().int(),
  /** Why there are no samples, when there are none (the records could not be read). */
  missing: z.string().optional(),
});
export type SamplesIndex = z.infer<typeof SamplesIndex>;

export const LogTailInfo = z.object({
  jobId: z.string(),
  /** The log on the cluster. */
  path: z.string(),
  /** Size of the whole log when it was read. */
  bytes: z.number().int().min(0),
  /** The tail is shorter than the log. */
  truncated: z.boolean(),
  /** When it was read (RFC 3339). */
  readAt: z.string(),
  /** The job had ended when it was read: the tail will not change any more. */
  final: z.boolean(),
  /** Why there is no tail (the log could not be read). */
  missing: z.string().optional(),
});
export type LogTailInfo = z.infer<typeof LogTailInfo>;

export const LogsIndex = z.partialRecord(z.enum(RESULTS_LOG_ROLES), LogTailInfo);
export type LogsIndex = z.infer<typeof LogsIndex>;

export const EnvironmentEntries = z.array(z.object({ name: z.string(), value: z.string() }));
export type EnvironmentEntries = z.infer<typeof EnvironmentEntries>;

/** Values as float32 little-endian; null becomes NaN. */
export function packFloat32(values: readonly (number | null)[]): Uint8Array {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  values.forEach((value, i) => {
    view.setFloat32(i * 4, value ?? Number.NaN, true);
  });
  return bytes;
}

/** The inverse of packFloat32: NaN comes back as null. Throws when the length is not a multiple of 4. */
export function unpackFloat32(bytes: Uint8Array): (number | null)[] {
  if (bytes.length % 4 !== 0) throw new Error(`float32 data of ${bytes.length} bytes is not a multiple of 4`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const values: (number | null)[] = [];
  for (let offset = 0; offset < bytes.length; offset += 4) {
    const value = view.getFloat32(offset, true);
    values.push(Number.isNaN(value) ? null : value);
  }
  return values;
}

/**
 * What the apiserver counts against CONFIGMAP_LIMIT_BYTES: the bytes of every data value (UTF-8) and of every
 * decoded binaryData value (k8s.io/kubernetes pkg/apis/core/validation ValidateConfigMap). Keys are not counted.
 */
export function configMapPayloadBytes(
  data: Readonly<Record<string, string>>,
  binaryData: Readonly<Record<string, Uint8Array>>,
): number {
  const encoder = new TextEncoder();
  let total = 0;
  for (const value of Object.values(data)) total += encoder.encode(value).length;
  for (const value of Object.values(binaryData)) total += value.length;
  return total;
}
