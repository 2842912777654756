import { posix } from 'node:path';

/**
 * Names that tie SLURM jobs and remote files to one run of one benchmark. A run is one generation of the
 * spec: a spec change is a new run, with new jobs and a fresh folder, so nothing of the old run is reused.
 */
export type JobRole = 'server' | 'client';

export interface RunIdentity {
  /** Idempotent run id sent to the client-service: uid and generation. */
  readonly runId: string;
  /** `--comment` of every job of this run; adoption looks for exactly this. */
  readonly tag: string;
  /** Prefix shared by the tags of every run of this benchmark (deletion cancels all of them). */
  readonly tagPrefix: string;
  readonly generation: number;
}

/** Every benchmark job's tag starts with this (the monitoring job's does not). */
export const BENCHMARK_TAG_PREFIX = 'ibo.';

/** Slurm comments and run ids allow letters, digits and `._-`; a Kubernetes uid is hex and dashes. */
export function runIdentity(uid: string, generation: number): RunIdentity {
  const tagPrefix = `${BENCHMARK_TAG_PREFIX}${uid}.`;
  return {
    runId: `${uid}-g${generation}`,
    tag: `${tagPrefix}g${generation}`,
    tagPrefix,
    generation,
  };
}

/** Job names: the role first so `squeue` reads well, then the benchmark (sanitized by slurm-bridge). */
export function jobName(role: JobRole, namespace: string, name: string): string {
  return `ibo-${role}-${namespace}-${name}`;
}

/** Where one run keeps its files on the cluster: endpoint files, the client token, job logs, results. */
export interface RunPaths {
  readonly dir: string;
  readonly serverEndpoint: string;
  /** The server job's model preparation: Ollama's last pull progress line, then {"status":"ready"}. */
  readonly serverModelState: string;
  readonly clientEndpoint: string;
  readonly clientToken: string;
  /** The Hugging Face token (mode 0600), when the spec names a Secret; the server job reads it into HF_TOKEN. */
  readonly serverHfToken: string;
  readonly results: string;
  log(role: JobRole): string;
}

export function runPaths(workDir: string, namespace: string, name: string, runId: string): RunPaths {
  const dir = posix.join(workDir, 'benchmarks', namespace, name, runId);
  return {
    dir,
    serverEndpoint: posix.join(dir, 'server.endpoint'),
    serverModelState: posix.join(dir, 'server.model.json'),
    clientEndpoint: posix.join(dir, 'client.endpoint'),
    clientToken: posix.join(dir, 'client.token'),
    serverHfToken: posix.join(dir, 'server.hf-token'),
    results: posix.join(dir, 'results'),
    // One file per job id: `%j` is expanded by Slurm, so a resubmitted job never appends to an old log.
    log: (role) => posix.join(dir, `${role}-%j.log`),
  };
}

/** The log path of a known job: the `%j` of `runPaths().log` filled in. */
export function jobLogPath(paths: RunPaths, role: JobRole, jobId: string): string {
  return paths.log(role).replace('%j', jobId);
}

/** Ollama lists `llama2` as `llama2:latest`; a registry's port (`host:5000/name`) is no tag. */
export function normalizeModelName(model: string): string {
  const last = model.slice(model.lastIndexOf('/') + 1);
  return last.includes(':') ? model : `${model}:latest`;
}
