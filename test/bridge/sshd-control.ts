import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HpcSandbox } from '../sandbox/description.js';
import { waitFor } from './sandbox-connection.js';

/** Dead or a zombie: PID 1 here reaps orphans only every ~2 s, so `kill -0` alone would say alive. */
function isGone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

function childrenOf(parent: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === parent) children.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return children;
}

/**
 * A real sshd restart as a login node's admin would cause it: the listener AND its per-connection
 * processes die (SIGHUP would keep connections), then a fresh sshd starts from the same config.
 */
export async function restartSshd(hpc: HpcSandbox, stateDir: string): Promise<void> {
  const master = Number(readFileSync(hpc.ssh.pidFile, 'utf8').trim());
  const sessions = childrenOf(master);
  for (const pid of [master, ...sessions]) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // Already gone.
    }
  }
  await waitFor(
    'the old sshd to exit',
    async () => ([master, ...sessions].every(isGone) ? true : undefined),
    {
      timeoutMs: 15_000,
      intervalMs: 100,
    },
  );
  const log = join(hpc.ssh.configPath, '..', 'sshd.log');
  execFileSync('/usr/sbin/sshd', ['-f', hpc.ssh.configPath, '-E', log]);
  await waitFor(
    'the new sshd pid file',
    async () => {
      const pid = Number(readFileSync(hpc.ssh.pidFile, 'utf8').trim());
      return pid !== master && !isGone(pid) ? pid : undefined;
    },
    { timeoutMs: 15_000, intervalMs: 100 },
  );
  // The sandbox's `down` stops what its pid folder lists: keep that copy current.
  const sandboxCopy = join(stateDir, 'hpc', 'pids', 'sshd.pid');
  if (existsSync(sandboxCopy)) copyFileSync(hpc.ssh.pidFile, sandboxCopy);
}
