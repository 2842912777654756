import { describe, expect, it } from 'vitest';
import {
  Http1ProtocolError,
  Http1ResponseParser,
  type ResponseEvents,
  type ResponseHead,
} from './http1-response-parser.js';

/** Everything a parser reported for one run over an answer (or several pipelined ones). */
interface Observed {
  heads: ResponseHead[];
  /** Body bytes of each answer, copied and joined, as hex so a mismatch prints readably. */
  bodies: string[];
  ends: number;
  /** What closed() said, when the case closes the connection at the end. */
  closed: 'ended' | 'cut' | 'idle' | null;
  busy: boolean;
  reusable: boolean;
}

interface Case {
  name: string;
  answer: string;
  /** How many answers the bytes hold; expect() is called again from end() until this many are read. */
  answers?: number;
  noBody?: boolean;
  /** Call closed() after the last byte (an answer read until the connection closes). */
  close?: boolean;
}

/**
 * A stand-in for the connection's one shared read buffer: each piece is copied into the middle of it,
 * surrounded by LF bytes a careless parser would find, and the whole buffer is overwritten after every
 * push, so a parser that kept a view of an earlier read would see garbage.
 */
const SCRATCH = Buffer.alloc(8 * 1024);
const MARGIN = 7;

function run(c: Case, pieces: Buffer[]): Observed {
  const parser = new Http1ResponseParser();
  const record: Observed = { heads: [], bodies: [], ends: 0, closed: null, busy: false, reusable: false };
  const wanted = c.answers ?? 1;
  let body: Buffer[] = [];
  const events: ResponseEvents = {
    head: (head) => record.heads.push(head),
    body: (bytes) => body.push(Buffer.from(bytes)),
    end: () => {
      record.ends++;
      record.bodies.push(Buffer.concat(body).toString('hex'));
      body = [];
      if (record.ends < wanted) parser.expect(events, { noBody: c.noBody ?? false });
    },
  };
  parser.expect(events, { noBody: c.noBody ?? false });
  for (const piece of pieces) {
    SCRATCH.fill(0x0a);
    piece.copy(SCRATCH, MARGIN);
    parser.push(SCRATCH, MARGIN, MARGIN + piece.length);
    SCRATCH.fill(0x58);
  }
  if (c.close === true) record.closed = parser.closed();
  record.busy = parser.busy;
  record.reusable = parser.reusable;
  return record;
}

function whole(bytes: Buffer): Buffer[] {
  return [bytes];
}

function splitAt(bytes: Buffer, at: number): Buffer[] {
  return [bytes.subarray(0, at), bytes.subarray(at)];
}

function oneByteEach(bytes: Buffer): Buffer[] {
  const pieces: Buffer[] = [];
  for (let i = 0; i < bytes.length; i++) pieces.push(bytes.subarray(i, i + 1));
  return pieces;
}

const hex = (text: string): string => Buffer.from(text, 'utf8').toString('hex');
const UTF8_TEXT = 'Héllo 🌍 — ünïcødé ✓';

