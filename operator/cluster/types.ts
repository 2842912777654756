import type { RequestInit, Response } from 'undici';
import type { SlurmClusterSpec } from '../../crds/index.js';
import type {
  ConnectionState,
  JobLookup,
  RemoteFiles,
  SlurmClient,
  SshConnection,
} from '../../slurm-bridge/index.js';

/**
 * The contract between the SlurmCluster controller (which builds and owns cluster sessions) and every
 * other part of the operator that talks to a cluster (the InferenceBenchmark controller, metrics).
 * One session per SlurmCluster: ONE SSH connection, ONE SlurmClient over it, ONE batched job watcher.
 */

/** "namespace/name" of a SlurmCluster. */
export type ClusterKey = string;
/** "namespace/name" of the object that owns watched jobs (a benchmark, or a cluster for its monitoring job). */
export type OwnerKey = string;

export interface ClusterSession {
  readonly key: ClusterKey;
  /**
   * The SlurmCluster's current spec (defaults applied). A change to how to connect (host, port, user, work
   * dir, credentials) rebuilds the session; any other change is applied to it in place.
   */
  readonly spec: SlurmClusterSpec;
  readonly connection: SshConnection;
  readonly slurm: SlurmClient;
  readonly watcher: JobWatcher;
  /** Absolute remote work dir; every remote path the operator writes lives under it. */
  readonly workDir: string;
  /** SFTP helpers confined to workDir. */
  readonly files: RemoteFiles;
  /**
   * Uploads `bytes` once per content to `<workDir>/bin/<sha256-prefix>-<name>` (atomic, mode 0755 for
   * executables or 0644) and returns the absolute remote path. Concurrent calls for the same content share
   * one upload; later calls are answered from memory after a cheap existence check.
   */
  ensureUploaded(name: string, bytes: Buffer, mode?: number): Promise<string>;
  /**
   * undici's fetch() to http://host:port/... on the cluster (a compute node), carried by SSH direct-tcpip
   * channels of the shared connection. `timeoutMs` (default 10 s) bounds the whole request.
   */
  fetch(url: string, init?: RequestInit & { timeoutMs?: number }): Promise<Response>;
}

export interface JobWatcher {
  /** Replace the set of job ids `owner` cares about; an empty list is the same as `unwatch`. */
  watch(owner: OwnerKey, jobIds: readonly string[]): void;
  unwatch(owner: OwnerKey): void;
  /** The latest state from the last batched poll; undefined until a poll has seen the id. */
  get(jobId: string): JobLookup | undefined;
  /** Something just started (a submit): poll soon and keep the fast interval for a while. */
  expedite(): void;
  /**
   * One batched poll now (shared with a poll already in flight), for a reconcile that needs a state the
   * cache does not have yet, e.g. after an operator restart.
   */
  pollNow(): Promise<void>;
  /** Batched queries sent so far (one remote command each, whatever the number of owners). */
  readonly polls: number;
}

export type SessionUnavailableReason = 'ClusterNotFound' | 'ClusterNotReady';

export type SessionLookup =
  | { readonly ok: true; readonly session: ClusterSession }
  | { readonly ok: false; readonly reason: SessionUnavailableReason; readonly message: string };

export interface ClusterRegistry {
  /** The session of a SlurmCluster, or why there is none (missing object, no Secret, SSH down, ...). */
  lookup(cluster: ClusterKey): SessionLookup;
  /** Called with the owner key whenever one of its watched jobs changes state (the manager enqueues it). */
  onJobChange(listener: (owner: OwnerKey) => void): void;
  /** Called with the cluster key when a session becomes usable or unusable (benchmarks waiting on it re-run). */
  onSessionChange(listener: (cluster: ClusterKey) => void): void;
  /** Connection states for the SSH connection-state gauge. */
  connectionStates(): ReadonlyMap<ClusterKey, ConnectionState>;
}
