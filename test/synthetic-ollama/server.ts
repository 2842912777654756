import { z } from 'zod';
import { Http1Server, type HttpRequest, type HttpResponse, nowMs } from './http1.js';

/**
 * A synthetic token server that speaks Ollama's NDJSON API and the OpenAI-compatible SSE API
 * (/v1/completions, /v1/chat/completions): a measuring instrument for the client engine, never a
 * stand-in for Ollama in a test that claims to test Ollama. It streams tokens with configured delays and
 * stamps ground truth on CLOCK_MONOTONIC (process.hrtime), which is the same axis the engine uses, even
 * across processes on one machine.
 *
 * `receivedAtMs` is when the server first saw a byte of the request, and the first token is due
 * `firstTokenDelayMs` after that. The server speaks HTTP through a minimal node:net layer (http1.ts)
 * whose socket reads only stamp; with node:http a burst of 256 requests was stamped up to ~90 ms late,
 * because each request was parsed and answered before the next socket was even read.
 */

export const Behaviour = z.object({
  firstTokenDelayMs: z.number().min(0).default(20),
  /**
   * A uniform random extra in [0, firstTokenJitterMs) on each request's first-token delay. Real servers vary,
   * so closed-loop clients drift apart; with a constant delay they stay in lockstep and every round arrives
   * as one burst.
   */
  firstTokenJitterMs: z.number().min(0).default(0),
  interTokenDelayMs: z.number().min(0).default(5),
  tokenCount: z.number().int().min(0).default(16),
  /** After this many tokens, send `{"error": ...}` on the 200 stream and end it. */
  errorAfterTokens: z.number().int().min(0).nullable().default(null),
  /** After this many tokens, destroy the socket without a final chunk. */
  dropAfterTokens: z.number().int().min(0).nullable().default(null),
  /** Answer with this HTTP status and an `{"error"}` body instead of streaming. */
  httpStatus: z.number().int().min(200).max(599).nullable().default(null),
  /** Leave out eval_count/eval_duration from the final chunk (tests the chunk-count fallback). */
  omitCounts: z.boolean().default(false),
  /**
   * OpenAI answers: send no usage chunk even when stream_options.include_usage asks for one, as llama.cpp's
   * server does (tests the chunk-count fallback).
   */
  omitUsage: z.boolean().default(false),
});
export type Behaviour = z.infer<typeof Behaviour>;

export const SyntheticConfig = z.object({
  /**
   * At most this many answers at once (Ollama's OLLAMA_NUM_PARALLEL); beyond it requests wait in arrival
   * order, before their headers, as Ollama's scheduler holds them. Null: no limit.
   */
  maxParallel: z.number().int().positive().nullable().default(null),
  default: Behaviour.default(Behaviour.parse({})),
  /** Per-model behaviour; a request for any other model gets `default`. */
  models: z.record(z.string(), Behaviour).default({}),
});
export type SyntheticConfig = z.infer<typeof SyntheticConfig>;
export type SyntheticConfigInput = z.input<typeof SyntheticConfig>;

export interface GroundTruth {
  requestId: string | null;
  model: string;
  protocol: 'ollama' | 'openai';
  /** Ollama's generate or chat; OpenAI's completions or chat (completions). */
  api: 'generate' | 'chat' | 'completions';
  /** When the first byte of the request reached this process. */
  receivedAtMs: number;
  /** When its answer began: receivedAtMs, or later when it waited for one of maxParallel places. */
  startedAtMs: number | null;
  firstTokenAtMs: number | null;
  lastTokenAtMs: number | null;
  doneAtMs: number | null;
  tokensSent: number;
  outcome: 'done' | 'error' | 'dropped' | 'http_status' | 'client_closed';
}

export interface SyntheticStats {
  requestsReceived: number;
  openStreams: number;
  maxOpenStreams: number;
  /** Requests waiting for a place (maxParallel), now and at most. */
  waiting: number;
  maxWaiting: number;
  /**
   * Times the OS took the CPU from this process (getrusage ru_nivcsw) since it started: a sign that its
   * stamps may be late because the machine is busy, not because of the client.
   */
  involuntaryContextSwitches: number;
}

/** The same word list every time, so runs compare. */
const WORDS = ['the', ' quick', ' brown', ' fox', ' jumps', ' over', ' a', ' lazy', ' dog', '.'];

const GenerateBody = z.object({
  model: z.string(),
  prompt: z.string().optional(),
  messages: z.array(z.object({ role: z.string(), content: z.string() })).optional(),
  stream: z.boolean().optional(),
  options: z.object({ num_predict: z.number().int().optional() }).loose().optional(),
});

const OpenAiBody = z.object({
  model: z.string(),
  prompt: z.string().optional(),
  messages: z.array(z.object({ role: z.string(), content: z.string() })).optional(),
  stream: z.boolean().optional(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).loose().optional(),
  max_tokens: z.number().int().optional(),
});

