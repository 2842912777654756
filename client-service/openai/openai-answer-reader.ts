import type { OpenAiApi } from '../api-schema.js';
import type { StreamTimings } from '../metrics.js';
import type {
  AnswerReader,
  AnswerReaderFactory,
  FinalChunkCounts,
  GenerationRequest,
} from '../ollama/stream-types.js';
import { eventSourceParser, type SseEvent, type SseParser, type SseParserFactory } from './sse-parser.js';

/**
 * The OpenAI-compatible API (/v1/completions, /v1/chat/completions) streamed as server-sent events, as
 * vLLM, SGLang and llama.cpp's server speak it. A content chunk is one whose choices[0] carries text
 * (`text` for completions, `delta.content` for chat); the role-only first chunk of a chat answer is not
 * content. `data: [DONE]` is the final chunk. Output tokens come from the last `usage`
 * (stream_options.include_usage); a server that sends none leaves evalCount null, and the metrics count
 * content chunks instead, as they do for Ollama without eval_count.
 */

/** The request body: streamed, with the usage chunk asked for. */
export function openAiRequestBody(req: GenerationRequest): string {
  const body: Record<string, unknown> = { model: req.model };
  if ((req.openaiApi ?? 'completions') === 'completions') body.prompt = req.prompt;
  else body.messages = [{ role: 'user', content: req.prompt }];
  body.stream = true;
  body.stream_options = { include_usage: true };
  if (req.maxTokens !== undefined) body.max_tokens = req.maxTokens;
  if (req.temperature !== undefined) body.temperature = req.temperature;
  if (req.seed !== undefined) body.seed = req.seed;
  return JSON.stringify(body);
}

export function openAiPath(api: OpenAiApi): string {
  return api === 'completions' ? '/v1/completions' : '/v1/chat/completions';
}

function contentOf(api: OpenAiApi, choice: Record<string, unknown>): string {
  if (api === 'completions') return typeof choice.text === 'string' ? choice.text : '';
  const delta = choice.delta;
  if (typeof delta === 'object' && delta !== null && 'content' in delta) {
    const content = (delta as { content: unknown }).content;
    return typeof content === 'string' ? content : '';
  }
  return '';
}

/** The message of an OpenAI error object (`{"message": …}`), a string, or the JSON of anything else. */
function errorMessageOf(error: unknown): string {
  if (typeof error === 'string') return error;
  if (typeof error === 'object' && error !== null && 'message' in error) {
    const message = (error as { message: unknown }).message;
    if (typeof message === 'string') return message;
  }
  return JSON.stringify(error);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

export class OpenAiAnswerReader implements AnswerReader {
  streamError: string | null = null;
  text = '';
  private readonly parser: SseParser;
  /** The stamp of the read being parsed: events are dispatched synchronously from feed(). */
  private atMs = 0;

  constructor(
    private readonly api: OpenAiApi,
    private readonly timings: StreamTimings,
    private readonly counts: FinalChunkCounts,
    private readonly collectText: boolean,
    parserFactory: SseParserFactory,
  ) {
    this.parser = parserFactory(this.onEvent);
  }

  push(bytes: Buffer, atMs: number): void {
    if (this.streamError !== null || this.timings.doneMs !== null) return;
    this.atMs = atMs;
    this.parser.feed(bytes);
  }

  end(atMs: number): void {
    if (this.streamError !== null || this.timings.doneMs !== null) return;
    // Some servers close a finished answer without [DONE]: the end of the answer is then its final chunk.
    if (this.counts.doneReason !== null) this.timings.doneMs = atMs;
    else this.streamError = 'stream ended without data: [DONE]';
  }

  private readonly onEvent = (event: SseEvent): void => {
    if (this.streamError !== null || this.timings.doneMs !== null) return;
    if (event.event === 'error') {
      this.streamError = `error event: ${errorMessageOf(parseOrText(event.data))}`;
      return;
    }
    // Named events other than `error` are not part of the completions stream.
    if (event.event !== undefined && event.event !== 'message') return;
    if (event.data === '[DONE]') {
      this.timings.doneMs = this.atMs;
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(event.data);
    } catch {
      this.streamError = `unparsable data: ${event.data}`;
      return;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      this.streamError = `not a JSON object: ${event.data}`;
      return;
    }
    this.chunk(parsed as Record<string, unknown>);
  };

  private chunk(chunk: Record<string, unknown>): void {
    // An error after HTTP 200: {"error": {...}} (OpenAI, newer vLLM) or {"object": "error", ...} (older vLLM).
    if (chunk.error !== undefined && chunk.error !== null) {
      this.streamError = errorMessageOf(chunk.error);
      return;
    }
    if (chunk.object === 'error') {
      this.streamError = errorMessageOf(chunk);
      return;
    }
    const choices = chunk.choices;
    const choice: unknown = Array.isArray(choices) ? choices[0] : undefined;
    if (typeof choice === 'object' && choice !== null) {
      const c = choice as Record<string, unknown>;
      const content = contentOf(this.api, c);
      if (content.length > 0) {
        this.timings.contentChunkMs.push(this.atMs);
        if (this.collectText) this.text += content;
      }
      if (typeof c.finish_reason === 'string') this.counts.doneReason = c.finish_reason;
    }
    const usage = chunk.usage;
    if (typeof usage === 'object' && usage !== null) {
      const u = usage as Record<string, unknown>;
      const completion = u.completion_tokens;
      const prompt = u.prompt_tokens ?? null;
      if (!isCount(completion) || (prompt !== null && !isCount(prompt))) {
        this.streamError = `usage has bad counters: ${JSON.stringify(usage)}`;
        return;
      }
      // Servers that report usage on every chunk (vLLM's continuous_usage_stats) end with the total.
      this.counts.evalCount = completion;
      this.counts.promptEvalCount = prompt;
    }
  }
}

function parseOrText(data: string): unknown {
  try {
    const parsed: unknown = JSON.parse(data);
    if (typeof parsed === 'object' && parsed !== null && 'error' in parsed)
      return (parsed as { error: unknown }).error;
    return parsed;
  } catch {
    return data;
  }
}

/** The readers of both endpoints over one SSE parser (eventsource-parser unless a bench swaps it). */
export function openAiAnswerReaders(
  parserFactory: SseParserFactory = eventSourceParser,
): Record<OpenAiApi, AnswerReaderFactory> {
  return {
    completions: (timings, counts, collectText) =>
      new OpenAiAnswerReader('completions', timings, counts, collectText, parserFactory),
    chat: (timings, counts, collectText) =>
      new OpenAiAnswerReader('chat', timings, counts, collectText, parserFactory),
  };
}
