import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { type RequestInit, type Response, fetch as undiciFetch } from 'undici';
import type { SlurmClusterSpec } from '../../crds/index.js';
import {
  CommandTimeoutError,
  type ConnectionState,
  type ExecFunction,
  RemoteFiles,
  SlurmClient,
  SshConnection,
  type SshForward,
  shellQuote,
} from '../../slurm-bridge/index.js';
import type { Clock } from '../runtime/clock.js';
import type { OperatorMetrics } from '../runtime/metrics.js';
import { BatchedJobWatcher } from './job-watcher.js';
import type { ClusterKey, ClusterSession, OwnerKey } from './types.js';

const SLURM_VERBS = ['sbatch', 'squeue', 'scontrol', 'scancel', 'sinfo'] as const;
const DEFAULT_FETCH_TIMEOUT_MS = 10_000;

export interface SessionCredentials {
  privateKey: Buffer;
  knownHosts: string;
}

export interface OpenSessionOptions {
  key: ClusterKey;
  spec: SlurmClusterSpec;
  credentials: SessionCredentials;
  clock: Clock;
  metrics: OperatorMetrics;
  onJobChange: (owner: OwnerKey) => void;
  onWarning?: (message: string, detail: Record<string, unknown>) => void;
  /**
   * Called right before every sbatch and scancel; throws (NotLeaderError) when this replica may not act
   * any more (leader election's fencing, docs/architecture.md#state-rules).
   */
  fence?: () => void;
  /** Tests shorten the watcher's intervals. */
  watcher?: { fastIntervalMs?: number; slowIntervalMs?: number };
}

function gaugeState(state: ConnectionState): 'disconnected' | 'connecting' | 'connected' {
  if (state.status === 'connected') return 'connected';
  if (state.status === 'connecting' || state.status === 'reconnecting') return 'connecting';
  return 'disconnected';
}

/** The first Slurm command named in a command line, for the per-verb metrics. */
export function slurmVerbOf(command: string): string {
  const match = new RegExp(`\\b(${SLURM_VERBS.join('|')})\\b`).exec(command);
  return match?.[1] ?? 'other';
}

/**
 * Opens the ONE connection of a cluster, resolves its work dir (relative paths are relative to the login
 * user's home) and wires the SLURM client and the batched job watcher over it.
 */
export async function openClusterSession(options: OpenSessionOptions): Promise<ClusterSessionImpl> {
  const { spec, key, metrics } = options;
  const connection = new SshConnection({
    host: spec.host,
    port: spec.port,
    username: spec.user,
    privateKey: options.credentials.privateKey,
    knownHosts: options.credentials.knownHosts,
  });
  connection.on('state', (state) => metrics.setSshConnectionState(key, gaugeState(state)));
  try {
    await connection.connect();
    const exec: ExecFunction = async (command, execOptions) => {
      const verb = slurmVerbOf(command);
      if (verb === 'sbatch' || verb === 'scancel') options.fence?.();
      try {
        const result = await connection.exec(command, execOptions);
        if (verb !== 'other') metrics.recordSlurmCommand(key, verb, result.code === 0 ? 'ok' : 'error');
        return result;
      } catch (error) {
        if (verb !== 'other')
          metrics.recordSlurmCommand(key, verb, error instanceof CommandTimeoutError ? 'timeout' : 'error');
        throw error;
      }
    };
    const workDir = await resolveWorkDir(exec, spec.workDir);
    const mkdir = await exec(`mkdir -p -- ${shellQuote(workDir)}`, { timeoutSeconds: 30 });
    if (mkdir.code !== 0) throw new Error(`cannot create work dir ${workDir}: ${mkdir.stderr.trim()}`);
    return new ClusterSessionImpl(key, spec, connection, exec, workDir, options);
  } catch (error) {
    metrics.setSshConnectionState(key, 'disconnected');
    await connection.close();
    throw error;
  }
}

async function resolveWorkDir(exec: ExecFunction, workDir: string): Promise<string> {
  if (workDir.startsWith('/')) return posix.normalize(workDir);
  const home = await exec('printf %s "$HOME"', { timeoutSeconds: 30 });
  const path = home.stdout.trim();
  if (home.code !== 0 || !path.startsWith('/'))
    throw new Error(`cannot resolve the login user's home directory for workDir ${workDir}`);
  return posix.join(path, workDir);
}

export class ClusterSessionImpl implements ClusterSession {
  readonly slurm: SlurmClient;
  readonly watcher: BatchedJobWatcher;
  readonly files: RemoteFiles;
  private readonly forwards = new Map<string, SshForward>();
  private readonly uploads = new Map<string, Promise<string>>();

  constructor(
    readonly key: ClusterKey,
    public spec: SlurmClusterSpec,
    readonly connection: SshConnection,
    exec: ExecFunction,
    readonly workDir: string,
    options: OpenSessionOptions,
  ) {
    this.slurm = new SlurmClient(exec, options.onWarning ? { onWarning: options.onWarning } : {});
    this.files = new RemoteFiles(connection, workDir);
    this.watcher = new BatchedJobWatcher({
      query: (ids) => this.slurm.queryJobs(ids),
      clock: options.clock,
      onChange: options.onJobChange,
      onError: (error) =>
        options.onWarning?.('batched job query failed', {
          error: error instanceof Error ? error.message : String(error),
        }),
      ...options.watcher,
    });
    this.watcher.start();
  }

  ensureUploaded(name: string, bytes: Buffer, mode = 0o644): Promise<string> {
    const digest = createHash('sha256').update(bytes).digest('hex').slice(0, 16);
    const relative = posix.join('bin', `${digest}-${name}`);
    let upload = this.uploads.get(relative);
    if (!upload) {
      upload = this.uploadOnce(relative, bytes, mode);
      this.uploads.set(relative, upload);
      // A failed upload is forgotten, so the next call tries again.
      upload.catch(() => this.uploads.delete(relative));
    }
    return upload;
  }

  private async uploadOnce(relative: string, bytes: Buffer, mode: number): Promise<string> {
    const absolute = this.files.resolve(relative);
    const present = await this.files
      .list(posix.dirname(relative))
      .then((entries) => entries.some((e) => e.name === posix.basename(relative) && e.size === bytes.length))
      .catch(() => false);
    if (!present) {
      await this.files.mkdirp(posix.dirname(relative));
      await this.files.uploadAtomic(relative, bytes, mode);
    }
    return absolute;
  }

  fetch(url: string, init: RequestInit & { timeoutMs?: number } = {}): Promise<Response> {
    const target = new URL(url);
    const port = Number(target.port || (target.protocol === 'https:' ? 443 : 80));
    const hostKey = `${target.hostname}:${port}`;
    let forward = this.forwards.get(hostKey);
    if (!forward) {
      forward = this.connection.forward(target.hostname.replace(/^\[|\]$/g, ''), port);
      this.forwards.set(hostKey, forward);
    }
    const { timeoutMs, ...rest } = init;
    const timeout = AbortSignal.timeout(timeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS);
    const signal = rest.signal ? AbortSignal.any([rest.signal as AbortSignal, timeout]) : timeout;
    return undiciFetch(url, { ...rest, dispatcher: forward, signal });
  }

  async close(): Promise<void> {
    this.watcher.stop();
    await Promise.allSettled([...this.forwards.values()].map((forward) => forward.close()));
    this.forwards.clear();
    await this.connection.close();
  }
}
