import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { knownHostsName, parseKnownHosts, verifyHostKey } from './known-hosts.js';

const key = Buffer.from('AAAAC3NzaC1lZDI1NTE5AAAAIGoodKeyGoodKeyGoodKeyGoodKeyGoodKeyGoo', 'base64');
const otherKey = Buffer.from('AAAAC3NzaC1lZDI1NTE5AAAAIOtherKeyOtherKeyOtherKeyOtherKeyOtherK', 'base64');
const b64 = key.toString('base64');

function hashed(name: string): string {
  const salt = randomBytes(20);
  const hash = createHmac('sha1', salt).update(name).digest('base64');
  return `|1|${salt.toString('base64')}|${hash}`;
}

describe('known_hosts verification', () => {
  it('names a non-22 port as [host]:port and port 22 as the bare host', () => {
    expect(knownHostsName('127.0.0.1', 2222)).toBe('[127.0.0.1]:2222');
    expect(knownHostsName('login.example', 22)).toBe('login.example');
  });

  it.each([
    ['a plain [host]:port entry with the same key matches', `[127.0.0.1]:2222 ssh-ed25519 ${b64}`, 'match'],
    ['a hashed entry with the same key matches', `${hashed('[127.0.0.1]:2222')} ssh-ed25519 ${b64}`, 'match'],
    ['a comma list with a wildcard matches', `other,[127.0.0.*]:2222 ssh-ed25519 ${b64}`, 'match'],
    [
      'the right name with another key is a mismatch',
      `[127.0.0.1]:2222 ssh-ed25519 ${otherKey.toString('base64')}`,
      'mismatch',
    ],
    ['the bare host without the port does not cover port 2222', `127.0.0.1 ssh-ed25519 ${b64}`, 'unknown'],
    [
      'a hashed entry for another name is unknown',
      `${hashed('[10.0.0.1]:2222')} ssh-ed25519 ${b64}`,
      'unknown',
    ],
    ['an empty file is unknown', '', 'unknown'],
    ['a negated pattern vetoes the line', `[127.0.0.*]:2222,![127.0.0.1]:2222 ssh-ed25519 ${b64}`, 'unknown'],
    [
      'a @revoked key is refused even when another line matches',
      `@revoked * ssh-ed25519 ${b64}\n[127.0.0.1]:2222 ssh-ed25519 ${b64}`,
      'revoked',
    ],
    [
      'comments and blank lines are ignored',
      `# comment\n\n[127.0.0.1]:2222 ssh-ed25519 ${b64} user@host`,
      'match',
    ],
  ])('%s', (_sentence, text, expected) => {
    expect(verifyHostKey(parseKnownHosts(text), '127.0.0.1', 2222, key).kind).toBe(expected);
  });

  it('a mismatch reports the presented fingerprint in OpenSSH form', () => {
    const verdict = verifyHostKey(
      parseKnownHosts(`[h]:2222 ssh-ed25519 ${otherKey.toString('base64')}`),
      'h',
      2222,
      key,
    );
    expect(verdict).toMatchObject({
      kind: 'mismatch',
      fingerprint: expect.stringMatching(/^SHA256:[A-Za-z0-9+/]+$/),
    });
  });
});
