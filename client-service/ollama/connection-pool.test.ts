import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { monotonicMs } from '../clock.js';
import { ConnectionPool, requestText } from './connection-pool.js';
import { Http1Connection, type ResponseHandlers } from './http1-connection.js';
import { Http1ProtocolError } from './http1-response-parser.js';
import { StreamClient } from './stream-client.js';

/** One request as the loopback server read it. */
interface SeenRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  /** The server's socket for this request, and how many requests came on it before (0: the first). */
  socket: Socket;
  connection: number;
  indexOnConnection: number;
}

type Answer = (request: SeenRequest) => void;

/**
 * A raw node:net HTTP/1.1 server, so each test decides byte for byte what goes back and when a socket
 * closes. It parses just enough of a request (head, content-length body) to hand it to `answer`.
 */
class LoopbackServer {
  readonly requests: SeenRequest[] = [];
  readonly sockets: Socket[] = [];
  /** Bytes received per connection, in order of connection. */
  readonly received: number[] = [];
  private readonly server: Server;
  private open = 0;
  maxOpen = 0;
  answer: Answer = (request) => request.socket.write(textAnswer(200, 'ok'));

  private constructor() {
    this.server = createServer((socket) => {
      const connection = this.sockets.length;
      this.sockets.push(socket);
      this.received.push(0);
      this.open++;
      this.maxOpen = Math.max(this.maxOpen, this.open);
      socket.on('close', () => this.open--);
      socket.on('error', () => {});
      let pending = Buffer.alloc(0);
      let onConnection = 0;
      socket.on('data', (chunk: Buffer) => {
        this.received[connection] = (this.received[connection] ?? 0) + chunk.length;
        pending = Buffer.concat([pending, chunk]);
        for (;;) {
          const headEnd = pending.indexOf('\r\n\r\n');
          if (headEnd === -1) return;
          const [requestLine = '', ...lines] = pending.toString('latin1', 0, headEnd).split('\r\n');
          const headers: Record<string, string> = {};
          for (const line of lines) {
            const colon = line.indexOf(':');
            headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
          }
          const length = Number(headers['content-length'] ?? 0);
          if (pending.length < headEnd + 4 + length) return;
          const [method = '', path = ''] = requestLine.split(' ');
          const body = pending.toString('utf8', headEnd + 4, headEnd + 4 + length);
          pending = pending.subarray(headEnd + 4 + length);
          const request: SeenRequest = {
            method,
            path,
            headers,
            body,
            socket,
            connection,
            indexOnConnection: onConnection++,
          };
          this.requests.push(request);
          this.answer(request);
        }
      });
    });
  }

  static async start(): Promise<LoopbackServer> {
    const made = new LoopbackServer();
    await new Promise<void>((resolve) => made.server.listen(0, '127.0.0.1', resolve));
    return made;
  }

  get url(): URL {
    return new URL(`http://127.0.0.1:${(this.server.address() as AddressInfo).port}`);
  }

