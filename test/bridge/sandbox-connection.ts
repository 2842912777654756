import { readFileSync } from 'node:fs';
import { SshConnection, type SshConnectionOptions } from '../../slurm-bridge/ssh/connection.js';
import { type HpcSandbox, requireHpc } from '../sandbox/description.js';

/** Connection options for the sandbox's login node, from its description (never hard-coded). */
export function sandboxConnectionOptions(
  hpc: HpcSandbox = requireHpc(),
  overrides: Partial<SshConnectionOptions> = {},
): SshConnectionOptions {
  return {
    host: hpc.ssh.host,
    port: hpc.ssh.port,
    username: hpc.ssh.user,
    privateKey: readFileSync(hpc.ssh.privateKeyPath),
    knownHosts: readFileSync(hpc.ssh.knownHostsPath, 'utf8'),
    ...overrides,
  };
}

export function connectToSandbox(overrides: Partial<SshConnectionOptions> = {}): SshConnection {
  return new SshConnection(sandboxConnectionOptions(requireHpc(), overrides));
}

/** Polls `check` until it returns a value other than undefined, or throws after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  { timeoutMs = 60_000, intervalMs = 500 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
