import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Http1Server, type HttpRequest, nowMs } from './http1.js';

/**
 * The synthetic server's own HTTP/1.1 layer, spoken to over a raw socket so every byte boundary is ours.
 * No sandbox needed; it lives under test/ because it opens real sockets.
 */

const seen: HttpRequest[] = [];
const server = new Http1Server((req, res) => {
  seen.push(req);
  if (req.path === '/stream') {
    res.startStream(200, 'application/x-ndjson');
    res.write('{"a":1}\n');
    setTimeout(() => res.end('{"done":true}\n'), 5);
    return;
  }
  res.json(200, { path: req.path, body: req.body.toString('utf8') });
});
let port: number;

beforeAll(async () => {
  port = await server.listen(0, '127.0.0.1');
});

afterAll(async () => {
  await server.close();
});

/** A raw client: collects everything the server sends and whether it closed. */
async function open(): Promise<{ socket: Socket; received: () => string; closed: () => boolean }> {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  let text = '';
  let closed = false;
  socket.on('data', (c: Buffer) => {
    text += c.toString('utf8');
  });
  socket.on('close', () => {
    closed = true;
  });
  return { socket, received: () => text, closed: () => closed };
}

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const post = (path: string, body: string, extra = ''): string =>
  `POST ${path} HTTP/1.1\r\nhost: x\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;

const answers = (text: string): number => text.split('HTTP/1.1 200 OK').length - 1;

describe('Http1Server', () => {
  it('answers pipelined requests on one keep-alive connection, in order', async () => {
    const c = await open();
    c.socket.write(post('/one', 'a') + post('/two', 'bb') + post('/three', 'ccc'));
    const text = await until('three answers', () => (answers(c.received()) === 3 ? c.received() : undefined));
    expect(text.indexOf('"/one"')).toBeLessThan(text.indexOf('"/two"'));
    expect(text.indexOf('"/two"')).toBeLessThan(text.indexOf('"/three"'));
    expect(text).toContain('"body":"ccc"');
    expect(c.closed()).toBe(false);
    c.socket.destroy();
  });

  it('stamps a request with the arrival of its first byte, not of its last', async () => {
    const c = await open();
    const request = post('/split', 'héllo');
    const beforeFirstHalf = nowMs();
    c.socket.write(request.slice(0, 20));
    await new Promise((r) => setTimeout(r, 60));
    const beforeSecondHalf = nowMs();
    c.socket.write(request.slice(20));
    await until('the answer', () => (answers(c.received()) === 1 ? true : undefined));
    const req = seen.find((r) => r.path === '/split');
    expect(req?.body.toString('utf8')).toBe('héllo');
    expect(req?.receivedAtMs).toBeGreaterThanOrEqual(beforeFirstHalf);
    expect(req?.receivedAtMs).toBeLessThan(beforeSecondHalf);
    c.socket.destroy();
  });

  it('streams a chunked answer and keeps the connection for the next request', async () => {
    const c = await open();
    c.socket.write(post('/stream', '{}'));
    await until('the end of the stream', () => (c.received().includes('0\r\n\r\n') ? true : undefined));
    expect(c.received()).toContain('transfer-encoding: chunked');
    expect(c.received()).toContain('8\r\n{"a":1}\n\r\n');
    c.socket.write(post('/after', 'x'));
    await until('the second answer', () => (answers(c.received()) === 2 ? true : undefined));
    c.socket.destroy();
  });

  it('closes after the answer when the client asks for connection: close', async () => {
    const c = await open();
    c.socket.write(post('/bye', '', 'connection: close\r\n'));
    await until('the close', () => (c.closed() ? true : undefined));
    expect(c.received()).toContain('connection: close');
    expect(answers(c.received())).toBe(1);
  });

  it('sends 100 Continue when asked, then takes the body', async () => {
    const c = await open();
    const body = 'x'.repeat(2000);
    c.socket.write(
      post('/continue', '', `expect: 100-continue\r\n`).replace('content-length: 0', 'content-length: 2000'),
    );
    await until('100 Continue', () => (c.received().startsWith('HTTP/1.1 100 Continue') ? true : undefined));
    c.socket.write(body);
    await until('the answer', () => (answers(c.received()) === 1 ? true : undefined));
    expect(seen.find((r) => r.path === '/continue')?.body.length).toBe(2000);
    c.socket.destroy();
  });

  it('refuses a chunked request body with 501 and closes', async () => {
    const c = await open();
    c.socket.write(
      'POST /chunked HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n',
    );
    await until('the close', () => (c.closed() ? true : undefined));
    expect(c.received()).toMatch(/^HTTP\/1\.1 501 /);
  });

  it('answers a malformed request line with 400 and closes', async () => {
    const c = await open();
    c.socket.write('NONSENSE\r\n\r\n');
    await until('the close', () => (c.closed() ? true : undefined));
    expect(c.received()).toMatch(/^HTTP\/1\.1 400 /);
  });
});
