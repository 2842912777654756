import type { ClientProtocol, ErrorKind, OllamaApi, OpenAiApi } from '../api-schema.js';
import type { ServerCounts, StreamTimings } from '../metrics.js';

/** What a generation request is, what it may be told, and what it comes back as. */

export interface GenerationRequest {
  model: string;
  /** 'ollama' (NDJSON, the default) or 'openai' (server-sent events). */
  protocol?: ClientProtocol | undefined;
  /** Ollama's endpoint: /api/generate (the default) or /api/chat. */
  api?: OllamaApi | undefined;
  /** The OpenAI endpoint: /v1/completions (the default) or /v1/chat/completions. */
  openaiApi?: OpenAiApi | undefined;
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

/**
 * Reads one streamed answer body into timings, counts and text, as its bytes arrive. Each protocol has
 * one (Ollama's NDJSON, OpenAI's server-sent events); the transport and the stamping are shared.
 */
export interface AnswerReader {
  /** Set once the answer is known to be bad; the request then ends as `stream_error`. */
  readonly streamError: string | null;
  readonly text: string;
  /** `bytes` is a view of a reused buffer, valid only during the call; `atMs` is when it was read. */
  push(bytes: Buffer, atMs: number): void;
  /** The HTTP answer ended at `atMs`: reads what is left, and sets streamError if the answer is incomplete. */
  end(atMs: number): void;
}

export type AnswerReaderFactory = (
  timings: StreamTimings,
  counts: FinalChunkCounts,
  collectText: boolean,
) => AnswerReader;

/**
 * The counters of the final chunk, in Ollama's own units (durations in ns). An OpenAI-compatible server
 * fills evalCount and promptEvalCount from its usage chunk and doneReason from finish_reason; it has no
 * durations.
 */
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

/** Ollama's request body: options.num_predict, temperature and seed. */
export function ollamaRequestBody(req: GenerationRequest): string {
  const options: Record<string, number> = {};
  if (req.maxTokens !== undefined) options.num_predict = req.maxTokens;
  if (req.temperature !== undefined) options.temperature = req.temperature;
  if (req.seed !== undefined) options.seed = req.seed;
  const common = { model: req.model, stream: true, options };
  return JSON.stringify(
    (req.api ?? 'generate') === 'generate'
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
