import { describe, expect, it } from 'vitest';
import type { OpenAiApi } from '../api-schema.js';
import type { StreamTimings } from '../metrics.js';
import { emptyCounts, type FinalChunkCounts } from '../ollama/stream-types.js';
import { OpenAiAnswerReader, openAiRequestBody } from './openai-answer-reader.js';
import { byteSseParser } from './sse-byte-parser.js';
import { eventSourceParser, type SseParserFactory } from './sse-parser.js';

/**
 * The SSE path from bytes to timings and counts, fed as the connection feeds it: every answer whole,
 * split at every byte position, and one byte at a time, each piece copied into a scratch buffer that is
 * overwritten after the push (the connection reads into one reused buffer). Each piece is stamped with
 * its index, so a chunk's stamp says which read completed it: the read that brought the line break
 * ending its event, never an earlier or a later one.
 */

const SCRATCH = Buffer.alloc(16 * 1024);
const MARGIN = 5;

interface Observed {
  contentStamps: number[];
  doneMs: number | null;
  text: string;
  streamError: string | null;
  counts: FinalChunkCounts;
}

function read(api: OpenAiApi, parser: SseParserFactory, pieces: Buffer[]): Observed {
  const timings: StreamTimings = { sentMs: 0, contentChunkMs: [], doneMs: null };
  const counts = emptyCounts();
  const reader = new OpenAiAnswerReader(api, timings, counts, true, parser);
  pieces.forEach((piece, index) => {
    SCRATCH.fill(0x0a);
    piece.copy(SCRATCH, MARGIN);
    reader.push(SCRATCH.subarray(MARGIN, MARGIN + piece.length), index);
    SCRATCH.fill(0x58);
  });
  reader.end(pieces.length);
  return {
    contentStamps: timings.contentChunkMs,
    doneMs: timings.doneMs,
    text: reader.text,
    streamError: reader.streamError,
    counts,
  };
}

/**
 * Byte offsets where each event of an answer is complete: the line terminator of the empty line that
 * dispatches it (for CRLF, its CR: a lone CR already ends a line). Events without data are not counted,
 * as the spec does not dispatch them.
 */
function eventEnds(bytes: Buffer): number[] {
  const ends: number[] = [];
  let lineStart = 0;
  let hasData = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b !== 10 && b !== 13) continue;
    if (i === lineStart) {
      if (hasData) ends.push(i);
      hasData = false;
    } else if (bytes.toString('latin1', lineStart, i).startsWith('data')) {
      hasData = true;
    }
    if (b === 13 && bytes[i + 1] === 10) i++;
    lineStart = i + 1;
  }
  return ends;
}

interface Case {
  name: string;
  api: OpenAiApi;
  answer: string;
  /** Which dispatched events (by index) are content chunks. */
  contentEvents: number[];
  /** The event that ends the stream ([DONE]), 'end' for the end of the answer, or null (an error). */
  doneEvent: number | 'end' | null;
  text: string;
  streamError?: RegExp;
  counts?: Partial<FinalChunkCounts>;
}

const completion = (text: string, finish: string | null = null): string =>
  `data: {"id":"cmpl-1","object":"text_completion","model":"m","choices":[{"index":0,"text":${JSON.stringify(text)},"logprobs":null,"finish_reason":${JSON.stringify(finish)}}],"usage":null}\n\n`;
const delta = (d: Record<string, string>, finish: string | null = null): string =>
  `data: {"id":"chat-1","object":"chat.completion.chunk","model":"m","choices":[{"index":0,"delta":${JSON.stringify(d)},"finish_reason":${JSON.stringify(finish)}}]}\n\n`;
const usage = (completionTokens: number, promptTokens = 5): string =>
  `data: {"id":"x","choices":[],"usage":{"prompt_tokens":${promptTokens},"completion_tokens":${completionTokens},"total_tokens":${promptTokens + completionTokens}}}\n\n`;
const DONE = 'data: [DONE]\n\n';
const crlf = (text: string): string => text.replace(/\n/g, '\r\n');

