import { spawn } from 'node:child_process';
import { createConnection, createServer } from 'node:net';
import type { HpcSandbox } from '../sandbox/description.js';
import { waitFor } from './wait.js';

/**
 * The OpenSSH client binary, driven through child_process: the sandbox's tests check the login node with
 * the same tool a person would use, independent of the project's own SSH library.
 */
export type SshTarget = HpcSandbox['ssh'];

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Written to the remote command's stdin (for example an sbatch script). */
  input?: string;
  timeoutMs?: number;
  /** Extra ssh options placed before the destination, e.g. ['-o', 'UserKnownHostsFile=/tmp/x']. */
  sshOptions?: string[];
}

/** Options that make ssh strict and non-interactive: only the sandbox's key and known_hosts count. */
export function sshArgs(target: SshTarget, extra: readonly string[] = []): string[] {
  return [
    '-i',
    target.privateKeyPath,
    '-o',
    `UserKnownHostsFile=${target.knownHostsPath}`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'BatchMode=yes',
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'LogLevel=ERROR',
    '-o',
    'ConnectTimeout=10',
    '-p',
    String(target.port),
    ...extra,
    `${target.user}@${target.host}`,
  ];
}

/** Runs a local program, collecting its output; never rejects for a non-zero exit. */
export function runProgram(
  program: string,
  args: readonly string[],
  options: { input?: string; timeoutMs?: number } = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.on('error', () => {
      // The remote side may exit before reading all input; its exit code tells the story.
    });
    child.stdin.end(options.input ?? '');
  });
}

/** Runs one command on the login node; the command text must not contain user-provided strings. */
export function runRemote(
  target: SshTarget,
  command: string,
  options: RunOptions = {},
): Promise<CommandResult> {
  return runProgram('ssh', [...sshArgs(target, options.sshOptions), command], options);
}

// Other suites restart the shared sshd on purpose (reconnect tests); a refused or reset connection before
// the command ran is retried for a few seconds instead of failing an unrelated test.
const TRANSIENT_SSH_FAILURE =
  /Connection refused|Connection reset|Connection closed by|kex_exchange_identification/;

/** Like runRemote, but a non-zero exit is an error that carries stderr. Returns stdout. */
export async function remote(target: SshTarget, command: string, options: RunOptions = {}): Promise<string> {
  let result = await runRemote(target, command, options);
  const retryUntil = Date.now() + 15_000;
  while (result.code === 255 && TRANSIENT_SSH_FAILURE.test(result.stderr) && Date.now() < retryUntil) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    result = await runRemote(target, command, options);
  }
  if (result.code !== 0) {
    throw new Error(`remote command failed (exit ${result.code}): ${command}\n${result.stderr.trim()}`);
  }
  return result.stdout;
}

export async function freeLocalPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export interface PortForward {
  /** Local URL base, e.g. http://127.0.0.1:41234 */
  url: string;
  localPort: number;
  close(): Promise<void>;
}

/** `ssh -N -L`: a local loopback port that reaches remoteHost:remotePort as seen from the login node. */
export async function openForward(
  target: SshTarget,
  remoteHost: string,
  remotePort: number,
): Promise<PortForward> {
  const localPort = await freeLocalPort();
  const child = spawn(
    'ssh',
    sshArgs(target, [
      '-N',
      '-o',
      'ExitOnForwardFailure=yes',
      '-L',
      `127.0.0.1:${localPort}:${remoteHost}:${remotePort}`,
    ]),
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  let exited = false;
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exitedPromise = new Promise<void>((resolve) => {
    child.on('close', () => {
      exited = true;
      resolve();
    });
  });
  const close = async () => {
    if (!exited) child.kill('SIGTERM');
    await exitedPromise;
  };
  try {
    await waitFor(
      `ssh forward to ${remoteHost}:${remotePort}`,
      async () => {
        if (exited) throw new Error(`ssh exited: ${stderr.trim()}`);
        return (await canConnect(localPort)) ? true : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 100 },
    );
  } catch (error) {
    await close();
    throw error;
  }
  return { url: `http://127.0.0.1:${localPort}`, localPort, close };
}
