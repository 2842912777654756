import { describe, expect, it } from 'vitest';
import { NdjsonLineSplitter } from './ndjson.js';

function splitAll(chunks: Buffer[]): string[] {
  const splitter = new NdjsonLineSplitter();
  const out: string[] = [];
  for (const c of chunks) out.push(...splitter.push(c));
  const rest = splitter.flush();
  if (rest !== null) out.push(rest);
  return out;
}

describe('NdjsonLineSplitter', () => {
  const text = '{"response":"héllo 🌍"}\n{"response":"b"}\r\n\n{"done":true}\n';
  const expected = ['{"response":"héllo 🌍"}', '{"response":"b"}', '{"done":true}'];

  it('gives the same lines whatever the chunk boundaries, even inside a UTF-8 character', () => {
    const bytes = Buffer.from(text, 'utf8');
    for (let size = 1; size <= bytes.length; size++) {
      const chunks: Buffer[] = [];
      for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
      expect(splitAll(chunks)).toEqual(expected);
    }
  });

  it('returns an unterminated last line on flush', () => {
    expect(splitAll([Buffer.from('{"a":1}\n{"error":"boom"}')])).toEqual(['{"a":1}', '{"error":"boom"}']);
  });

  it('returns nothing for an empty stream', () => {
    expect(splitAll([])).toEqual([]);
  });
});
