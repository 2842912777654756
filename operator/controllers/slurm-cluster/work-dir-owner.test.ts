import { describe, expect, it } from 'vitest';
import { type WorkDirClaim, workDirOwner } from './work-dir-owner.js';

function claim(
  key: string,
  createdAt: number,
  more: Partial<WorkDirClaim['spec']> = {},
  resolved?: string,
): WorkDirClaim {
  return {
    key,
    createdAt,
    spec: { host: 'login.example.org', port: 22, user: 'u1', workDir: 'hpcbench', ...more },
    ...(resolved ? { resolvedWorkDir: resolved } : {}),
  };
}

describe('workDirOwner', () => {
  it('lets the oldest of two clusters on the same user and work dir keep it', () => {
    const old = claim('a/old', 1);
    const young = claim('b/young', 2);
    expect(workDirOwner(young, [old, young])?.key).toBe('a/old');
    expect(workDirOwner(old, [old, young])).toBeUndefined();
  });

  it('breaks a tie in creation time by name, the same way from both sides', () => {
    const a = claim('ns/a', 5);
    const b = claim('ns/b', 5);
    expect(workDirOwner(b, [a, b])?.key).toBe('ns/a');
    expect(workDirOwner(a, [a, b])).toBeUndefined();
  });

  it('sees no conflict across hosts, ports, users or work dirs', () => {
    const self = claim('ns/self', 2);
    for (const other of [
      claim('ns/h', 1, { host: 'other.example.org' }),
      claim('ns/p', 1, { port: 2222 }),
      claim('ns/u', 1, { user: 'u2' }),
      claim('ns/w', 1, { workDir: 'hpcbench-2' }),
    ])
      expect(workDirOwner(self, [other])).toBeUndefined();
  });

  it('compares resolved work dirs when both are known, and host names without case', () => {
    const relative = claim('ns/rel', 1, { host: 'LOGIN.example.org' }, '/home/u1/hpcbench');
    const absolute = claim('ns/abs', 2, { workDir: '/home/u1/hpcbench/' }, '/home/u1/hpcbench');
    expect(workDirOwner(absolute, [relative])?.key).toBe('ns/rel');
  });
});
