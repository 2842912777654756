import { z } from 'zod';

/**
 * The results summary of one run. The client-service computes it (client-service/metrics.ts, formulas in
 * docs/architecture.md#results), writes it as JSON next to the job's logs, and the operator copies it
 * verbatim into InferenceBenchmark status.results. This file is the contract between them: field names,
 * units in the names, and null (never 0) when a value cannot be computed (no successful request, a single
 * token, …). Only the measured window counts; warmup requests are excluded everywhere.
 */

const nullableNumber = (description: string) => z.number().nullable().describe(description);

/** Distribution of one per-request quantity over the successful requests of the window. */
export const Distribution = z
  .object({
    mean: nullableNumber('Arithmetic mean; null when no request gave a value.'),
    p50: nullableNumber('Median (50th percentile).'),
    p90: nullableNumber('90th percentile.'),
    p95: nullableNumber('95th percentile.'),
    p99: nullableNumber('99th percentile.'),
  })
  .describe('Mean and percentiles; each null when it cannot be computed.');
export type Distribution = z.infer<typeof Distribution>;

const count = (description: string) => z.number().int().min(0).describe(description);

/** p50, p90 and p99 of a per-request token count; null when no request reported one. */
export const TokenQuantiles = z
  .object({
    p50: nullableNumber('Median.'),
    p90: nullableNumber('90th percentile.'),
    p99: nullableNumber('99th percentile.'),
  })
  .describe('Percentiles of tokens per request; each null when no request reported a count.');
export type TokenQuantiles = z.infer<typeof TokenQuantiles>;

export const ErrorCounts = z
  .object({
    timeout: count('Requests that hit workload.requestTimeoutSeconds.'),
    httpStatus: count('Requests answered with a non-2xx HTTP status.'),
    streamError: count('Streams that carried an {"error": …} object or ended without a final chunk.'),
    connection: count('Requests that failed to connect or lost the connection.'),
  })
  .describe('Failed requests of the measured window by kind.');
export type ErrorCounts = z.infer<typeof ErrorCounts>;

export const BenchmarkResults = z
  .object({
    runId: z
      .string()
      .max(128)
      .optional()
      .describe('Run these results belong to (the benchmark uid and generation).'),
    counts: z
      .object({
        requests: count('Requests sent in the measured window (warmup excluded).'),
        succeeded: count('Requests that completed with a final chunk.'),
        failed: count('Requests that failed; errors has them by kind.'),
        warmup: count('Warmup requests sent before the window and excluded from every figure.'),
      })
      .describe('Request counts.'),
    tokens: z
      .object({
        output: count('Sum of output tokens (eval_count) over successful requests.'),
        prompt: count('Sum of prompt tokens (prompt_eval_count) over successful requests.'),
        estimatedOutputRequests: count(
          'Requests whose output token count was estimated from the stream because the server reported none.',
        ),
        promptPerRequest: TokenQuantiles.optional().describe(
          'Prompt tokens per successful request as the server counted them (prompt_eval_count, usage.prompt_tokens): the real input length distribution.',
        ),
        outputPerRequest: TokenQuantiles.optional().describe(
          'Output tokens per successful request (server counts, chunk counts as the fallback): the real output length distribution.',
        ),
      })
      .describe('Token counts; server-reported counts win over estimates.'),
    wallTimeSeconds: nullableNumber('Wall time of the measured window: first request sent to last response.'),
    requestsPerSecond: nullableNumber('Completed requests divided by the wall time of the window.'),
    outputTokensPerSecond: nullableNumber('Sum of output tokens divided by the wall time of the window.'),
    ttftMs: Distribution.describe('Time to first token: request sent to first chunk with content, in ms.'),
    itlMs: Distribution.describe('Inter-token latency: gaps between consecutive content chunks, in ms.'),
    tpotMs: Distribution.describe('Time per output token: (e2e - ttft) / (output tokens - 1), in ms.'),
    e2eMs: Distribution.describe('End-to-end latency: request sent to final chunk, in ms.'),
    decodeTps: Distribution.describe(
      'Decode speed per request as Ollama reports it: eval_count / eval_duration.',
    ),
    clientTps: Distribution.describe(
      'Tokens per second per request as the client sees it: eval_count / e2e (the TPS figure of the old system).',
    ),
    scheduleLagMs: Distribution.optional().describe(
      "Open loop only: actual minus scheduled start of each request, the load generator's own lag, in ms.",
    ),
    errors: ErrorCounts,
  })
  .describe('Summary of the measured window, written once the run finished.');
export type BenchmarkResults = z.infer<typeof BenchmarkResults>;

/** The keys of the per-request distributions, for code that walks them (tables, printers, Prometheus). */
export const DISTRIBUTION_KEYS = ['ttftMs', 'itlMs', 'tpotMs', 'e2eMs', 'decodeTps', 'clientTps'] as const;
