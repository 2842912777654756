import { describe, expect, it } from 'vitest';
import { PathOutsideWorkDirError } from './errors.js';
import { confinePath } from './sftp.js';

describe('confinePath', () => {
  it.each([
    ['a relative file lands inside the work dir', 'bin/client.mjs', '/home/u/hpcbench/bin/client.mjs'],
    ['an absolute path inside is kept', '/home/u/hpcbench/logs/a.out', '/home/u/hpcbench/logs/a.out'],
    ['a harmless .. that stays inside is normalised', 'a/../b', '/home/u/hpcbench/b'],
    ['the work dir itself is allowed', '.', '/home/u/hpcbench'],
  ])('%s', (_sentence, input, expected) => {
    expect(confinePath('/home/u/hpcbench/', input)).toBe(expected);
  });

  it.each([
    ['a climb out with ..', '../.ssh/authorized_keys'],
    ['a deep climb out', 'a/b/../../../../etc/passwd'],
    ['an absolute path elsewhere', '/etc/passwd'],
    ['a sibling that shares the prefix', '/home/u/hpcbench-other/x'],
    ['a NUL byte', 'a\0b'],
  ])('refuses %s', (_sentence, input) => {
    expect(() => confinePath('/home/u/hpcbench', input)).toThrow(PathOutsideWorkDirError);
  });
});
