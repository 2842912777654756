import { posix } from 'node:path';
import { shellQuote } from '../../slurm-bridge/shell/quote.js';
import type { HpcSandbox } from '../sandbox/description.js';
import { remote } from './ssh.js';

/**
 * Makes commands on the sandbox's login node misbehave for the length of a callback, without touching the
 * rest of the machine: the sandbox puts a fault dir (empty by default) first on the login user's PATH for
 * every SSH command, and these helpers drop wrapper scripts there and remove them afterwards.
 *
 * Slurm jobs inherit the PATH of the session that submitted them, so every wrapper first hands a call made
 * inside a job (SLURM_JOB_ID set) to the real command: only the login node misbehaves.
 */
const COMMAND_NAME = /^[a-z][a-z0-9_-]*$/;

export function loginFaultDir(hpc: HpcSandbox): string {
  if (!hpc.loginFaultDir) {
    throw new Error('the sandbox description has no loginFaultDir: run `bash test/sandbox/sandbox up` again');
  }
  return hpc.loginFaultDir;
}

/** sh text that runs the real `name` (the PATH without the fault dir) with the wrapper's arguments. */
export function realCommand(hpc: HpcSandbox, name: string): string {
  assertCommandName(name);
  return `PATH=\${PATH#${shellQuote(`${loginFaultDir(hpc)}:`)}}; exec ${name} "$@"`;
}

/** A wrapper body that fails the way a Slurm command does when slurmctld cannot be reached. */
export function failingBody(name: string, message?: string): string {
  assertCommandName(name);
  const text =
    message ?? `${name}: error: slurm_receive_msg: Unable to contact slurm controller (connect failure)`;
  return `printf '%s\\n' ${shellQuote(text)} >&2\nexit 1`;
}

/**
 * Installs `wrappers` (command name → sh body run on the login node in place of that command), runs `fn`,
 * and removes them again even when `fn` throws.
 */
export async function withCommandWrappers<T>(
  hpc: HpcSandbox,
  wrappers: Readonly<Record<string, string>>,
  fn: () => Promise<T>,
): Promise<T> {
  const dir = loginFaultDir(hpc);
  const names = Object.keys(wrappers);
  const installed: string[] = [];
  try {
    for (const name of names) {
      assertCommandName(name);
      const script = [
        '#!/bin/sh',
        '# Installed by a test (test/support/login-faults.ts); `sandbox up` removes leftovers.',
        `if [ -n "\${SLURM_JOB_ID:-}" ]; then ${realCommand(hpc, name)}; fi`,
        wrappers[name] ?? '',
        '',
      ].join('\n');
      const path = posix.join(dir, name);
      // Written beside and renamed: a command started meanwhile sees the old or the new file, never half.
      await remote(
        hpc.ssh,
        `cat > ${shellQuote(`${path}.tmp`)} && chmod 755 ${shellQuote(`${path}.tmp`)} && mv -f ${shellQuote(`${path}.tmp`)} ${shellQuote(path)}`,
        { input: script },
      );
      installed.push(path);
    }
    return await fn();
  } finally {
    if (installed.length > 0) await remote(hpc.ssh, `rm -f ${installed.map(shellQuote).join(' ')}`);
  }
}

/** Every listed command fails on the login node (stderr + exit 1) while `fn` runs. */
export function withFailingCommands<T>(
  hpc: HpcSandbox,
  names: readonly string[],
  fn: () => Promise<T>,
): Promise<T> {
  return withCommandWrappers(hpc, Object.fromEntries(names.map((name) => [name, failingBody(name)])), fn);
}

function assertCommandName(name: string): void {
  if (!COMMAND_NAME.test(name)) throw new Error(`not a command name: ${JSON.stringify(name)}`);
}