const cases: Case[] = [
  {
    name: 'completions with a usage-only final chunk (empty choices) and [DONE]',
    api: 'completions',
    answer: completion('Hé') + completion('llo 🌍') + completion('!', 'stop') + usage(3) + DONE,
    contentEvents: [0, 1, 2],
    doneEvent: 4,
    text: 'Héllo 🌍!',
    counts: { evalCount: 3, promptEvalCount: 5, doneReason: 'stop' },
  },
  {
    name: 'completions with CRLF line endings',
    api: 'completions',
    answer: crlf(completion('a') + completion('b') + completion('', 'length') + usage(2) + DONE),
    contentEvents: [0, 1],
    doneEvent: 4,
    text: 'ab',
    counts: { evalCount: 2, doneReason: 'length' },
  },
  {
    name: 'completions with lone CR line endings',
    api: 'completions',
    answer: (completion('a') + completion('b', 'stop') + DONE).replace(/\n/g, '\r'),
    contentEvents: [0, 1],
    doneEvent: 2,
    text: 'ab',
    counts: { evalCount: null, doneReason: 'stop' },
  },
  {
    name: 'chat whose role-only first chunk is not content, with comments (: ping) between events',
    api: 'chat',
    answer:
      ': connected\n\n' +
      delta({ role: 'assistant', content: '' }) +
      ': ping\n' +
      delta({ content: 'Hi' }) +
      ': ping\n\n' +
      delta({ content: ' there' }) +
      delta({}, 'stop') +
      usage(2, 9) +
      DONE,
    contentEvents: [1, 2],
    doneEvent: 5,
    text: 'Hi there',
    counts: { evalCount: 2, promptEvalCount: 9, doneReason: 'stop' },
  },
  {
    name: 'chat with CRLF, an event name of message, and id and retry fields',
    api: 'chat',
    answer: crlf(
      `retry: 1000\nid: 1\nevent: message\n${delta({ content: 'x' }).slice(0, -1)}\n${delta({ content: 'y' }, 'stop')}${DONE}`,
    ),
    contentEvents: [0, 1],
    doneEvent: 2,
    text: 'xy',
    counts: { doneReason: 'stop' },
  },
  {
    name: 'data split over several data lines, joined with newlines',
    api: 'completions',
    answer:
      'data: {"choices":[{"index":0,\ndata: "text":"multi",\ndata: "finish_reason":null}]}\n\n' +
      completion('!', 'stop') +
      DONE,
    contentEvents: [0, 1],
    doneEvent: 2,
    text: 'multi!',
  },
  {
    name: 'no usage chunk (llama.cpp): evalCount stays null, for the chunk count to take over',
    api: 'chat',
    answer: delta({ content: 'a' }) + delta({ content: 'b' }) + delta({ content: 'c' }, 'stop') + DONE,
    contentEvents: [0, 1, 2],
    doneEvent: 3,
    text: 'abc',
    counts: { evalCount: null, promptEvalCount: null, doneReason: 'stop' },
  },
  {
    name: 'an error event in the middle of the stream',
    api: 'completions',
    answer:
      completion('a') +
      completion('b') +
      'event: error\ndata: {"error":{"message":"engine died","type":"server_error"}}\n\n' +
      completion('c') +
      DONE,
    contentEvents: [0, 1],
    doneEvent: null,
    text: 'ab',
    streamError: /^error event: engine died$/,
  },
  {
    name: 'a JSON error data line in the middle of the stream',
    api: 'chat',
    answer: delta({ content: 'a' }) + 'data: {"error":{"message":"out of memory","code":500}}\n\n' + DONE,
    contentEvents: [0],
    doneEvent: null,
    text: 'a',
    streamError: /^out of memory$/,
  },
  {
    name: "an error object in older vLLM's shape",
    api: 'completions',
    answer: `${completion('a')}data: {"object":"error","message":"bad things","type":"BadRequestError","code":400}\n\n`,
    contentEvents: [0],
    doneEvent: null,
    text: 'a',
    streamError: /^bad things$/,
  },
  {
    name: 'data that is not JSON',
    api: 'completions',
    answer: `${completion('a')}data: {"choices": [\n\n${DONE}`,
    contentEvents: [0],
    doneEvent: null,
    text: 'a',
    streamError: /^unparsable data/,
  },
  {
    name: 'usage with a counter that is not a count',
    api: 'completions',
    answer: `${completion('a', 'stop')}data: {"choices":[],"usage":{"completion_tokens":-1}}\n\n${DONE}`,
    contentEvents: [0],
    doneEvent: null,
    text: 'a',
    streamError: /^usage has bad counters/,
  },
  {
    name: 'an answer that ends after a finished choice without [DONE]',
    api: 'completions',
    answer: completion('a') + completion('b', 'stop'),
    contentEvents: [0, 1],
    doneEvent: 'end',
    text: 'ab',
  },
  {
    name: 'an answer that ends mid-generation without [DONE]',
    api: 'completions',
    answer: `${completion('a')}data: {"choices":[{"text":"b"`,
    contentEvents: [0],
    doneEvent: null,
    text: 'a',
    streamError: /^stream ended without data: \[DONE\]$/,
  },
  {
    name: 'events after [DONE], which are ignored',
    api: 'completions',
    answer: completion('a', 'stop') + DONE + completion('late'),
    contentEvents: [0],
    doneEvent: 1,
    text: 'a',
  },
];

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

