import { createHash, createHmac } from 'node:crypto';

/**
 * known_hosts verification, because ssh2 accepts ANY host key unless given a verifier. Supports plain
 * and hashed (`|1|salt|hash`) names, `[host]:port` for non-22 ports, comma lists, `*`/`?` wildcards,
 * `!negation`, and the `@revoked` marker. `@cert-authority` lines are ignored: we do not do host certs.
 */
export interface KnownHostEntry {
  readonly marker: 'revoked' | 'cert-authority' | null;
  readonly patterns: readonly string[];
  readonly keyType: string;
  readonly keyBase64: string;
}

export type HostKeyVerdict =
  | { readonly kind: 'match' }
  | { readonly kind: 'mismatch'; readonly fingerprint: string }
  | { readonly kind: 'unknown'; readonly fingerprint: string }
  | { readonly kind: 'revoked'; readonly fingerprint: string };

export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    const fields = line.split(/\s+/);
    let marker: KnownHostEntry['marker'] = null;
    if (fields[0] === '@revoked') marker = 'revoked';
    else if (fields[0] === '@cert-authority') marker = 'cert-authority';
    if (marker) fields.shift();
    const [hosts, keyType, keyBase64] = fields;
    if (!hosts || !keyType || !keyBase64) continue;
    entries.push({ marker, patterns: hosts.split(','), keyType, keyBase64 });
  }
  return entries;
}

/** The name OpenSSH looks up: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** OpenSSH-style fingerprint (`SHA256:...`) of a raw key blob, for messages. */
export function fingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

function hashedPatternMatches(pattern: string, name: string): boolean {
  const [, magic, saltB64, hashB64] = pattern.split('|');
  if (magic !== '1' || !saltB64 || !hashB64) return false;
  const digest = createHmac('sha1', Buffer.from(saltB64, 'base64')).update(name).digest('base64');
  return digest === hashB64;
}

function wildcardMatches(pattern: string, name: string): boolean {
  const regex = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${regex}$`, 'i').test(name);
}

/** OpenSSH semantics: any negated pattern that matches vetoes the line; otherwise one positive match suffices. */
export function entryMatchesName(entry: KnownHostEntry, name: string): boolean {
  let positive = false;
  for (const pattern of entry.patterns) {
    if (pattern.startsWith('|')) {
      if (hashedPatternMatches(pattern, name)) positive = true;
    } else if (pattern.startsWith('!')) {
      if (wildcardMatches(pattern.slice(1), name)) return false;
    } else if (wildcardMatches(pattern, name)) {
      positive = true;
    }
  }
  return positive;
}

export function verifyHostKey(
  entries: readonly KnownHostEntry[],
  host: string,
  port: number,
  keyBlob: Buffer,
): HostKeyVerdict {
  const name = knownHostsName(host, port);
  const presented = keyBlob.toString('base64');
  const print = fingerprint(keyBlob);
  let sawName = false;
  for (const entry of entries) {
    if (entry.marker === 'revoked' && entry.keyBase64 === presented)
      return { kind: 'revoked', fingerprint: print };
  }
  for (const entry of entries) {
    if (entry.marker !== null || !entryMatchesName(entry, name)) continue;
    sawName = true;
    if (entry.keyBase64 === presented) return { kind: 'match' };
  }
  return sawName ? { kind: 'mismatch', fingerprint: print } : { kind: 'unknown', fingerprint: print };
}