/** What one request asked for, in either protocol. */
interface Asked {
  protocol: GroundTruth['protocol'];
  api: GroundTruth['api'];
  model: string;
  maxTokens: number | undefined;
  includeUsage: boolean;
}

/** How an answer is written: Ollama's NDJSON or OpenAI's server-sent events. */
interface Dialect {
  contentType: string;
  /** Written with the headers, before any token: OpenAI chat's role-only chunk, which is not content. */
  opening: string;
  token(content: string): string;
  error: string;
  final(done: { doneAt: number; doneReason: string; tokensSent: number; evalNs: number }): string;
}

function ollamaDialect(
  asked: Asked,
  behaviour: Behaviour,
  receivedAtMs: number,
  firstTokenDelayMs: number,
): Dialect {
  const createdAt = new Date().toISOString();
  const model = JSON.stringify(asked.model);
  return {
    contentType: 'application/x-ndjson',
    opening: '',
    token: (content) =>
      asked.api === 'generate'
        ? `{"model":${model},"created_at":"${createdAt}","response":${JSON.stringify(content)},"done":false}\n`
        : `{"model":${model},"created_at":"${createdAt}","message":{"role":"assistant","content":${JSON.stringify(content)}},"done":false}\n`,
    error: '{"error":"synthetic failure in the middle of the stream"}\n',
    final: ({ doneAt, doneReason, tokensSent, evalNs }) => {
      const final: Record<string, unknown> = {
        model: asked.model,
        created_at: new Date().toISOString(),
        ...(asked.api === 'generate' ? { response: '' } : { message: { role: 'assistant', content: '' } }),
        done: true,
        done_reason: doneReason,
        total_duration: Math.round((doneAt - receivedAtMs) * 1e6),
        load_duration: 1000,
        prompt_eval_count: 8,
        prompt_eval_duration: Math.round(firstTokenDelayMs * 1e6),
      };
      if (!behaviour.omitCounts) {
        final.eval_count = tokensSent;
        final.eval_duration = evalNs;
      }
      return `${JSON.stringify(final)}\n`;
    },
  };
}

let openAiAnswers = 0;

/** vLLM's shapes: a chunk per token, then the finish chunk, the usage chunk when asked, and [DONE]. */
function openAiDialect(asked: Asked, behaviour: Behaviour): Dialect {
  const chat = asked.api === 'chat';
  const head = `{"id":"${chat ? 'chatcmpl' : 'cmpl'}-${++openAiAnswers}","object":"${chat ? 'chat.completion.chunk' : 'text_completion'}","created":${Math.floor(Date.now() / 1000)},"model":${JSON.stringify(asked.model)}`;
  const choice = (content: string | null, finish: string | null): string =>
    chat
      ? `{"index":0,"delta":${content === null ? '{}' : `{"content":${JSON.stringify(content)}}`},"logprobs":null,"finish_reason":${JSON.stringify(finish)}}`
      : `{"index":0,"text":${JSON.stringify(content ?? '')},"logprobs":null,"finish_reason":${JSON.stringify(finish)}}`;
  return {
    contentType: 'text/event-stream',
    opening: chat
      ? `data: ${head},"choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}\n\n`
      : '',
    token: (content) => `data: ${head},"choices":[${choice(content, null)}]}\n\n`,
    error:
      'data: {"error":{"message":"synthetic failure in the middle of the stream","type":"server_error","code":500}}\n\n',
    final: ({ doneReason, tokensSent }) => {
      let text = `data: ${head},"choices":[${choice(null, doneReason)}]}\n\n`;
      if (asked.includeUsage && !behaviour.omitUsage)
        text += `data: ${head},"choices":[],"usage":{"prompt_tokens":8,"completion_tokens":${tokensSent},"total_tokens":${8 + tokensSent}}}\n\n`;
      return `${text}data: [DONE]\n\n`;
    },
  };
}

export class SyntheticOllama {
  private config: SyntheticConfig;
  private server: Http1Server | null = null;
  private readonly truths: GroundTruth[] = [];
  private readonly stats = {
    requestsReceived: 0,
    openStreams: 0,
    maxOpenStreams: 0,
    waiting: 0,
    maxWaiting: 0,
  };
  /** Answers holding one of the maxParallel places, and the requests waiting for one, oldest first. */
  private active = 0;
  private readonly queue: { start: () => void; gone: boolean }[] = [];

  constructor(config: SyntheticConfigInput = {}) {
    this.config = SyntheticConfig.parse(config);
  }

  configure(config: SyntheticConfigInput): void {
    this.config = SyntheticConfig.parse(config);
  }

  groundTruth(): readonly GroundTruth[] {
    return this.truths;
  }

