import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type RunStatus,
  RunStatus as RunStatusSchema,
  type StartRunInput,
} from '../../client-service/api-schema.js';
import { readSandbox } from '../sandbox/description.js';

/**
 * Starts the REAL client-service bundle (dist/client-service.mjs, what the operator uploads) as its own
 * process, and talks to it over HTTP with a token passed by file, as the SLURM job does.
 */

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BUNDLE = join(ROOT, 'dist', 'client-service.mjs');

let bundleBuilt = false;
export function buildBundle(): void {
  if (bundleBuilt) return;
  execFileSync(process.execPath, [join(ROOT, 'test', 'build-bundles.mjs'), 'client-service'], {
    stdio: 'pipe',
  });
  bundleBuilt = true;
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  intervalMs = 20,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`,
  );
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export interface ClientServiceHandle {
  url: string;
  token: string;
  outputDir: string;
  process: ChildProcess;
  log: () => string;
  request: (method: string, path: string, body?: unknown) => Promise<Response>;
  startRun: (run: StartRunInput) => Promise<RunStatus>;
  runStatus: (id: string) => Promise<RunStatus>;
  waitForRun: (id: string, timeoutMs: number) => Promise<RunStatus>;
  stop: () => Promise<void>;
}

export async function startClientService(opts: {
  ollamaUrl: string;
  pushgatewayUrl?: string;
  model?: string;
  benchmark?: string;
  pushIntervalSeconds?: number;
}): Promise<ClientServiceHandle> {
  buildBundle();
  const dir = mkdtempSync(join(tmpdir(), 'client-service-it-'));
  const token = randomBytes(24).toString('base64url');
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, token, { mode: 0o600 });
  const outputDir = join(dir, 'results');
  const args = [
    BUNDLE,
    '--port',
    '0',
    '--token-file',
    tokenFile,
    '--ollama-url',
    opts.ollamaUrl,
    '--output-dir',
    outputDir,
    '--benchmark',
    opts.benchmark ?? 'it',
    '--push-interval-seconds',
    String(opts.pushIntervalSeconds ?? 1),
  ];
  if (opts.pushgatewayUrl !== undefined) args.push('--pushgateway-url', opts.pushgatewayUrl);
  if (opts.model !== undefined) args.push('--model', opts.model);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (c: Buffer) => {
    output += c.toString();
  });
  child.stderr?.on('data', (c: Buffer) => {
    output += c.toString();
  });
  const url = await waitFor(
    'the client-service to listen',
    () => {
      if (child.exitCode !== null) throw new Error(`client-service exited ${child.exitCode}: ${output}`);
      const match = /"address":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(output);
      return match?.[1];
    },
    30_000,
  );
  const request = (method: string, path: string, body?: unknown): Promise<Response> =>
    fetch(`${url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const runStatus = async (id: string): Promise<RunStatus> => {
    const res = await request('GET', `/runs/${id}`);
    if (res.status !== 200) throw new Error(`GET /runs/${id}: ${res.status} ${await res.text()}`);
    return RunStatusSchema.parse(await res.json());
  };
  return {
    url,
    token,
    outputDir,
    process: child,
    log: () => output,
    request,
    startRun: async (run) => {
      const res = await request('POST', '/runs', run);
      if (res.status !== 201 && res.status !== 200)
        throw new Error(`POST /runs: ${res.status} ${await res.text()}`);
      return RunStatusSchema.parse(await res.json());
    },
    runStatus,
    waitForRun: (id, timeoutMs) =>
      waitFor(
        `run ${id} to finish`,
        async () => {
          const status = await runStatus(id);
          return status.state === 'running' ? undefined : status;
        },
        timeoutMs,
        100,
      ),
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** The Pushgateway binary: the sandbox's when it is up, else Debian's on PATH. */
function pushgatewayBinary(): string {
  try {
    const hpc = readSandbox().hpc;
    if (hpc !== undefined && existsSync(hpc.bin.pushgateway)) return hpc.bin.pushgateway;
  } catch {
    // no sandbox description: fall back to PATH
  }
  return 'prometheus-pushgateway';
}

/** A real prometheus-pushgateway on a free loopback port, for the length of a test file. */
export async function startPushgateway(): Promise<{ url: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const child = spawn(pushgatewayBinary(), [`--web.listen-address=127.0.0.1:${port}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr?.on('data', (c: Buffer) => {
    log += c.toString();
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    'the Pushgateway to be ready',
    async () => {
      if (child.exitCode !== null) throw new Error(`pushgateway exited ${child.exitCode}: ${log}`);
      const res = await fetch(`${url}/-/ready`);
      return res.ok ? true : undefined;
    },
    15_000,
    50,
  );
  return {
    url,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
