import type { Distribution, ErrorCounts, RequestRecord, RunSummary, TokenQuantiles } from './api-schema.js';

/**
 * Every formula of the results (docs/architecture.md#results), in one place, used by the per-request records and by
 * the summary alike. A value that cannot be computed is null, never 0. Units are in the names.
 */

/** What the stream reader observed for one request, on the monotonic clock (ms). */
export interface StreamTimings {
  /** Just before the request was written to its connection, not when it was queued. */
  sentMs: number;
  /** Arrival of each chunk that carried content, in order. */
  contentChunkMs: number[];
  /** Arrival of the final (done) chunk; null when the stream never finished. */
  doneMs: number | null;
}

/**
 * Counters the server reports: Ollama's final chunk (nanoseconds, as Ollama reports them), or an
 * OpenAI-compatible server's usage chunk, which gives evalCount (completion_tokens) and no duration.
 */
export interface ServerCounts {
  evalCount: number | null;
  evalDurationNs: number | null;
}

export interface RequestMetrics {
  ttftMs: number | null;
  e2eMs: number | null;
  itlsMs: number[];
  itlMeanMs: number | null;
  itlMaxMs: number | null;
  tpotMs: number | null;
  outputTokens: number | null;
  outputTokensSource: 'server' | 'chunks' | null;
  decodeTps: number | null;
  clientTps: number | null;
}

export function requestMetrics(t: StreamTimings, server: ServerCounts): RequestMetrics {
  const first = t.contentChunkMs[0];
  // ttft: request sent → first chunk with content.
  const ttftMs = first === undefined ? null : first - t.sentMs;
  // e2e: request sent → final chunk received.
  const e2eMs = t.doneMs === null ? null : t.doneMs - t.sentMs;
  // itl: gaps between consecutive content chunks.
  const itlsMs: number[] = [];
  for (let i = 1; i < t.contentChunkMs.length; i++) {
    itlsMs.push((t.contentChunkMs[i] as number) - (t.contentChunkMs[i - 1] as number));
  }
  // Server-reported token counts win (inference-perf does the same); chunks are the fallback.
  let outputTokens: number | null = null;
  let outputTokensSource: 'server' | 'chunks' | null = null;
  if (server.evalCount !== null) {
    outputTokens = server.evalCount;
    outputTokensSource = 'server';
  } else if (t.doneMs !== null) {
    outputTokens = t.contentChunkMs.length;
    outputTokensSource = 'chunks';
  }
  // tpot: (e2e − ttft) / (output tokens − 1); undefined for a single token.
  const tpotMs =
    e2eMs !== null && ttftMs !== null && outputTokens !== null && outputTokens > 1
      ? (e2eMs - ttftMs) / (outputTokens - 1)
      : null;
  // decodeTps: eval_count / eval_duration, both as Ollama reports them.
  const decodeTps =
    server.evalCount !== null && server.evalDurationNs !== null && server.evalDurationNs > 0
      ? server.evalCount / (server.evalDurationNs / 1e9)
      : null;
  // clientTps: eval_count / e2e, the old system's "TPS", kept so numbers compare.
  const clientTps =
    server.evalCount !== null && e2eMs !== null && e2eMs > 0 ? server.evalCount / (e2eMs / 1000) : null;
  return {
    ttftMs,
    e2eMs,
    itlsMs,
    itlMeanMs: itlsMs.length === 0 ? null : mean(itlsMs),
    itlMaxMs: itlsMs.length === 0 ? null : Math.max(...itlsMs),
    tpotMs,
    outputTokens,
    outputTokensSource,
    decodeTps,
    clientTps,
  };
}