  currentStats(): SyntheticStats {
    return { ...this.stats, involuntaryContextSwitches: process.resourceUsage().involuntaryContextSwitches };
  }

  reset(): void {
    this.truths.length = 0;
    this.stats.requestsReceived = 0;
    this.stats.maxOpenStreams = this.stats.openStreams;
    this.stats.maxWaiting = this.stats.waiting;
  }

  async listen(port = 0, host = '127.0.0.1'): Promise<string> {
    const server = new Http1Server((req, res) => this.handle(req, res));
    this.server = server;
    return `http://${host}:${await server.listen(port, host)}`;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (server === null) return;
    this.server = null;
    await server.close();
  }

  private handle(req: HttpRequest, res: HttpResponse): void {
    const url = new URL(req.path, 'http://synthetic');
    if (req.method === 'GET' && url.pathname === '/api/version') {
      res.json(200, { version: '0.0.0-synthetic' });
      return;
    }
    if (req.method === 'GET' && url.pathname === '/api/tags') {
      const names = ['synthetic', ...Object.keys(this.config.models)];
      res.json(200, { models: names.map((name) => ({ name, model: name, size: 0 })) });
      return;
    }
    if (req.method === 'GET' && url.pathname === '/_synthetic/stats') {
      res.json(200, this.currentStats());
      return;
    }
    if (req.method === 'GET' && url.pathname === '/_synthetic/ground-truth') {
      res.json(200, this.truths);
      return;
    }
    if (req.method === 'POST' && url.pathname === '/_synthetic/reset') {
      this.reset();
      res.json(200, { ok: true });
      return;
    }
    if (req.method === 'POST' && url.pathname === '/_synthetic/config') {
      const parsed = SyntheticConfig.safeParse(safeJson(req.body));
      if (!parsed.success) {
        res.json(400, { error: parsed.error.message });
        return;
      }
      this.config = parsed.data;
      res.json(200, this.config);
      return;
    }
    if (req.method === 'POST' && (url.pathname === '/api/generate' || url.pathname === '/api/chat')) {
      const api = url.pathname === '/api/generate' ? 'generate' : 'chat';
      const requestIdHeader = req.headers['x-ibo-request-id'] ?? req.headers['x-request-id'];
      const requestId = typeof requestIdHeader === 'string' ? requestIdHeader : null;
      const body = GenerateBody.safeParse(safeJson(req.body));
      if (!body.success) {
        res.json(400, { error: `bad request: ${body.error.issues[0]?.message}` });
        return;
      }
      const asked: Asked = {
        protocol: 'ollama',
        api,
        model: body.data.model,
        maxTokens: body.data.options?.num_predict,
        includeUsage: false,
      };
      this.stream(asked, requestId, req.receivedAtMs, res);
      return;
    }
    if (
      req.method === 'POST' &&
      (url.pathname === '/v1/completions' || url.pathname === '/v1/chat/completions')
    ) {
      const requestIdHeader = req.headers['x-ibo-request-id'] ?? req.headers['x-request-id'];
      const requestId = typeof requestIdHeader === 'string' ? requestIdHeader : null;
      const body = OpenAiBody.safeParse(safeJson(req.body));
      if (!body.success || body.data.stream !== true) {
        const message = body.success ? 'this server only streams' : body.error.issues[0]?.message;
        res.json(400, { error: { message: `bad request: ${message}`, type: 'invalid_request_error' } });
        return;
      }
      const asked: Asked = {
        protocol: 'openai',
        api: url.pathname === '/v1/completions' ? 'completions' : 'chat',
        model: body.data.model,
        maxTokens: body.data.max_tokens,
        includeUsage: body.data.stream_options?.include_usage === true,
      };
      this.stream(asked, requestId, req.receivedAtMs, res);
      return;
    }
    res.json(404, { error: 'not found' });
  }

  private stream(asked: Asked, requestId: string | null, receivedAtMs: number, res: HttpResponse): void {
    this.stats.requestsReceived++;
    const behaviour = this.config.models[asked.model] ?? this.config.default;
    const truth: GroundTruth = {
      requestId,
      model: asked.model,
      protocol: asked.protocol,
      api: asked.api,
      receivedAtMs,
      startedAtMs: null,
      firstTokenAtMs: null,
      lastTokenAtMs: null,
      doneAtMs: null,
      tokensSent: 0,
      outcome: 'client_closed',
    };
    this.truths.push(truth);
    if (behaviour.httpStatus !== null && behaviour.httpStatus !== 200) {
      truth.outcome = 'http_status';
      const message = `synthetic HTTP ${behaviour.httpStatus}`;
      res.json(
        behaviour.httpStatus,
        asked.protocol === 'openai' ? { error: { message, type: 'server_error' } } : { error: message },
      );
      return;
    }
    const limit = this.config.maxParallel;
    if (limit === null || this.active < limit) {
      this.active++;
      this.serve(asked, behaviour, truth, receivedAtMs, res);
      return;
    }
    const waiting = {
      gone: false,
      start: () => this.serve(asked, behaviour, truth, nowMs(), res),
    };
    this.queue.push(waiting);
    this.stats.waiting++;
    this.stats.maxWaiting = Math.max(this.stats.maxWaiting, this.stats.waiting);
    // A client that hangs up while waiting gives up its turn.
    res.onDone(() => {
      if (waiting.gone) return;
      waiting.gone = true;
      this.stats.waiting--;
    });
  }

