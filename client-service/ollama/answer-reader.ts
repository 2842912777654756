import { z } from 'zod';
import type { OllamaApi } from '../api-schema.js';
import type { StreamTimings } from '../metrics.js';
import { NdjsonLineSplitter } from './ndjson.js';
import type { AnswerReader, AnswerReaderFactory, FinalChunkCounts } from './stream-types.js';

const FinalChunk = z.object({
  eval_count: z.number().int().nonnegative().optional(),
  eval_duration: z.number().nonnegative().optional(),
  prompt_eval_count: z.number().int().nonnegative().optional(),
  prompt_eval_duration: z.number().nonnegative().optional(),
  load_duration: z.number().nonnegative().optional(),
  total_duration: z.number().nonnegative().optional(),
  done_reason: z.string().optional(),
});

function contentOf(api: OllamaApi, line: Record<string, unknown>): string {
  if (api === 'generate') {
    return typeof line.response === 'string' ? line.response : '';
  }
  const message = line.message;
  if (typeof message === 'object' && message !== null && 'content' in message) {
    const content = (message as { content: unknown }).content;
    return typeof content === 'string' ? content : '';
  }
  return '';
}

/** Reads the NDJSON lines of one Ollama answer into timings, counts and text. */
export class OllamaAnswerReader implements AnswerReader {
  private readonly splitter = new NdjsonLineSplitter();
  streamError: string | null = null;
  text = '';

  constructor(
    private readonly api: OllamaApi,
    private readonly timings: StreamTimings,
    private readonly counts: FinalChunkCounts,
    private readonly collectText: boolean,
  ) {}

  push(bytes: Buffer, atMs: number): void {
    for (const line of this.splitter.push(bytes)) this.line(line, atMs);
  }

  end(atMs: number): void {
    const rest = this.splitter.flush();
    if (rest !== null) this.line(rest, atMs);
    if (this.streamError === null && this.timings.doneMs === null)
      this.streamError = 'stream ended without a final chunk (done: true)';
  }

  private line(line: string, atMs: number): void {
    if (this.streamError !== null || this.timings.doneMs !== null) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      this.streamError = `unparsable line: ${line}`;
      return;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      this.streamError = `not a JSON object: ${line}`;
      return;
    }
    const obj = parsed as Record<string, unknown>;
    // Ollama reports a failure mid-stream as {"error": ...} with HTTP 200 already sent.
    if (obj.error !== undefined) {
      this.streamError = typeof obj.error === 'string' ? obj.error : JSON.stringify(obj.error);
      return;
    }
    const content = contentOf(this.api, obj);
    if (content.length > 0) {
      this.timings.contentChunkMs.push(atMs);
      if (this.collectText) this.text += content;
    }
    if (obj.done === true) {
      this.timings.doneMs = atMs;
      const final = FinalChunk.safeParse(obj);
      if (!final.success) {
        this.streamError = `final chunk has bad counters: ${final.error.issues[0]?.message ?? ''}`;
        return;
      }
      const c = this.counts;
      c.evalCount = final.data.eval_count ?? null;
      c.evalDurationNs = final.data.eval_duration ?? null;
      c.promptEvalCount = final.data.prompt_eval_count ?? null;
      c.promptEvalDurationNs = final.data.prompt_eval_duration ?? null;
      c.loadDurationNs = final.data.load_duration ?? null;
      c.totalDurationNs = final.data.total_duration ?? null;
      c.doneReason = final.data.done_reason ?? null;
    }
  }
}

const FACTORIES: Record<OllamaApi, AnswerReaderFactory> = {
  generate: (timings, counts, collectText) =>
    new OllamaAnswerReader('generate', timings, counts, collectText),
  chat: (timings, counts, collectText) => new OllamaAnswerReader('chat', timings, counts, collectText),
};

/** The reader of /api/generate or /api/chat answers. */
export function ollamaAnswerReader(api: OllamaApi): AnswerReaderFactory {
  return FACTORIES[api];
}
