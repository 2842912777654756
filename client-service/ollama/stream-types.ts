import type { ErrorKind, OllamaApi } from '../api-schema.js';
import type { ServerCounts, StreamTimings } from '../metrics.js';

/** What a generation request is, what it may be told, and what it comes back as. */

export interface GenerationRequest {
  model: string;
  api: OllamaApi;
  prompt: string;
  maxTokens?: number | undefined;
  temperature?: number | undefined;
  seed?: number | undefined;
  /** Sent as X-Request-Id so a synthetic server can pair its ground truth with our record. */
  requestId?: string | undefined;
}

export interface StreamOptions {
  timeoutMs: number;
  /** Aborts the request as `cancelled` (a run being cancelled). */
  signal?: AbortSignal | undefined;
  /** Keep the generated text (for /query); a benchmark does not need it. */
  collectText?: boolean;
}

/** The counters of Ollama's final chunk, in Ollama's own units (durations in ns). */
export interface FinalChunkCounts extends ServerCounts {
  promptEvalCount: number | null;
  promptEvalDurationNs: number | null;
  loadDurationNs: number | null;
  totalDurationNs: number | null;
  doneReason: string | null;
}

export interface StreamOutcome {
  ok: boolean;
  errorKind: ErrorKind | null;
  errorMessage: string | null;
  httpStatus: number | null;
  timings: StreamTimings;
  counts: FinalChunkCounts;
  text: string;
}

const ERROR_MESSAGE_CAP = 300;

/** Error messages in records stay short: a server's HTML error page is not a record. */
export function cap(text: string): string {
  return text.length > ERROR_MESSAGE_CAP ? `${text.slice(0, ERROR_MESSAGE_CAP)}…` : text;
}

export function emptyCounts(): FinalChunkCounts {
  return {
    evalCount: null,
    evalDurationNs: null,
    promptEvalCount: null,
    promptEvalDurationNs: null,
    loadDurationNs: null,
    totalDurationNs: null,
    doneReason: null,
  };
}

export function requestBody(req: GenerationRequest): string {
  const options: Record<string, number> = {};
  if (req.maxTokens !== undefined) options.num_predict = req.maxTokens;
  if (req.temperature !== undefined) options.temperature = req.temperature;
  if (req.seed !== undefined) options.seed = req.seed;
  const common = { model: req.model, stream: true, options };
  return JSON.stringify(
    req.api === 'generate'
      ? { ...common, prompt: req.prompt }
      : { ...common, messages: [{ role: 'user', content: req.prompt }] },
  );
}

export function errorCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = (err as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

export function errorText(err: unknown): string {
  const code = errorCode(err);
  const message = err instanceof Error ? err.message : String(err);
  return code !== undefined && !message.includes(code) ? `${code}: ${message}` : message;
}
