import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { HpcSandbox } from '../sandbox/description.js';
import { remote, type SshTarget } from './ssh.js';
import { GiveUp, type WaitOptions, waitFor } from './wait.js';

/** Job scripts the sandbox tests, the smoke benchmark and bench-ollama.ts submit (test/hpc/jobs). */
export function jobScript(name: 'http-echo' | 'ollama' | 'prometheus' | 'sleep'): string {
  return readFileSync(fileURLToPath(new URL(`../hpc/jobs/${name}.sh`, import.meta.url)), 'utf8');
}

// sbatch options travel on the command line. Tests only pass fixed tokens; this guard keeps it that way
// without a quoting helper of their own.
const SAFE_OPTION = /^[A-Za-z0-9_=:,.%/+-]+$/;

/** `sbatch --parsable` with the script on stdin; returns the job id. */
export async function submitJob(
  target: SshTarget,
  script: string,
  options: readonly string[] = [],
): Promise<string> {
  for (const option of options) {
    if (!SAFE_OPTION.test(option)) throw new Error(`unsafe sbatch option in a test: ${option}`);
  }
  const out = await remote(target, ['sbatch', '--parsable', ...options].join(' '), { input: script });
  const id = out.trim().split(';')[0] ?? '';
  if (!/^\d+$/.test(id)) throw new Error(`sbatch printed no job id: ${out}`);
  return id;
}

function assertJobId(id: string): void {
  if (!/^\d+$/.test(id)) throw new Error(`not a job id: ${id}`);
}

/** Current state of each job, including finished ones (`-t all`); a purged job is absent. */
export async function jobStates(target: SshTarget, ids: readonly string[]): Promise<Map<string, string>> {
  ids.forEach(assertJobId);
  const out = await remote(target, `squeue -h -t all -j ${ids.join(',')} -o '%i|%T'`);
  const states = new Map<string, string>();
  for (const line of out.split('\n')) {
    const [id, state] = line.trim().split('|');
    if (id && state) states.set(id, state);
  }
  return states;
}

export async function waitForJobState(
  target: SshTarget,
  id: string,
  wanted: readonly string[],
  options: WaitOptions = {},
): Promise<string> {
  let seen = 'unknown';
  return waitFor(
    `job ${id} to reach ${wanted.join('|')}`,
    async () => {
      seen = (await jobStates(target, [id])).get(id) ?? 'absent';
      if (wanted.includes(seen)) return seen;
      throw new Error(`job ${id} is ${seen}`);
    },
    { timeoutMs: 120_000, intervalMs: 500, ...options },
  );
}

export async function cancelJobs(target: SshTarget, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  ids.forEach(assertJobId);
  await remote(target, `scancel ${ids.join(' ')}`);
}

const Endpoints = z.record(z.string(), z.string().regex(/^[\w.-]+:\d+$/));
export type Endpoints = z.infer<typeof Endpoints>;

/** The file a test job writes (atomically) once its servers answer: name → "host:port". */
export function endpointFile(hpc: HpcSandbox, id: string): string {
  assertJobId(id);
  return `${hpc.workDir}/test-endpoints/${id}.json`;
}

/** Waits until the job wrote its endpoint file; fails early when the job ends first. */
export async function waitForEndpoints(
  hpc: HpcSandbox,
  id: string,
  options: WaitOptions = {},
): Promise<Endpoints> {
  const file = endpointFile(hpc, id);
  return waitFor(
    `endpoints of job ${id}`,
    async () => {
      const out = await remote(hpc.ssh, `cat ${file} 2>/dev/null || squeue -h -t all -j ${id} -o %T`);
      const text = out.trim();
      if (text.startsWith('{')) return Endpoints.parse(JSON.parse(text));
      if (text !== '' && !['PENDING', 'CONFIGURING', 'RUNNING'].includes(text)) {
        throw new GiveUp(`job ${id} ended as ${text} before writing ${file}`);
      }
      throw new Error(`job ${id} is ${text || 'not listed'} and has not written ${file}`);
    },
    { timeoutMs: 120_000, intervalMs: 500, ...options },
  );
}

export function splitHostPort(endpoint: string): { host: string; port: number } {
  const at = endpoint.lastIndexOf(':');
  return { host: endpoint.slice(0, at), port: Number(endpoint.slice(at + 1)) };
}
