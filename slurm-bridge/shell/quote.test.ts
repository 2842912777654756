import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { shellJoin, shellQuote } from './quote.js';

const hostile = [
  'x; touch /tmp/pwned',
  '$(id)',
  '`id`',
  "it's",
  "'; rm -rf / #",
  '"double"',
  'line1\nline2',
  '\\',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell expansion is exactly what this case tests
  '$HOME ${PATH} $((1+1))',
  '*',
  '~',
  '!!',
  '-n',
  '',
  ' leading and trailing ',
  "''''",
  'a\tb\r\n',
  'ünïcødé 🚀',
] as const;

/** Round-trips through a real /bin/sh: what printf receives must be exactly the input. */
function echoedByShell(quoted: string): string {
  return execFileSync('/bin/sh', ['-c', `printf '%s' ${quoted}`], { encoding: 'utf8' });
}

describe('shellQuote', () => {
  it('wraps a plain word in single quotes', () => {
    expect(shellQuote('abc')).toBe("'abc'");
  });

  it("writes a single quote as '\"'\"'", () => {
    expect(shellQuote("a'b")).toBe(`'a'"'"'b'`);
  });

  it('keeps the empty string as one argument', () => {
    expect(shellQuote('')).toBe("''");
  });

  it('refuses a NUL byte instead of truncating', () => {
    expect(() => shellQuote('a\0b')).toThrow(/NUL/);
  });

  it.each(hostile)('passes %j through a real shell unchanged and executes nothing', (value) => {
    expect(echoedByShell(shellQuote(value))).toBe(value);
  });

  it('keeps each argument separate when joined', () => {
    const args = ['a b', "c'd", '$(id)'];
    const out = execFileSync('/bin/sh', ['-c', `printf '[%s]' ${shellJoin(args)}`], { encoding: 'utf8' });
    expect(out).toBe("[a b][c'd][$(id)]");
  });
});
