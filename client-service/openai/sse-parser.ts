import { StringDecoder } from 'node:string_decoder';
import { createParser } from 'eventsource-parser';

/**
 * Server-sent events (WHATWG HTML "event stream" format) from the bytes of one answer. A parser calls
 * `onEvent` synchronously from `feed`, so an event carries the stamp of the socket read that completed
 * it (its terminating empty line).
 */

export interface SseEvent {
  /** The `event:` field; undefined for the default type ("message"). */
  event?: string | undefined;
  /** The `data:` lines joined with "\n". */
  data: string;
}

export interface SseParser {
  /** `bytes` may be a view of a reused buffer: nothing of it is kept without copying. */
  feed(bytes: Buffer): void;
}

export type SseParserFactory = (onEvent: (event: SseEvent) => void) => SseParser;

/**
 * eventsource-parser (a well-kept, spec-following parser) behind a UTF-8 decoder that keeps a character
 * split across two reads whole. It parses strings, and keeps no reference to the bytes.
 */
export const eventSourceParser: SseParserFactory = (onEvent) => {
  const decoder = new StringDecoder('utf8');
  const parser = createParser({ onEvent });
  return { feed: (bytes) => parser.feed(decoder.write(bytes)) };
};
