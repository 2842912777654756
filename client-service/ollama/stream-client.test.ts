import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionPool } from './connection-pool.js';
import { createConnectionPool, requestIdHeader, StreamClient } from './stream-client.js';

/** A loopback server that writes exactly the bytes a case asks for, split into awkward chunks. */
type Script = (res: ServerResponse) => void;
const scripts = new Map<string, Script>();
/** What each request (by X-Request-Id) asked for. */
const seen = new Map<string, { path: string; body: string }>();
let server: Server;
let client: StreamClient;
let agent: ConnectionPool;
let baseUrl: string;

function writeSplit(res: ServerResponse, text: string, pieces: number[]): void {
  const bytes = Buffer.from(text, 'utf8');
  let at = 0;
  const next = (): void => {
    const size = pieces.shift();
    if (size === undefined) {
      if (at < bytes.length) res.write(bytes.subarray(at));
      res.end();
      return;
    }
    res.write(bytes.subarray(at, at + size));
    at += size;
    setTimeout(next, 2);
  };
  next();
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const body: Buffer[] = [];
    req.on('data', (c: Buffer) => body.push(c));
    req.on('end', () => {
      seen.set(String(req.headers['x-ibo-request-id']), {
        path: req.url ?? '',
        body: Buffer.concat(body).toString('utf8'),
      });
      const script = scripts.get(String(req.headers['x-ibo-request-id']));
      if (script === undefined) {
        res.writeHead(404).end();
        return;
      }
      script(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  agent = createConnectionPool(baseUrl, 8);
  client = new StreamClient(baseUrl, agent);
});

afterAll(async () => {
  await agent.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const FINAL =
  '{"done":true,"done_reason":"stop","eval_count":3,"eval_duration":30000000,"prompt_eval_count":4}\n';
const tokens = ['{"response":"Hé"}\n', '{"response":"llo 🌍"}\n', '{"response":"!"}\n'].join('');

async function stream(id: string, script: Script, timeoutMs = 5000, api: 'generate' | 'chat' = 'generate') {
  scripts.set(id, script);
  return client.generate({ model: 'm', api, prompt: 'p', requestId: id }, { timeoutMs, collectText: true });
}

describe('StreamClient', () => {
  it('reads a stream split inside lines and inside UTF-8 characters', async () => {
    const out = await stream('split', (res) => {
      res.writeHead(200);
      writeSplit(res, tokens + FINAL, [1, 3, 5, 2, 7, 11, 1, 1, 1]);
    });
    expect(out.ok).toBe(true);
    expect(out.text).toBe('Héllo 🌍!');
    expect(out.timings.contentChunkMs.length).toBeGreaterThanOrEqual(1);
    expect(out.counts).toMatchObject({
      evalCount: 3,
      evalDurationNs: 30_000_000,
      promptEvalCount: 4,
      doneReason: 'stop',
    });
  });

  it("stamps 'sent' when the request is written, not when it was asked for", async () => {
    // One connection: the second request waits in the pool until the first answer is complete.
    const single = createConnectionPool(baseUrl, 1);
    const queued = new StreamClient(baseUrl, single);
    scripts.set('busy-first', (res) => {
      res.writeHead(200);
      setTimeout(() => res.end(tokens + FINAL), 100);
    });
    scripts.set('busy-second', (res) => {
      res.writeHead(200);
      res.end(tokens + FINAL);
    });
    try {
      const ask = (id: string) =>
        queued.generate({ model: 'm', api: 'generate', prompt: 'p', requestId: id }, { timeoutMs: 5000 });
      const [first, second] = await Promise.all([ask('busy-first'), ask('busy-second')]);
      expect(first.ok && second.ok).toBe(true);
      expect(second.timings.sentMs).toBeGreaterThanOrEqual(first.timings.doneMs as number);
      // TTFT of the second is its own, not the 100 ms it waited for the connection.
      expect((second.timings.contentChunkMs[0] as number) - second.timings.sentMs).toBeLessThan(100);
    } finally {
      await single.close();
    }
  });

  it('reads chat messages', async () => {
    const out = await stream(
      'chat',
      (res) => {
        res.writeHead(200);
        res.end(
          '{"message":{"role":"assistant","content":"a"}}\n{"message":{"role":"assistant","content":"b"}}\n' +
            FINAL,
        );
      },
      5000,
      'chat',
    );
    expect(out.ok).toBe(true);
    expect(out.text).toBe('ab');
  });

  it('classifies an {"error"} line after HTTP 200 as a stream error, with its message', async () => {
    const out = await stream('error-line', (res) => {
      res.writeHead(200);
      writeSplit(res, '{"response":"a"}\n{"error":"model runner crashed"}\n', [10, 4]);
    });
    expect(out).toMatchObject({
      ok: false,
      errorKind: 'stream_error',
      errorMessage: 'model runner crashed',
      httpStatus: 200,
    });
  });

  it('classifies a stream that ends without done:true as a stream error', async () => {
    const out = await stream('no-final', (res) => {
      res.writeHead(200);
      res.end('{"response":"a"}\n');
    });
    expect(out.errorKind).toBe('stream_error');
  });

  it('classifies a line that is not JSON as a stream error', async () => {
    const out = await stream('garbage', (res) => {
      res.writeHead(200);
      res.end('<html>proxy error</html>\n');
    });
    expect(out.errorKind).toBe('stream_error');
  });

  it('classifies a non-200 answer as http_status and keeps the body', async () => {
    const out = await stream('404', (res) => {
      res.writeHead(404);
      res.end('{"error":"model \\"m\\" not found"}');
    });
    expect(out).toMatchObject({ ok: false, errorKind: 'http_status', httpStatus: 404 });
    expect(out.errorMessage).toContain('not found');
  });

  it('classifies a connection cut mid-stream as a connection error', async () => {
    const out = await stream('cut', (res) => {
      res.writeHead(200);
      res.write('{"response":"a"}\n');
      setTimeout(() => res.socket?.destroy(), 10);
    });
    expect(out.errorKind).toBe('connection');
  });

  it('classifies a server that stops sending as a timeout, after the timeout', async () => {
    const out = await stream(
      'stall',
      (res) => {
        res.writeHead(200);
        res.write('{"response":"a"}\n');
      },
      200,
    );
    expect(out.errorKind).toBe('timeout');
    expect(out.timings.contentChunkMs).toHaveLength(1);
  });

  it('reports a cancelled run as cancelled, not as a timeout or connection error', async () => {
    scripts.set('cancel', (res) => {
      res.writeHead(200);
      res.write('{"response":"a"}\n');
    });
    const controller = new AbortController();
    const pending = client.generate(
      { model: 'm', api: 'generate', prompt: 'p', requestId: 'cancel' },
      { timeoutMs: 5000, signal: controller.signal },
    );
    setTimeout(() => controller.abort(), 50);
    expect((await pending).errorKind).toBe('cancelled');
  });

  it('classifies a refused connection as a connection error', async () => {
    const refused = new StreamClient('http://127.0.0.1:9', createConnectionPool('http://127.0.0.1:9', 1));
    const out = await refused.generate({ model: 'm', api: 'generate', prompt: 'p' }, { timeoutMs: 2000 });
    expect(out.errorKind).toBe('connection');
    expect(out.errorMessage).toContain('ECONNREFUSED');
  });
});

describe('StreamClient with protocol openai', () => {
  const sse = (text: string, finish: string | null = null): string =>
    `data: {"choices":[{"index":0,"text":${JSON.stringify(text)},"finish_reason":${JSON.stringify(finish)}}]}\n\n`;
  const ask = (id: string, script: Script, openaiApi: 'completions' | 'chat' = 'completions') => {
    scripts.set(id, script);
    return client.generate(
      { model: 'm', protocol: 'openai', openaiApi, prompt: 'p', maxTokens: 8, requestId: id },
      { timeoutMs: 5000, collectText: true },
    );
  };

  it('posts to /v1/completions over the same pool and reads the usage chunk', async () => {
    const out = await ask('oa-ok', (res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      writeSplit(
        res,
        `${sse('Hé')}${sse('llo', 'stop')}data: {"choices":[],"usage":{"prompt_tokens":4,"completion_tokens":2}}\n\ndata: [DONE]\n\n`,
        [1, 3, 5, 2, 7, 11, 1, 1, 1],
      );
    });
    expect(seen.get('oa-ok')?.path).toBe('/v1/completions');
    expect(JSON.parse(seen.get('oa-ok')?.body ?? '{}')).toMatchObject({
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: 8,
    });
    expect(out).toMatchObject({ ok: true, text: 'Héllo', errorKind: null });
    expect(out.counts).toMatchObject({ evalCount: 2, promptEvalCount: 4, doneReason: 'stop' });
    expect(out.timings.doneMs).not.toBeNull();
  });

  it('posts chat to /v1/chat/completions', async () => {
    const out = await ask(
      'oa-chat',
      (res) => {
        res.writeHead(200);
        res.end('data: {"choices":[{"delta":{"content":"x"},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n');
      },
      'chat',
    );
    expect(seen.get('oa-chat')?.path).toBe('/v1/chat/completions');
    expect(out).toMatchObject({ ok: true, text: 'x' });
  });

  it('classifies an error event after HTTP 200 as a stream error', async () => {
    const out = await ask('oa-error-event', (res) => {
      res.writeHead(200);
      writeSplit(res, `${sse('a')}event: error\ndata: {"error":{"message":"engine died"}}\n\n`, [20, 9]);
    });
    expect(out).toMatchObject({
      ok: false,
      errorKind: 'stream_error',
      errorMessage: 'error event: engine died',
    });
    expect(out.timings.contentChunkMs).toHaveLength(1);
  });

  it('classifies HTTP 400 as an http status error, with the body', async () => {
    const out = await ask('oa-400', (res) => {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end('{"error":{"message":"max_tokens is too large"}}');
    });
    expect(out).toMatchObject({ ok: false, errorKind: 'http_status', httpStatus: 400 });
    expect(out.errorMessage).toContain('max_tokens is too large');
  });
});

describe('requestIdHeader', () => {
  it("passes the request's own id to Ollama", () => {
    expect(requestIdHeader('ollama', 'run-1-g1-7')).toBe('run-1-g1-7');
    expect(requestIdHeader(undefined, 'run-1-g1-7')).toBe('run-1-g1-7');
  });

  it('gives OpenAI-compatible servers a UUID derived from it (llama-cpp-python refuses anything else)', () => {
    const uuid = requestIdHeader('openai', 'run-1-g1-7');
    expect(uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(requestIdHeader('openai', 'run-1-g1-7')).toBe(uuid);
    expect(requestIdHeader('openai', 'run-1-g1-8')).not.toBe(uuid);
  });
});