const cases: { input: Case; expected: Observed }[] = [
  {
    input: {
      name: 'chunked with chunk extensions and trailers',
      answer:
        'HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n' +
        '5;foo=bar\r\nhello\r\n7;a=1;b="x y"\r\n, world\r\nA\r\n0123456789\r\n0\r\nX-Checksum: abc\r\nX-More: 1\r\n\r\n',
    },
    expected: {
      heads: [
        {
          status: 200,
          headers: { 'content-type': 'application/x-ndjson', 'transfer-encoding': 'chunked' },
          keepAlive: true,
        },
      ],
      bodies: [hex('hello, world0123456789')],
      ends: 1,
      closed: null,
      busy: false,
      reusable: true,
    },
  },
  {
    input: { name: 'content-length', answer: 'HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world' },
    expected: {
      heads: [{ status: 200, headers: { 'content-length': '11' }, keepAlive: true }],
      bodies: [hex('hello world')],
      ends: 1,
      closed: null,
      busy: false,
      reusable: true,
    },
  },
  {
    input: { name: 'content-length 0', answer: 'HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n' },
    expected: {
      heads: [{ status: 200, headers: { 'content-length': '0' }, keepAlive: true }],
      bodies: [''],
      ends: 1,
      closed: null,
      busy: false,
      reusable: true,
    },
  },
  {
    input: {
      name: 'until the connection closes',
      answer: 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nread until the end\r\n\r\n',
      close: true,
    },
    expected: {
      heads: [{ status: 200, headers: { 'content-type': 'text/plain' }, keepAlive: false }],
      bodies: [hex('read until the end\r\n\r\n')],
      ends: 1,
      closed: 'ended',
      busy: false,
      reusable: false,
    },
  },
  {
    input: {
      name: '100 Continue, then 200',
      answer:
        'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\nX-Progress: 1\r\n\r\n' +
        'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
    },
    expected: {
      heads: [{ status: 200, headers: { 'content-length': '2' }, keepAlive: true }],
      bodies: [hex('ok')],
      ends: 1,
      closed: null,
      busy: false,
      reusable: true,
    },
  },
  {
    input: { name: '204 without a body', answer: 'HTTP/1.1 204 No Content\r\nDate: today\r\n\r\n' },
    expected: {
      heads: [{ status: 204, headers: { date: 'today' }, keepAlive: true }],
      bodies: [''],
      ends: 1,
      closed: null,
      busy: false,
      reusable: true,
    },
  },
  {
    input: { name: '304 without a body', answer: 'HTTP/1.1 304 Not Modified\r\nETag: "x"\r\n\r\n' },
    expected: {
      heads: [{ status: 304, headers: { etag: '"x"' }, keepAlive: true }],
      bodies: [''],
      ends: 1,
      closed: null,
      busy: false,
      reusable: true,
    },
  },
  {
    input: {
      name: 'the answer to HEAD (content-length but no body)',
      answer: 'HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n',
      noBody: true,
    },
    expected: {
      heads: [{ status: 200, headers: { 'content-length': '1234' }, keepAlive: true }],
      bodies: [''],
      ends: 1,
      closed: null,
      busy: false,
      reusable: true,
    },
  },
  {
    input: {
      name: 'two pipelined answers back to back on a keep-alive connection',
      answer:
        'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\nfirst' +
        'HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nsecond\r\n0\r\n\r\n',
      answers: 2,
    },
    expected: {
      heads: [
        { status: 200, headers: { 'content-length': '5', connection: 'keep-alive' }, keepAlive: true },
        { status: 201, headers: { 'transfer-encoding': 'chunked' }, keepAlive: true },
      ],
      bodies: [hex('first'), hex('second')],
      ends: 2,
      closed: null,
      busy: false,
      reusable: true,
    },
  },
  {
    input: {
      name: 'UTF-8 characters split across pushes',
      answer:
        `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n` +
        `${Buffer.byteLength(UTF8_TEXT).toString(16)}\r\n${UTF8_TEXT}\r\n` +
        `${Buffer.byteLength('🌍🌍').toString(16)}\r\n🌍🌍\r\n0\r\n\r\n`,
    },
    expected: {
      heads: [{ status: 200, headers: { 'transfer-encoding': 'chunked' }, keepAlive: true }],
      bodies: [hex(`${UTF8_TEXT}🌍🌍`)],
      ends: 1,
      closed: null,
      busy: false,
      reusable: true,
    },
  },
  {
    input: {
      name: 'HTTP/1.0 without keep-alive',
      answer: 'HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok',
    },
    expected: {
      heads: [{ status: 200, headers: { 'content-length': '2' }, keepAlive: false }],
      bodies: [hex('ok')],
      ends: 1,
      closed: null,
      busy: false,
      reusable: false,
    },
  },
  {
    input: {
      name: 'HTTP/1.0 with connection: keep-alive',
      answer: 'HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nok',
    },
    expected: {
      heads: [{ status: 200, headers: { connection: 'Keep-Alive', 'content-length': '2' }, keepAlive: true }],
      bodies: [hex('ok')],
      ends: 1,
      closed: null,
      busy: false,
      reusable: true,
    },
  },
  {
    input: {
      name: 'connection: close',
      answer: 'HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 3\r\n\r\nbye',
    },
    expected: {
      heads: [{ status: 200, headers: { connection: 'close', 'content-length': '3' }, keepAlive: false }],
      bodies: [hex('bye')],
      ends: 1,
      closed: null,
      busy: false,
      reusable: false,
    },
  },
  {
    input: {
      name: 'bare LF line endings and repeated headers',
      answer: 'HTTP/1.1 200\nSet-Cookie: a=1\nset-cookie: b=2\nContent-Length: 2\n\nok',
    },
    expected: {
      heads: [{ status: 200, headers: { 'set-cookie': 'a=1, b=2', 'content-length': '2' }, keepAlive: true }],
      bodies: [hex('ok')],
      ends: 1,
      closed: null,
      busy: false,
      reusable: true,
    },
  },
];