  /** Gives a place back and starts the oldest request still waiting for one. */
  private release(): void {
    this.active--;
    const limit = this.config.maxParallel;
    while (this.queue.length > 0 && (limit === null || this.active < limit)) {
      const next = this.queue.shift() as { start: () => void; gone: boolean };
      if (next.gone) continue;
      next.gone = true;
      this.stats.waiting--;
      this.active++;
      next.start();
    }
  }

  private serve(
    asked: Asked,
    behaviour: Behaviour,
    truth: GroundTruth,
    startedAtMs: number,
    res: HttpResponse,
  ): void {
    const receivedAtMs = truth.receivedAtMs;
    truth.startedAtMs = startedAtMs;
    const cap = asked.maxTokens;
    const tokens = cap !== undefined && cap >= 0 ? Math.min(cap, behaviour.tokenCount) : behaviour.tokenCount;
    const doneReason = cap !== undefined && cap < behaviour.tokenCount ? 'length' : 'stop';

    this.stats.openStreams++;
    this.stats.maxOpenStreams = Math.max(this.stats.maxOpenStreams, this.stats.openStreams);
    let open = true;
    let timer: NodeJS.Timeout | null = null;
    const finish = (): void => {
      if (!open) return;
      open = false;
      this.stats.openStreams--;
      if (timer !== null) clearTimeout(timer);
      this.release();
    };
    res.onDone(finish);
    const firstTokenDelayMs = behaviour.firstTokenDelayMs + Math.random() * behaviour.firstTokenJitterMs;
    const dialect =
      asked.protocol === 'openai'
        ? openAiDialect(asked, behaviour)
        : ollamaDialect(asked, behaviour, receivedAtMs, firstTokenDelayMs);
    // Send the headers now, as Ollama does, so the client's TTFT is about the first token only.
    res.startStream(200, dialect.contentType);
    res.write(dialect.opening);

    const sendNext = (): void => {
      timer = null;
      if (!open) return;
      if (behaviour.errorAfterTokens !== null && truth.tokensSent >= behaviour.errorAfterTokens) {
        truth.outcome = 'error';
        res.end(dialect.error);
        return;
      }
      if (behaviour.dropAfterTokens !== null && truth.tokensSent >= behaviour.dropAfterTokens) {
        truth.outcome = 'dropped';
        res.destroy();
        return;
      }
      if (truth.tokensSent < tokens) {
        // Stamped just before the write: the client cannot see the token earlier, so a measured error is
        // never negative because the server lost the CPU between writing and stamping.
        const at = nowMs();
        res.write(dialect.token(WORDS[truth.tokensSent % WORDS.length] as string));
        truth.tokensSent++;
        truth.firstTokenAtMs ??= at;
        truth.lastTokenAtMs = at;
        timer = setTimeout(sendLater, behaviour.interTokenDelayMs);
        return;
      }
      const doneAt = nowMs();
      const evalNs = Math.round(
        ((truth.lastTokenAtMs ?? doneAt) - (truth.firstTokenAtMs ?? doneAt) + behaviour.interTokenDelayMs) *
          1e6,
      );
      truth.doneAtMs = doneAt;
      truth.outcome = 'done';
      res.end(dialect.final({ doneAt, doneReason, tokensSent: truth.tokensSent, evalNs }));
    };
    // Token writes wait their turn behind the stamping of arriving requests (see SlicedWork).
    const server = this.server;
    const sendLater = (): void => {
      timer = null;
      if (server === null) sendNext();
      else server.defer(sendNext);
    };
    // Due firstTokenDelayMs after its answer began (its arrival, unless it waited for a place), however
    // long it then waited for its turn here.
    // A token must never come before it is due, but Node truncates fractional delays and starts timers
    // from a loop time that can be a few ms stale: wait again for whatever is left.
    const due = startedAtMs + firstTokenDelayMs;
    const whenDue = (): void => {
      const left = due - nowMs();
      if (left > 0) timer = setTimeout(whenDue, Math.ceil(left));
      else sendLater();
    };
    timer = setTimeout(whenDue, Math.max(0, Math.ceil(due - nowMs())));
  }
}

function safeJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}
