import { createHash } from 'node:crypto';
import type { SlurmClusterSpec } from '../../crds/index.js';
import type { ConnectionState } from '../../slurm-bridge/index.js';
import {
  type ClusterSessionImpl,
  type OpenSessionOptions,
  openClusterSession,
  type SessionCredentials,
} from './session.js';
import type {
  ClusterKey,
  ClusterRegistry,
  ClusterSession,
  OwnerKey,
  SessionLookup,
  SessionUnavailableReason,
} from './types.js';

type Opener = (options: OpenSessionOptions) => Promise<ClusterSessionImpl>;

interface Entry {
  session: ClusterSessionImpl;
  /** Hash of the spec and the credentials the session was built from. */
  fingerprint: string;
}

export interface RegistryOptions {
  /** Everything openClusterSession needs but the per-cluster parts. */
  base: Omit<OpenSessionOptions, 'key' | 'spec' | 'credentials' | 'onJobChange'>;
  open?: Opener;
}

/**
 * Owns every cluster session: ONE SSH connection per SlurmCluster, shared by everything that talks to
 * it. The SlurmCluster controller builds sessions (`ensure`) and removes them; every other part of the
 * operator only looks them up.
 */
export class SessionRegistry implements ClusterRegistry {
  private readonly entries = new Map<ClusterKey, Entry>();
  private readonly opening = new Map<ClusterKey, Promise<ClusterSessionImpl>>();
  private readonly unavailable = new Map<ClusterKey, { reason: SessionUnavailableReason; message: string }>();
  private readonly jobListeners: Array<(owner: OwnerKey) => void> = [];
  private readonly sessionListeners: Array<(cluster: ClusterKey) => void> = [];
  private readonly open: Opener;

  constructor(private readonly options: RegistryOptions) {
    this.open = options.open ?? openClusterSession;
  }

  lookup(cluster: ClusterKey): SessionLookup {
    const entry = this.entries.get(cluster);
    if (entry && entry.session.connection.state.status !== 'failed')
      return { ok: true, session: entry.session };
    const known = this.unavailable.get(cluster);
    if (known) return { ok: false, ...known };
    if (entry) {
      const state = entry.session.connection.state;
      return {
        ok: false,
        reason: 'ClusterNotReady',
        message: `SSH to SlurmCluster ${cluster} failed: ${state.status === 'failed' ? state.message : state.status}`,
      };
    }
    return { ok: false, reason: 'ClusterNotReady', message: `SlurmCluster ${cluster} is not connected yet` };
  }

  onJobChange(listener: (owner: OwnerKey) => void): void {
    this.jobListeners.push(listener);
  }

  onSessionChange(listener: (cluster: ClusterKey) => void): void {
    this.sessionListeners.push(listener);
  }

  connectionStates(): ReadonlyMap<ClusterKey, ConnectionState> {
    return new Map([...this.entries].map(([key, entry]) => [key, entry.session.connection.state]));
  }

  /** Total batched job queries sent, over every cluster (the operator benchmark reads it). */
  totalPolls(): number {
    let polls = 0;
    for (const entry of this.entries.values()) polls += entry.session.watcher.polls;
    return polls;
  }

  /**
   * The session for this spec and these credentials: the existing one when nothing changed, else a new
   * connection (the old one is closed once the new one works). Rejects with the connection's typed error.
   */
  async ensure(
    cluster: ClusterKey,
    spec: SlurmClusterSpec,
    credentials: SessionCredentials,
  ): Promise<ClusterSession> {
    const fingerprint = fingerprintOf(spec, credentials);
    const current = this.entries.get(cluster);
    if (
      current &&
      current.fingerprint === fingerprint &&
      current.session.connection.state.status !== 'failed'
    ) {
      // Same connection, maybe other defaults, modules or runtime: later submits must use the new spec.
      current.session.spec = spec;
      return current.session;
    }
    const inFlight = this.opening.get(cluster);
    if (inFlight) return inFlight;
    const opening = this.open({
      ...this.options.base,
      key: cluster,
      spec,
      credentials,
      onJobChange: (owner) => {
        for (const listener of this.jobListeners) listener(owner);
      },
    });
    this.opening.set(cluster, opening);
    try {
      const session = await opening;
      this.entries.set(cluster, { session, fingerprint });
      this.unavailable.delete(cluster);
      if (current) await current.session.close();
      this.notifySession(cluster);
      return session;
    } catch (error) {
      this.markUnavailable(
        cluster,
        'ClusterNotReady',
        error instanceof Error ? error.message : String(error),
      );
      throw error;
    } finally {
      this.opening.delete(cluster);
    }
  }

  /** Records why a cluster has no usable session (bad Secret, SSH refused...), for benchmarks to show. */
  markUnavailable(cluster: ClusterKey, reason: SessionUnavailableReason, message: string): void {
    const before = this.unavailable.get(cluster);
    this.unavailable.set(cluster, { reason, message });
    if (!before || before.message !== message) this.notifySession(cluster);
  }

  /** The SlurmCluster is gone: close its connection and remember why benchmarks cannot use it. */
  async remove(cluster: ClusterKey): Promise<void> {
    const entry = this.entries.get(cluster);
    this.entries.delete(cluster);
    this.unavailable.set(cluster, {
      reason: 'ClusterNotFound',
      message: `SlurmCluster ${cluster} does not exist`,
    });
    if (entry) await entry.session.close();
    this.notifySession(cluster);
  }

  async closeAll(): Promise<void> {
    const entries = [...this.entries.values()];
    this.entries.clear();
    await Promise.allSettled(entries.map((entry) => entry.session.close()));
  }

  private notifySession(cluster: ClusterKey): void {
    for (const listener of this.sessionListeners) listener(cluster);
  }
}

function fingerprintOf(spec: SlurmClusterSpec, credentials: SessionCredentials): string {
  // Only what the connection is built from: a monitoring or defaults change must not reconnect.
  const connectionPart = {
    host: spec.host,
    port: spec.port,
    user: spec.user,
    workDir: spec.workDir,
  };
  return createHash('sha256')
    .update(JSON.stringify(connectionPart))
    .update('\0')
    .update(credentials.privateKey)
    .update('\0')
    .update(credentials.knownHosts)
    .digest('hex');
}