describe('Http1ResponseParser framing', () => {
  for (const { input, expected } of cases) {
    const bytes = Buffer.from(input.answer, 'utf8');

    it(`reads ${input.name} fed whole`, () => {
      expect(run(input, whole(bytes))).toEqual(expected);
    });

    it(`reads ${input.name} split in two at every byte position`, () => {
      for (let at = 0; at <= bytes.length; at++) {
        expect({ at, record: run(input, splitAt(bytes, at)) }).toEqual({ at, record: expected });
      }
    });

    it(`reads ${input.name} fed one byte per push`, () => {
      expect(run(input, oneByteEach(bytes))).toEqual(expected);
    });
  }

  it('does not end an answer read until close before the connection closes', () => {
    const parser = new Http1ResponseParser();
    let ends = 0;
    parser.expect({ head: () => {}, body: () => {}, end: () => ends++ });
    parser.push(Buffer.from('HTTP/1.1 200 OK\r\n\r\npartial'));
    expect(ends).toBe(0);
    expect(parser.busy).toBe(true);
    expect(parser.closed()).toBe('ended');
    expect(ends).toBe(1);
  });

  it('refuses bytes after an answer that said connection: close', () => {
    const parser = new Http1ResponseParser();
    parser.expect({ head: () => {}, body: () => {}, end: () => {} });
    const bytes = Buffer.from('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 3\r\n\r\nbyeX');
    expect(() => parser.push(bytes)).toThrow(Http1ProtocolError);
    expect(parser.busy).toBe(false);
    expect(parser.reusable).toBe(false);
  });

  it('is idle, not cut, when the connection closes after a complete keep-alive answer', () => {
    const parser = new Http1ResponseParser();
    parser.expect({ head: () => {}, body: () => {}, end: () => {} });
    parser.push(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'));
    expect(parser.closed()).toBe('idle');
    expect(parser.reusable).toBe(false);
  });

  it('refuses expect() while an answer is being read', () => {
    const parser = new Http1ResponseParser();
    const events: ResponseEvents = { head: () => {}, body: () => {}, end: () => {} };
    parser.expect(events);
    expect(() => parser.expect(events)).toThrow(/still being read/);
  });
});

describe('Http1ResponseParser and the caller buffer', () => {
  it('keeps its own copy of a head split across pushes when the first buffer is overwritten', () => {
    const parser = new Http1ResponseParser();
    const heads: ResponseHead[] = [];
    const body: Buffer[] = [];
    let ended = false;
    parser.expect({
      head: (h) => heads.push(h),
      body: (b) => body.push(Buffer.from(b)),
      end: () => (ended = true),
    });
    const buffer = Buffer.alloc(64);
    const first = 'HTTP/1.1 200 OK\r\nX-Name: abcdef\r\nContent-Le';
    buffer.write(first, 'latin1');
    parser.push(buffer, 0, first.length);
    // The connection reads the next bytes into the same buffer.
    buffer.fill('Z');
    const second = 'ngth: 4\r\n\r\nbody';
    buffer.write(second, 'latin1');
    parser.push(buffer, 0, second.length);
    expect(heads).toEqual([
      { status: 200, headers: { 'x-name': 'abcdef', 'content-length': '4' }, keepAlive: true },
    ]);
    expect(Buffer.concat(body).toString()).toBe('body');
    expect(ended).toBe(true);
  });

  it('keeps its own copy of a chunk-size line split across pushes when the buffer is overwritten', () => {
    const parser = new Http1ResponseParser();
    const body: Buffer[] = [];
    parser.expect({ head: () => {}, body: (b) => body.push(Buffer.from(b)), end: () => {} });
    const buffer = Buffer.alloc(128);
    const first = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1';
    buffer.write(first, 'latin1');
    parser.push(buffer, 0, first.length);
    buffer.fill('f');
    const second = '0;ext=1\r\n0123456789abcdef\r\n0\r\n\r\n';
    buffer.write(second, 'latin1');
    parser.push(buffer, 0, second.length);
    expect(Buffer.concat(body).toString()).toBe('0123456789abcdef');
    expect(parser.reusable).toBe(true);
  });

  it('hands body bytes on as views, so a consumer that does not copy sees them overwritten', () => {
    const parser = new Http1ResponseParser();
    const views: Buffer[] = [];
    parser.expect({ head: () => {}, body: (b) => views.push(b), end: () => {} });
    const buffer = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbody');
    parser.push(buffer);
    expect(views.map((v) => v.toString())).toEqual(['body']);
    buffer.fill('X');
    expect(views.map((v) => v.toString())).toEqual(['XXXX']);
  });

  it('reads only bytes[start, end), whatever lies around them', () => {
    const parser = new Http1ResponseParser();
    const body: Buffer[] = [];
    parser.expect({ head: () => {}, body: (b) => body.push(Buffer.from(b)), end: () => {} });
    const answer = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n';
    const buffer = Buffer.from(`\r\n\r\nHTTP/1.1 500 X\r\n\r\n${answer}\r\n\r\n1\r\n`);
    const start = buffer.indexOf('HTTP/1.1 200');
    parser.push(buffer, start, start + answer.length);
    expect(Buffer.concat(body).toString()).toBe('abc');
    expect(parser.reusable).toBe(true);
  });
});

/** Feeds `answer` and returns what was thrown; the parser is checked to be out of use afterwards. */
function protocolErrorOf(answer: string | Buffer, pieceSize?: number): unknown {
  const parser = new Http1ResponseParser();
  parser.expect({ head: () => {}, body: () => {}, end: () => {} });
  const bytes = typeof answer === 'string' ? Buffer.from(answer, 'latin1') : answer;
  const size = pieceSize ?? bytes.length;
  let thrown: unknown = null;
  try {
    for (let i = 0; i < bytes.length; i += size) parser.push(bytes, i, Math.min(bytes.length, i + size));
  } catch (err) {
    thrown = err;
  }
  expect(parser.busy).toBe(false);
  expect(parser.reusable).toBe(false);
  // A broken parser ignores anything more and reports no answer in progress.
  expect(() => parser.push(Buffer.from('HTTP/1.1 200 OK\r\n\r\n'))).not.toThrow();
  expect(parser.closed()).toBe('idle');
  return thrown;
}

describe('Http1ResponseParser protocol errors', () => {
  const broken: { name: string; answer: string; message: RegExp }[] = [
    { name: 'an HTTP/2 status line', answer: 'HTTP/2 200 OK\r\n\r\n', message: /status line/ },
    { name: 'a status line that is not HTTP', answer: 'ICY 200 OK\r\n\r\n', message: /status line/ },
    { name: 'a two-digit status', answer: 'HTTP/1.1 20 OK\r\n\r\n', message: /status line/ },
    {
      name: 'a header line without a colon',
      answer: 'HTTP/1.1 200 OK\r\nno colon here\r\n\r\n',
      message: /bad header line/,
    },
    {
      name: 'a header line with an empty name',
      answer: 'HTTP/1.1 200 OK\r\n: value\r\n\r\n',
      message: /bad header line/,
    },
    {
      name: 'a header line starting with a space (obs-fold)',
      answer: 'HTTP/1.1 200 OK\r\nX-Long: a\r\n b\r\nContent-Length: 0\r\n\r\n',
      message: /bad header line/,
    },
    {
      name: 'a header line starting with a tab (obs-fold)',
      answer: 'HTTP/1.1 200 OK\r\nX-Long: a\r\n\tb: c\r\nContent-Length: 0\r\n\r\n',
      message: /bad header line/,
    },
    {
      name: 'a chunk size that is not hex',
      answer: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n',
      message: /bad chunk size/,
    },
    {
      name: 'an empty chunk size',
      answer: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n;ext\r\n',
      message: /bad chunk size/,
    },
    {
      name: 'a chunk size over 8 hex digits',
      answer: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n100000000\r\n',
      message: /bad chunk size/,
    },
    {
      name: 'chunk data longer than its size',
      answer: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n',
      message: /chunk data longer than its size/,
    },
    {
      name: 'a negative content-length',
      answer: 'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n',
      message: /bad content-length/,
    },
    {
      name: 'a content-length that is not a number',
      answer: 'HTTP/1.1 200 OK\r\nContent-Length: 12abc\r\n\r\n',
      message: /bad content-length/,
    },
    {
      name: 'two different content-lengths',
      answer: 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok',
      message: /bad content-length/,
    },
    {
      name: 'transfer-encoding gzip',
      answer: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nxxxx',
      message: /unsupported transfer-encoding/,
    },
    {
      name: 'chunked that is not the last transfer-encoding',
      answer: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\nxxxx',
      message: /unsupported transfer-encoding/,
    },
  ];

  for (const { name, answer, message } of broken) {
    it(`throws Http1ProtocolError on ${name}, fed whole or one byte at a time`, () => {
      for (const pieceSize of [undefined, 1]) {
        const thrown = protocolErrorOf(answer, pieceSize);
        expect(thrown).toBeInstanceOf(Http1ProtocolError);
        expect((thrown as Http1ProtocolError).code).toBe('ERR_HTTP1_PROTOCOL');
        expect((thrown as Error).message).toMatch(message);
      }
    });
  }

  it('throws Http1ProtocolError on bytes when no answer is expected', () => {
    const parser = new Http1ResponseParser();
    expect(parser.busy).toBe(false);
    expect(parser.reusable).toBe(true);
    expect(() => parser.push(Buffer.from('HTTP/1.1 200 OK\r\n\r\n'))).toThrow(Http1ProtocolError);
    expect(parser.busy).toBe(false);
    expect(parser.reusable).toBe(false);
  });

  it('throws Http1ProtocolError on a head over 64 KiB arriving in pieces', () => {
    // Reads of the connection's 64 KiB buffer: the head never ends.
    const line = `X-Filler: ${'a'.repeat(1000)}\r\n`;
    const head = `HTTP/1.1 200 OK\r\n${line.repeat(70)}`;
    const thrown = protocolErrorOf(head, 4096);
    expect(thrown).toBeInstanceOf(Http1ProtocolError);
    expect((thrown as Error).message).toMatch(/head longer than 65536 bytes/);
  });

  it('throws Http1ProtocolError on a chunk-size line over 4 KiB arriving in pieces', () => {
    const answer = `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;${'x'.repeat(5000)}`;
    const thrown = protocolErrorOf(answer, 512);
    expect(thrown).toBeInstanceOf(Http1ProtocolError);
    expect((thrown as Error).message).toMatch(/line longer than 4096 bytes/);
  });

  it("reports 'cut' when the connection closes mid-answer, and is then out of use", () => {
    const midAnswer = [
      '',
      'HTTP/1.1 200 OK\r\nContent-Le',
      'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-Trailer: 1\r\n',
    ];
    for (const sent of midAnswer) {
      const parser = new Http1ResponseParser();
      let ends = 0;
      parser.expect({ head: () => {}, body: () => {}, end: () => ends++ });
      parser.push(Buffer.from(sent));
      expect(parser.busy).toBe(true);
      expect({ sent, outcome: parser.closed() }).toEqual({ sent, outcome: 'cut' });
      expect(ends).toBe(0);
      expect(parser.busy).toBe(false);
      expect(parser.reusable).toBe(false);
    }
  });
});
