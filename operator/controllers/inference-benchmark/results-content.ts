import {
  CONFIGMAP_LIMIT_BYTES,
  configMapPayloadBytes,
  type EnvironmentEntries,
  LOG_TAIL_BYTES,
  type LogsIndex,
  type LogTailInfo,
  MAX_SAMPLES,
  packFloat32,
  RESULTS_FORMAT_VERSION,
  RESULTS_LOG_ROLES,
  ResultsKeys,
  type ResultsLogRole,
  SAMPLE_METRICS,
  type SamplesIndex,
} from '../../../crds/index.js';

/**
 * The content of a run's results ConfigMap (crds/results-configmap.ts says the format) and its size budget.
 * Pure: the step (steps/store-results.ts) reads the files and writes the object.
 *
 * The budget, against the apiserver's 1 MiB for data plus binaryData (CONFIGMAP_LIMIT_BYTES):
 * - samples: MAX_SAMPLES x 3 metrics x 4 bytes = 120,000 bytes, whatever the number of requests;
 * - log tails: 3 jobs (server, client, monitoring) x LOG_TAIL_BYTES = 196,608 bytes;
 * - environment.json at most ENVIRONMENT_MAX_BYTES = 16,384; samples.json and logs.json a few hundred bytes;
 * - summary.json: today about 3 KB (one level); whatever is left (about 690 KB) for the per-level summaries
 *   a sweep will add. Above that it is written compact, then replaced by a note: it never pushes the rest out.
 * So a run of any size fits; `fitToLimit` still checks the total and shrinks the tails, then the sample,
 * should a future key grow.
 */

export const ENVIRONMENT_MAX_BYTES = 16 * 1024;
/** Room kept under the limit for the apiserver's own rounding and for keys we may add. */
export const SAFETY_MARGIN_BYTES = 8 * 1024;

export interface SampleRow {
  readonly index: number;
  readonly ttftMs: number | null;
  readonly tpotMs: number | null;
  readonly e2eMs: number | null;
  /** The sweep level (1-based); 0 when the record does not say. */
  readonly stage: number;
}

/** mulberry32: small, fast, seedable; statistical quality is plenty for choosing which requests to keep. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A 32-bit seed from the run id (FNV-1a), so a second read of the same records keeps the same sample. */
export function seedOf(runId: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < runId.length; i++) {
    hash ^= runId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash | 0;
}

/**
 * Algorithm R (Vitter 1985): after n offers, each of them is in the reservoir with probability capacity/n,
 * in one pass and O(capacity) memory, so a run of a million requests is sampled while it streams by.
 */
export class ReservoirSampler {
  private readonly kept: SampleRow[] = [];
  private seen = 0;
  private readonly random: () => number;

  constructor(
    private readonly capacity: number,
    readonly seed: number,
  ) {
    this.random = mulberry32(seed);
  }

  offer(row: SampleRow): void {
    this.seen++;
    if (this.kept.length < this.capacity) {
      this.kept.push(row);
      return;
    }
    const slot = Math.floor(this.random() * this.seen);
    if (slot < this.capacity) this.kept[slot] = row;
  }

  get offered(): number {
    return this.seen;
  }

  /** The kept rows in request order. */
  rows(): SampleRow[] {
    return [...this.kept].sort((a, b) => a.index - b.index);
  }
}

const finiteOrNull = (value: unknown): number | null =>
  typeof value === 'number' && Number.isFinite(value) ? value : null;

/**
 * One line of records.jsonl (client-service/engine/records.ts) as a sample row; undefined for a warmup
 * request or a line that is not a record (a half-written last line of a killed job).
 */
export function sampleRowOf(line: string): SampleRow | undefined {
  if (line.trim() === '') return undefined;
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof record !== 'object' || record === null) return undefined;
  const r = record as Record<string, unknown>;
  if (r.warmup !== false || typeof r.index !== 'number') return undefined;
  return {
    index: r.index,
    ttftMs: finiteOrNull(r.ttftMs),
    tpotMs: finiteOrNull(r.tpotMs),
    e2eMs: finiteOrNull(r.e2eMs),
    stage: typeof r.stage === 'number' && r.stage >= 0 && r.stage <= 255 ? Math.floor(r.stage) : 0,
  };
}

export interface LogTail {
  readonly role: ResultsLogRole;
  readonly info: LogTailInfo;
  readonly text: string;
}

export interface ResultsContent {
  /** The run's summary.json as the client-service wrote it; absent while the run goes. */
  readonly summary?: unknown;
  /** `{stages, saturation}` of a finished run: the per-level summaries. */
  readonly stages?: unknown;
  readonly environment: EnvironmentEntries;
  /** Absent while the run goes. */
  readonly samples?: { readonly rows: readonly SampleRow[]; readonly index: SamplesIndex };
  readonly logs: readonly LogTail[];
}

export interface ResultsPayload {
  readonly data: Record<string, string>;
  readonly binaryData: Record<string, Uint8Array>;
  /** What the apiserver counts against its limit. */
  readonly bytes: number;
  /** What had to give way to stay under the limit, in words (empty when nothing did). */
  readonly trimmed: string[];
}

/** The last `maxBytes` of a text in UTF-8, cut at a line start when there is one (as RemoteFiles.tail does). */
export function tailBytes(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  const cut = bytes.subarray(bytes.length - maxBytes).toString('utf8');
  const newline = cut.indexOf('\n');
  return newline >= 0 ? cut.slice(newline + 1) : cut;
}