  get openSockets(): number {
    return this.open;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

function textAnswer(status: number, body: string, extraHeaders = ''): string {
  return `HTTP/1.1 ${status} X\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extraHeaders}\r\n${body}`;
}

/** Polls `condition` until it holds; fails after `deadlineMs`. */
async function waitFor(what: string, condition: () => boolean, deadlineMs = 1500): Promise<void> {
  const giveUpAt = Date.now() + deadlineMs;
  while (!condition()) {
    if (Date.now() > giveUpAt) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Settles `promise` into a record, so a test can look at whether it settled without awaiting it. */
function track<T>(promise: Promise<T>): { settled: boolean; value?: T; error?: unknown } {
  const state: { settled: boolean; value?: T; error?: unknown } = { settled: false };
  promise.then(
    (value) => {
      state.settled = true;
      state.value = value;
    },
    (error: unknown) => {
      state.settled = true;
      state.error = error;
    },
  );
  return state;
}

/** Runs one request on `connection`; resolves with the stamps and body. */
function exchange(
  connection: Http1Connection,
  path = '/',
): Promise<{
  sentMs: number;
  headMs: number;
  bodyMs: number[];
  endMs: number;
  status: number;
  body: string;
}> {
  return new Promise((resolve, reject) => {
    let sentMs = 0;
    let headMs = 0;
    let status = 0;
    const bodyMs: number[] = [];
    const parts: Buffer[] = [];
    const handlers: ResponseHandlers = {
      head: (head, atMs) => {
        headMs = atMs;
        status = head.status;
      },
      body: (bytes, atMs) => {
        bodyMs.push(atMs);
        parts.push(Buffer.from(bytes));
      },
      end: (endMs) =>
        resolve({ sentMs, headMs, bodyMs, endMs, status, body: Buffer.concat(parts).toString('utf8') }),
      error: reject,
    };
    sentMs = connection.request({ method: 'GET', path }, handlers);
  });
}

let server: LoopbackServer;
const pools: ConnectionPool[] = [];

async function setUp(options: { connections: number | null; keepAliveMs?: number }): Promise<ConnectionPool> {
  server = await LoopbackServer.start();
  const pool = new ConnectionPool(server.url, {
    connections: options.connections,
    keepAliveMs: options.keepAliveMs ?? 30_000,
  });
  pools.push(pool);
  return pool;
}

afterEach(async () => {
  for (const pool of pools.splice(0)) await pool.close();
  await server?.stop();
});

describe('ConnectionPool', () => {
  it('never opens more connections than it may, and reuses them', async () => {
    const pool = await setUp({ connections: 2 });
    const signal = AbortSignal.timeout(5000);
    const answers = await Promise.all(
      Array.from({ length: 7 }, (_, i) => requestText(pool, { method: 'GET', path: `/${i}` }, signal)),
    );
    expect(answers.every((a) => a.status === 200 && a.body === 'ok')).toBe(true);
    expect(server.requests).toHaveLength(7);
    expect(server.sockets).toHaveLength(2);
    expect(server.maxOpen).toBe(2);
    expect(pool.openConnections).toBe(2);
  });

  it('hands a released connection to its waiters in the order they came', async () => {
    const pool = await setUp({ connections: 1 });
    const held = await pool.acquire();
    const order: number[] = [];
    const waiters = [1, 2, 3].map((n) =>
      pool.acquire().then((connection) => {
        order.push(n);
        return connection;
      }),
    );
    await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual([]);
    pool.release(held);
    const first = await waiters[0];
    expect(first).toBe(held);
    expect(order).toEqual([1]);
    pool.release(first as Http1Connection);
    expect(await waiters[1]).toBe(held);
    pool.release(held);
    expect(await waiters[2]).toBe(held);
    expect(order).toEqual([1, 2, 3]);
    expect(server.sockets).toHaveLength(1);
  });

  it('removes an aborted waiter and rejects it with the reason of its signal', async () => {
    const pool = await setUp({ connections: 1 });
    const held = await pool.acquire();
    const controller = new AbortController();
    const aborted = track(pool.acquire(controller.signal));
    const patient = track(pool.acquire());
    const reason = new Error('gave up waiting');
    controller.abort(reason);
    await waitFor('the aborted waiter to settle', () => aborted.settled);
    expect(aborted.error).toBe(reason);
    // The connection goes to the waiter that is still there, not to the one that left.
    pool.release(held);
    await waitFor('the patient waiter to settle', () => patient.settled);
    expect(patient.value).toBe(held);
  });

  it('rejects at once, with the reason, when the signal is already aborted', async () => {
    const pool = await setUp({ connections: 1 });
    const reason = new Error('too late');
    await expect(pool.acquire(AbortSignal.abort(reason))).rejects.toBe(reason);
    expect(pool.openConnections).toBe(0);
  });

  it('opens as many connections as asked when connections is null', async () => {
    const pool = await setUp({ connections: null });
    const connections = await Promise.all(Array.from({ length: 6 }, () => pool.acquire()));
    expect(new Set(connections).size).toBe(6);
    expect(pool.openConnections).toBe(6);
    await waitFor('the server to see 6 connections', () => server.sockets.length === 6);
  });

  it('closes a connection that stayed idle for keepAliveMs, and opens a new one later', async () => {
    const pool = await setUp({ connections: 1, keepAliveMs: 40 });
    const first = await pool.acquire();
    expect((await exchange(first)).status).toBe(200);
    pool.release(first);
    await waitFor('the idle connection to be closed', () => pool.openConnections === 0);
    await waitFor('the server to see the close', () => server.openSockets === 0);
    const second = await pool.acquire();
    expect(second).not.toBe(first);
    expect((await exchange(second)).status).toBe(200);
    expect(server.sockets).toHaveLength(2);
  });

  it('keeps a connection that is in use past keepAliveMs', async () => {
    const pool = await setUp({ connections: 1, keepAliveMs: 20 });
    const connection = await pool.acquire();
    await exchange(connection);
    pool.release(connection);
    // Taken again at once: the idle timer is disarmed, so a slow answer is not cut.
    const again = await pool.acquire();
    expect(again).toBe(connection);
    server.answer = (request) => setTimeout(() => request.socket.write(textAnswer(200, 'slow')), 120);
    expect((await exchange(again)).body).toBe('slow');
    expect(server.sockets).toHaveLength(1);
  });

  it('forgets an idle connection the server closed, and opens a new one for the next request', async () => {
    const pool = await setUp({ connections: 1 });
    server.answer = (request) => {
      request.socket.write(textAnswer(200, `on ${request.connection}`));
      // The server's own keep-alive timeout, at its most abrupt.
      request.socket.end();
    };
    const signal = AbortSignal.timeout(5000);
    expect(await requestText(pool, { method: 'GET', path: '/' }, signal)).toEqual({
      status: 200,
      body: 'on 0',
    });
    await waitFor('the pool to forget the closed connection', () => pool.openConnections === 0);
    expect(await requestText(pool, { method: 'GET', path: '/' }, signal)).toEqual({
      status: 200,
      body: 'on 1',
    });
    expect(server.sockets).toHaveLength(2);
  });

  it('closes a connection whose answer said connection: close instead of keeping it', async () => {
    const pool = await setUp({ connections: 1 });
    server.answer = (request) => request.socket.write(textAnswer(200, 'bye', 'connection: close\r\n'));
    const signal = AbortSignal.timeout(5000);
    expect(await requestText(pool, { method: 'GET', path: '/' }, signal)).toEqual({
      status: 200,
      body: 'bye',
    });
    await waitFor('the server to see the close', () => server.openSockets === 0);
    await waitFor('the pool to count no connection', () => pool.openConnections === 0);
    expect(await requestText(pool, { method: 'GET', path: '/' }, signal)).toEqual({
      status: 200,
      body: 'bye',
    });
    expect(server.sockets).toHaveLength(2);
  });

  it('refuses waiters and destroys busy connections on close()', async () => {
    const pool = await setUp({ connections: 2 });
    server.answer = () => {}; // Never answers: the busy connection stays busy.
    const busy = await pool.acquire();
    const held = await pool.acquire();
    const busyOutcome = new Promise<string>((resolve) => {
      busy.request(
        { method: 'GET', path: '/slow' },
        { head: () => {}, body: () => {}, end: () => resolve('ended'), error: (err) => resolve(err.message) },
      );
    });
    await waitFor('the busy request to arrive', () => server.requests.length === 1);
    const waiter = track(pool.acquire());
    await pool.close();
    await waitFor('the waiter to be refused', () => waiter.settled);
    expect(waiter.error).toBeInstanceOf(Error);
    expect((waiter.error as Error).message).toMatch(/pool is closed/);
    expect(await busyOutcome).not.toBe('ended');
    expect(held.reusable).toBe(false);
    await waitFor('the server to see every socket closed', () => server.openSockets === 0);
    await waitFor('the pool to count no connection', () => pool.openConnections === 0);
    await expect(pool.acquire()).rejects.toThrow(/pool is closed/);
  });

  it('destroys idle connections on close(), and one given back after close()', async () => {
    const pool = await setUp({ connections: 2 });
    const idle = await pool.acquire();
    const late = await pool.acquire();
    pool.release(idle);
    await pool.close();
    pool.release(late);
    await waitFor('the server to see every socket closed', () => server.openSockets === 0);
    await waitFor('the pool to count no connection', () => pool.openConnections === 0);
    expect(idle.reusable).toBe(false);
    expect(late.reusable).toBe(false);
  });
});

describe('requestText', () => {
  it('returns the status and the whole body', async () => {
    const pool = await setUp({ connections: 1 });
    server.answer = (request) =>
      request.socket.write(
        'HTTP/1.1 201 Created\r\ntransfer-encoding: chunked\r\n\r\n3\r\nhé\r\n5\r\n 🌍\r\n0\r\n\r\n',
      );
    const signal = AbortSignal.timeout(5000);
    expect(await requestText(pool, { method: 'GET', path: '/version' }, signal)).toEqual({
      status: 201,
      body: 'hé 🌍',
    });
    expect(server.requests[0]).toMatchObject({ method: 'GET', path: '/version' });
    // The connection went back to the pool and carries the next request.
    server.answer = (request) => request.socket.write(textAnswer(200, 'again'));
    expect(await requestText(pool, { method: 'GET', path: '/' }, signal)).toEqual({
      status: 200,
      body: 'again',
    });
    expect(server.sockets).toHaveLength(1);
  });

  it('rejects an answer larger than maxBytes', async () => {
    const pool = await setUp({ connections: 1 });
    server.answer = (request) => request.socket.write(textAnswer(200, 'x'.repeat(100)));
    const signal = AbortSignal.timeout(5000);
    await expect(requestText(pool, { method: 'GET', path: '/' }, signal, 10)).rejects.toThrow(
      /larger than 10 bytes/,
    );
    // Whatever happened to that connection, the next request gets a working one.
    server.answer = (request) => request.socket.write(textAnswer(200, 'small'));
    expect(await requestText(pool, { method: 'GET', path: '/' }, signal)).toEqual({
      status: 200,
      body: 'small',
    });
  });

  it('does not give a connection destroyed for an oversized answer back to the pool', async () => {
    const pool = await setUp({ connections: 1 });
    server.answer = (request) => request.socket.write(textAnswer(200, 'x'.repeat(100)));
    const signal = AbortSignal.timeout(5000);
    await expect(requestText(pool, { method: 'GET', path: '/' }, signal, 10)).rejects.toThrow(
      /larger than 10 bytes/,
    );
    // The same turn as the rejection: the socket's 'close' has not been seen yet.
    const next = await pool.acquire();
    expect(next.reusable).toBe(true);
    server.answer = (request) => request.socket.write(textAnswer(200, 'fresh'));
    expect((await exchange(next)).body).toBe('fresh');
  });
});

describe('Http1Connection', () => {
  it('refuses header names and values HTTP does not allow, and writes nothing', async () => {
    server = await LoopbackServer.start();
    const connection = await Http1Connection.open(server.url);
    try {
      const noop: ResponseHandlers = { head: () => {}, body: () => {}, end: () => {}, error: () => {} };
      const bad: Record<string, string>[] = [
        { 'x-a': 'b\r\nx-injected: 1' },
        { 'x-a': 'b\nx-injected: 1' },
        { 'x-a': 'b\r' },
        { 'x-a\r\nx-injected': '1' },
        { 'x a': '1' },
        { '': '1' },
      ];
      for (const headers of bad) {
        expect(() => connection.request({ method: 'GET', path: '/', headers }, noop)).toThrow(
          /characters HTTP does not allow/,
        );
        expect(connection.reusable).toBe(true);
        expect(connection.requests).toBe(0);
      }
      // The next request is the first bytes the server sees on this connection.
      const answer = await exchange(connection, '/after');
      expect(answer.status).toBe(200);
      expect(server.requests).toHaveLength(1);
      expect(server.requests[0]).toMatchObject({ path: '/after', indexOnConnection: 0 });
      expect(server.requests[0]?.headers['x-injected']).toBeUndefined();
      expect(server.received[0]).toBe(`GET /after HTTP/1.1\r\nhost: ${server.url.host}\r\n\r\n`.length);
    } finally {
      connection.destroy();
    }
  });

  it('stamps the request before any of its answer is read', async () => {
    server = await LoopbackServer.start();
    server.answer = (request) => {
      request.socket.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n');
      setTimeout(() => request.socket.write('2\r\nab\r\n'), 5);
      setTimeout(() => request.socket.write('2\r\ncd\r\n0\r\n\r\n'), 10);
    };
    const connection = await Http1Connection.open(server.url);
    try {
      const before = monotonicMs();
      const answer = await exchange(connection);
      expect(answer.body).toBe('abcd');
      expect(answer.sentMs).toBeGreaterThanOrEqual(before);
      expect(answer.headMs).toBeGreaterThanOrEqual(answer.sentMs);
      expect(answer.bodyMs.length).toBeGreaterThanOrEqual(2);
      expect(answer.bodyMs[0]).toBeGreaterThanOrEqual(answer.headMs);
      expect([...answer.bodyMs].sort((a, b) => a - b)).toEqual(answer.bodyMs);
      expect(answer.endMs).toBeGreaterThanOrEqual(answer.bodyMs[answer.bodyMs.length - 1] as number);
      expect(connection.requests).toBe(1);
      expect(connection.reusable).toBe(true);
    } finally {
      connection.destroy();
    }
  });

  it('ends an answer read until the server closes exactly once, and is then not reusable', async () => {
    server = await LoopbackServer.start();
    server.answer = (request) => request.socket.end('HTTP/1.1 200 OK\r\n\r\nuntil close');
    const connection = await Http1Connection.open(server.url);
    const answer = await exchange(connection);
    expect(answer.body).toBe('until close');
    expect(answer.endMs).toBeGreaterThanOrEqual(answer.bodyMs[0] as number);
    await waitFor('the connection to be gone', () => !connection.reusable);
  });

  it('fails the request with Http1ProtocolError when the server breaks HTTP', async () => {
    server = await LoopbackServer.start();
    server.answer = (request) => request.socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nokEXTRA');
    const connection = await Http1Connection.open(server.url);
    await expect(exchange(connection)).resolves.toMatchObject({ body: 'ok' });
    // The stray bytes after the answer break the connection: it is closed, never reused.
    await waitFor('the server to see the close', () => server.openSockets === 0);
    expect(connection.reusable).toBe(false);
  });

  it('passes a protocol error of an answer in progress to error()', async () => {
    server = await LoopbackServer.start();
    server.answer = (request) => request.socket.write('HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\n\r\nxx');
    const connection = await Http1Connection.open(server.url);
    const err = await exchange(connection).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Http1ProtocolError);
    await waitFor('the server to see the close', () => server.openSockets === 0);
  });

  it('refuses a second request while the first answer is being read', async () => {
    server = await LoopbackServer.start();
    server.answer = () => {};
    const connection = await Http1Connection.open(server.url);
    try {
      const noop: ResponseHandlers = { head: () => {}, body: () => {}, end: () => {}, error: () => {} };
      connection.request({ method: 'GET', path: '/' }, noop);
      expect(connection.reusable).toBe(false);
      expect(() => connection.request({ method: 'GET', path: '/' }, noop)).toThrow(/busy or closed/);
    } finally {
      connection.destroy();
    }
  });
});

const FINAL = '{"done":true,"done_reason":"stop","eval_count":2,"eval_duration":2000000}\n';
const TOKENS = '{"response":"a"}\n{"response":"b"}\n';

function ndjsonAnswer(): string {
  return textAnswer(200, TOKENS + FINAL, 'content-type: application/x-ndjson\r\n');
}

describe('StreamClient on a reused connection', () => {
  const ask = (client: StreamClient, id: string) =>
    client.generate({ model: 'm', api: 'generate', prompt: 'p', requestId: id }, { timeoutMs: 3000 });

  it('opens a new connection when the server closed the idle one in between', async () => {
    const pool = await setUp({ connections: 1 });
    const client = new StreamClient(server.url.href, pool);
    server.answer = (request) => {
      request.socket.write(ndjsonAnswer());
      if (request.connection === 0) request.socket.end();
    };
    expect((await ask(client, 'first')).ok).toBe(true);
    await waitFor('the pool to forget the closed connection', () => pool.openConnections === 0);
    const second = await ask(client, 'second');
    expect(second).toMatchObject({ ok: true, errorKind: null, text: '' });
    expect(server.requests.map((r) => [r.headers['x-request-id'], r.connection])).toEqual([
      ['first', 0],
      ['second', 1],
    ]);
  });

  for (const how of ['closes', 'resets'] as const) {
    it(`sends the request again on a fresh connection when the server ${how} the kept-alive one as it arrives`, async () => {
      const pool = await setUp({ connections: 1 });
      const client = new StreamClient(server.url.href, pool);
      server.answer = (request) => {
        // The second request on connection 0 meets a server that had just given up on the socket.
        if (request.connection === 0 && request.indexOnConnection === 1) {
          if (how === 'closes') request.socket.end();
          else request.socket.resetAndDestroy();
          return;
        }
        request.socket.write(ndjsonAnswer());
      };
      expect((await ask(client, 'first')).ok).toBe(true);
      const second = await ask(client, 'second');
      expect(second).toMatchObject({ ok: true, errorKind: null });
      expect(second.timings.contentChunkMs).toHaveLength(2);
      expect(second.timings.sentMs).toBeLessThanOrEqual(second.timings.contentChunkMs[0] as number);
      expect(
        server.requests.map((r) => [r.headers['x-request-id'], r.connection, r.indexOnConnection]),
      ).toEqual([
        ['first', 0, 0],
        ['second', 0, 1],
        ['second', 1, 0],
      ]);
    });
  }

  it('does not send the request again when the server closes after part of the answer', async () => {
    const pool = await setUp({ connections: 1 });
    const client = new StreamClient(server.url.href, pool);
    server.answer = (request) => {
      if (request.indexOnConnection === 1) {
        request.socket.write(`HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n${TOKENS}`);
        setTimeout(() => request.socket.end(), 10);
        return;
      }
      request.socket.write(ndjsonAnswer());
    };
    expect((await ask(client, 'first')).ok).toBe(true);
    const second = await ask(client, 'second');
    expect(second).toMatchObject({ ok: false, errorKind: 'connection', httpStatus: 200 });
    expect(second.errorMessage).toMatch(/ERR_CONNECTION_CLOSED/);
    expect(server.requests).toHaveLength(2);
  });

  it('does not send the request again when a fresh connection fails before any answer', async () => {
    const pool = await setUp({ connections: 1 });
    const client = new StreamClient(server.url.href, pool);
    server.answer = (request) => request.socket.end();
    const out = await ask(client, 'only');
    expect(out).toMatchObject({ ok: false, errorKind: 'connection', httpStatus: null });
    expect(server.requests).toHaveLength(1);
  });
});
