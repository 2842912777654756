import { describe, expect, it } from 'vitest';
import { parseBindAddress } from './http-servers.js';

describe('parseBindAddress', () => {
  const cases: Array<{
    sentence: string;
    text: string;
    want?: { host: string; port: number };
    error?: RegExp;
  }> = [
    {
      sentence: 'should bind all interfaces for a bare :port',
      text: ':8080',
      want: { host: '0.0.0.0', port: 8080 },
    },
    {
      sentence: 'should keep an explicit loopback host',
      text: '127.0.0.1:8081',
      want: { host: '127.0.0.1', port: 8081 },
    },
    {
      sentence: 'should accept a bracketed IPv6 host',
      text: '[::1]:9000',
      want: { host: '::1', port: 9000 },
    },
    {
      sentence: 'should accept port 0 for an ephemeral port',
      text: '127.0.0.1:0',
      want: { host: '127.0.0.1', port: 0 },
    },
    { sentence: 'should refuse a port above 65535', text: ':70000', error: /out of range/ },
    { sentence: 'should refuse text without a port', text: 'localhost', error: /bind address/ },
  ];
  for (const { sentence, text, want, error } of cases) {
    it(sentence, () => {
      if (error) expect(() => parseBindAddress(text)).toThrow(error);
      else expect(parseBindAddress(text)).toEqual(want);
    });
  }
});