export function mean(values: readonly number[]): number {
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/** Percentile with linear interpolation between closest ranks (numpy's default), on sorted input. */
export function percentileOfSorted(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new Error('percentile of nothing');
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (b - a) * (rank - lo);
}

/** Mean and percentiles; every field null when there is no value (null, never 0). */
export function distribution(values: readonly number[]): Distribution {
  if (values.length === 0) return { mean: null, p50: null, p90: null, p95: null, p99: null };
  const sorted = Array.from(Float64Array.from(values).sort());
  return {
    mean: mean(sorted),
    p50: percentileOfSorted(sorted, 50),
    p90: percentileOfSorted(sorted, 90),
    p95: percentileOfSorted(sorted, 95),
    p99: percentileOfSorted(sorted, 99),
  };
}

export function emptyErrorCounts(): ErrorCounts {
  return { timeout: 0, httpStatus: 0, streamError: 0, connection: 0 };
}

/** A record plus the raw inter-token gaps, which the summary pools across requests. */
export interface MeasuredRequest {
  record: RequestRecord;
  itlsMs: readonly number[];
}

export interface WindowInfo {
  runId: string;
  /** Start of the measured window (after warmup), monotonic ms; null before it opened. */
  windowStartMs: number | null;
  /** End of the window: the last measured request's end, or "now" for a live view. */
  windowEndMs: number | null;
  openLoop: boolean;
  /**
   * The measured time when it is not one interval: a sweep's pooled figures count the sum of its levels'
   * windows, not the warmups and levels between them. Overrides windowStartMs..windowEndMs.
   */
  wallTimeSeconds?: number | null;
}

/** The summary of the measured window; warmup requests are skipped everywhere. */
export function summarize(requests: readonly MeasuredRequest[], window: WindowInfo): RunSummary {
  const errors = emptyErrorCounts();
  const ttft: number[] = [];
  const itl: number[] = [];
  const tpot: number[] = [];
  const e2e: number[] = [];
  const decode: number[] = [];
  const client: number[] = [];
  const lag: number[] = [];
  let sent = 0;
  let succeeded = 0;
  let failed = 0;
  let warmup = 0;
  let outputTokens = 0;
  let promptTokens = 0;
  let estimatedOutputRequests = 0;
  const promptPerRequest: number[] = [];
  const outputPerRequest: number[] = [];
  for (const { record: r, itlsMs } of requests) {
    if (r.warmup) {
      warmup++;
      continue;
    }
    sent++;
    lag.push(r.startLagMs);
    if (r.errorKind === 'cancelled') continue;
    if (!r.ok) {
      failed++;
      if (r.errorKind === 'timeout') errors.timeout++;
      else if (r.errorKind === 'http_status') errors.httpStatus++;
      else if (r.errorKind === 'stream_error') errors.streamError++;
      else if (r.errorKind === 'connection') errors.connection++;
      continue;
    }
    succeeded++;
    if (r.ttftMs !== null) ttft.push(r.ttftMs);
    if (r.e2eMs !== null) e2e.push(r.e2eMs);
    if (r.tpotMs !== null) tpot.push(r.tpotMs);
    if (r.decodeTps !== null) decode.push(r.decodeTps);
    if (r.clientTps !== null) client.push(r.clientTps);
    for (const gap of itlsMs) itl.push(gap);
    outputTokens += r.outputTokens ?? 0;
    promptTokens += r.promptEvalCount ?? 0;
    if (r.promptEvalCount !== null) promptPerRequest.push(r.promptEvalCount);
    if (r.outputTokens !== null) outputPerRequest.push(r.outputTokens);
    if (r.outputTokensSource === 'chunks') estimatedOutputRequests++;
  }
  const wallTimeSeconds =
    window.wallTimeSeconds !== undefined
      ? window.wallTimeSeconds !== null && window.wallTimeSeconds > 0
        ? window.wallTimeSeconds
        : null
      : window.windowStartMs !== null &&
          window.windowEndMs !== null &&
          window.windowEndMs > window.windowStartMs
        ? (window.windowEndMs - window.windowStartMs) / 1000
        : null;
  const summary: RunSummary = {
    runId: window.runId,
    counts: { requests: sent, succeeded, failed, warmup },
    tokens: {
      output: outputTokens,
      prompt: promptTokens,
      estimatedOutputRequests,
      // The real input and output lengths, as the server counted them (a dataset's own estimate aside).
      promptPerRequest: tokenQuantiles(promptPerRequest),
      outputPerRequest: tokenQuantiles(outputPerRequest),
    },
    wallTimeSeconds,
    // requestsPerSecond: completed requests / wall time of the window.
    requestsPerSecond: wallTimeSeconds === null ? null : succeeded / wallTimeSeconds,
    // outputTokensPerSecond: Σ eval_count / wall time of the window.
    outputTokensPerSecond: wallTimeSeconds === null ? null : outputTokens / wallTimeSeconds,
    ttftMs: distribution(ttft),
    itlMs: distribution(itl),
    tpotMs: distribution(tpot),
    e2eMs: distribution(e2e),
    decodeTps: distribution(decode),
    clientTps: distribution(client),
    errors,
  };
  if (window.openLoop) summary.scheduleLagMs = distribution(lag);
  return summary;
}

/** p50, p90 and p99 of per-request token counts (null when none was counted). */
export function tokenQuantiles(values: readonly number[]): TokenQuantiles {
  const { p50, p90, p99 } = distribution(values);
  return { p50, p90, p99 };
}

/** Actual − scheduled start of every measured request. */
export function startLag(requests: readonly MeasuredRequest[]): Distribution {
  return distribution(requests.filter((m) => !m.record.warmup).map((m) => m.record.startLagMs));
}