/** Index of the piece that holds byte `offset`. */
function pieceOf(pieces: Buffer[], offset: number): number {
  let end = 0;
  for (let i = 0; i < pieces.length; i++) {
    end += (pieces[i] as Buffer).length;
    if (offset < end) return i;
  }
  return pieces.length;
}

function expectRead(c: Case, parser: SseParserFactory, pieces: Buffer[]): void {
  const bytes = Buffer.concat(pieces);
  const ends = eventEnds(bytes);
  const seen = read(c.api, parser, pieces);
  const where = `pieces of ${pieces.map((p) => p.length).join('+')} bytes`;
  expect(seen.text, where).toBe(c.text);
  expect(seen.streamError ?? null, where).toEqual(c.streamError === undefined ? null : expect.any(String));
  if (c.streamError !== undefined) expect(seen.streamError, where).toMatch(c.streamError);
  expect(seen.contentStamps, where).toEqual(c.contentEvents.map((e) => pieceOf(pieces, ends[e] as number)));
  const doneMs =
    c.doneEvent === null
      ? null
      : c.doneEvent === 'end'
        ? pieces.length
        : pieceOf(pieces, ends[c.doneEvent] as number);
  expect(seen.doneMs, where).toBe(doneMs);
  if (c.counts !== undefined) expect(seen.counts, where).toMatchObject(c.counts);
}

describe.each([
  { parserName: 'eventsource-parser', parser: eventSourceParser },
  { parserName: 'the hand-written byte parser', parser: byteSseParser },
])('OpenAI answers through $parserName', ({ parser }) => {
  describe.each(cases)('$name', (c) => {
    const bytes = Buffer.from(c.answer, 'utf8');

    it('reads the answer whole', () => {
      expectRead(c, parser, whole(bytes));
    });

    it('reads the answer split at every byte position', () => {
      for (let at = 1; at < bytes.length; at++) expectRead(c, parser, splitAt(bytes, at));
    });

    it('reads the answer one byte at a time', () => {
      expectRead(c, parser, oneByteEach(bytes));
    });
  });
});

describe('the test itself', () => {
  it('finds where each event ends, for LF, CRLF and lone CR', () => {
    expect(eventEnds(Buffer.from('data: a\n\n: c\n\ndata: b\n\n'))).toEqual([8, 22]);
    expect(eventEnds(Buffer.from('data: a\r\n\r\ndata: b\r\n\r\n'))).toEqual([9, 20]);
    expect(eventEnds(Buffer.from('data: a\r\rdata: b\r\r'))).toEqual([8, 17]);
  });
});

describe('openAiRequestBody', () => {
  it('asks for a stream with usage, and sends max_tokens, temperature and seed', () => {
    const base = { model: 'm', prompt: 'p', maxTokens: 7, temperature: 0.5, seed: 3 };
    expect(JSON.parse(openAiRequestBody({ ...base, protocol: 'openai' }))).toEqual({
      model: 'm',
      prompt: 'p',
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: 7,
      temperature: 0.5,
      seed: 3,
    });
    expect(JSON.parse(openAiRequestBody({ model: 'm', prompt: 'p', openaiApi: 'chat' }))).toEqual({
      model: 'm',
      messages: [{ role: 'user', content: 'p' }],
      stream: true,
      stream_options: { include_usage: true },
    });
  });
});