function environmentJson(entries: EnvironmentEntries): string {
  const kept: EnvironmentEntries = [];
  for (const entry of entries) {
    const next = JSON.stringify([...kept, entry], null, 2);
    if (Buffer.byteLength(next) > ENVIRONMENT_MAX_BYTES) break;
    kept.push(entry);
  }
  return `${JSON.stringify(kept, null, 2)}\n`;
}

function payloadOf(
  content: ResultsContent,
  documents: Readonly<Record<string, string>>,
  logBytes: number,
  sampleCount: number,
): Omit<ResultsPayload, 'trimmed'> {
  const data: Record<string, string> = {
    [ResultsKeys.environment]: environmentJson(content.environment),
  };
  Object.assign(data, documents);
  const binaryData: Record<string, Uint8Array> = {};
  if (content.samples) {
    const all = content.samples.rows;
    // Shrinking keeps an evenly spread subset of an already uniform sample: still uniform.
    const step = all.length / Math.max(1, Math.min(sampleCount, all.length));
    const rows =
      sampleCount >= all.length
        ? all
        : Array.from({ length: sampleCount }, (_, i) => all[Math.floor(i * step)] as SampleRow);
    for (const metric of SAMPLE_METRICS)
      binaryData[ResultsKeys.sample(metric)] = packFloat32(rows.map((r) => r[metric]));
    binaryData[ResultsKeys.sampleStage] = Uint8Array.from(rows.map((r) => r.stage));
    const index: SamplesIndex = {
      ...content.samples.index,
      count: rows.length,
      method: rows.length < content.samples.index.measured ? 'reservoir' : content.samples.index.method,
    };
    data[ResultsKeys.samples] =
      `${JSON.stringify({ formatVersion: RESULTS_FORMAT_VERSION, ...index }, null, 2)}\n`;
  }
  const logs: LogsIndex = {};
  for (const tail of content.logs) {
    const text = tailBytes(tail.text, logBytes);
    data[ResultsKeys.log(tail.role)] = text;
    logs[tail.role] = { ...tail.info, truncated: tail.info.truncated || text.length < tail.text.length };
  }
  data[ResultsKeys.logs] = `${JSON.stringify(logs, null, 2)}\n`;
  return { data, binaryData, bytes: configMapPayloadBytes(data, binaryData) };
}

const sizeOf = (texts: Record<string, string>): number =>
  Object.values(texts).reduce((sum, text) => sum + Buffer.byteLength(text), 0);

/**
 * The JSON documents (summary, per-level stages) within their share: indented; else compact; else the
 * last ones replaced by a note saying where the whole is (the run's files on the cluster).
 */
function fitDocuments(
  documents: readonly [string, unknown][],
  share: number,
  trimmed: string[],
): Record<string, string> {
  const present = documents.filter(([, value]) => value !== undefined);
  const texts: Record<string, string> = Object.fromEntries(
    present.map(([key, value]) => [key, `${JSON.stringify(value, null, 2)}\n`]),
  );
  if (sizeOf(texts) <= share) return texts;
  for (const [key, value] of present) texts[key] = `${JSON.stringify(value)}\n`;
  if (present.length > 0) trimmed.push('JSON written without indentation');
  for (const [key] of [...present].reverse()) {
    if (sizeOf(texts) <= share) break;
    texts[key] =
      `${JSON.stringify({ omitted: `${Buffer.byteLength(texts[key] ?? '')} bytes, above this ConfigMap's share; read it in the run's files on the cluster` })}\n`;
    trimmed.push(`${key} omitted (too large)`);
  }
  return texts;
}

/**
 * data and binaryData of the ConfigMap, under CONFIGMAP_LIMIT_BYTES - SAFETY_MARGIN_BYTES whatever the input:
 * a summary too large for its share is written compact, then replaced by a note; should the total still be
 * over, the log tails shrink, then the sample.
 */
export function buildResultsPayload(content: ResultsContent): ResultsPayload {
  const budget = CONFIGMAP_LIMIT_BYTES - SAFETY_MARGIN_BYTES;
  const trimmed: string[] = [];
  const fixedShare =
    MAX_SAMPLES * (SAMPLE_METRICS.length * 4 + 1) +
    RESULTS_LOG_ROLES.length * LOG_TAIL_BYTES +
    ENVIRONMENT_MAX_BYTES +
    4 * 1024;
  const documents = fitDocuments(
    [
      [ResultsKeys.summary, content.summary],
      [ResultsKeys.stages, content.stages],
    ],
    budget - fixedShare,
    trimmed,
  );
  let logBytes = LOG_TAIL_BYTES;
  let sampleCount = content.samples?.rows.length ?? 0;
  let payload = payloadOf(content, documents, logBytes, sampleCount);
  while (payload.bytes > budget && logBytes > 1024) {
    logBytes = Math.floor(logBytes / 2);
    payload = payloadOf(content, documents, logBytes, sampleCount);
  }
  if (logBytes < LOG_TAIL_BYTES) trimmed.push(`log tails cut to ${logBytes} bytes`);
  while (payload.bytes > budget && sampleCount > 0) {
    sampleCount = Math.floor(sampleCount / 2);
    payload = payloadOf(content, documents, logBytes, sampleCount);
  }
  if (content.samples && sampleCount < content.samples.rows.length)
    trimmed.push(`samples cut to ${sampleCount}`);
  if (payload.bytes > budget)
    throw new Error(`results ConfigMap of ${payload.bytes} bytes cannot be made to fit`);
  return { ...payload, trimmed };
}
